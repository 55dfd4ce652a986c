"""One-time secrets (a login challenge, an emailed code, a reset token's second factor) are rows
with `intentos` and `used_at`. Every answer counts an attempt BEFORE it is compared (`claim`:
one conditional UPDATE, committed at once), so however many requests answer at the same time,
at most MAX_ATTEMPTS of them ever compare; the MAX_ATTEMPTS-th wrong answer burns the secret
(`fail`); a right one spends it exactly once (`spend`), or gives its attempt back when the
secret is only being checked (`give_back`)."""
from __future__ import annotations

from sqlalchemy import inspect, update

from ...core.models import utcnow
from ...extensions import db

MAX_ATTEMPTS = 5


def _update(row):
    model = type(row)
    row_id = inspect(row).identity[0]  # no reload of a row expired by the commit of `claim`
    return update(model).where(model.id == row_id).execution_options(synchronize_session=False)


def claim(row) -> bool:
    """Count one attempt at `row` before its secret is compared: False (compare nothing) when
    it is spent, burnt or out of attempts. Commits, so the attempt stays counted whatever the
    answer, and another request's claim never waits on this one."""
    model = type(row)
    result = db.session.execute(
        _update(row).where(model.used_at.is_(None), model.intentos < MAX_ATTEMPTS)
        .values(intentos=model.intentos + 1)
    )
    db.session.commit()
    return result.rowcount == 1


def fail(row) -> None:
    """A wrong answer after `claim`: the secret is burnt once its last attempt is used (caller
    commits)."""
    model = type(row)
    db.session.execute(
        _update(row).where(model.used_at.is_(None), model.intentos >= MAX_ATTEMPTS)
        .values(used_at=utcnow())
    )


def give_back(row) -> None:
    """A right answer that does not spend the secret (a check before the real use): the attempt
    it claimed is returned (caller commits)."""
    model = type(row)
    db.session.execute(_update(row).where(model.intentos > 0).values(intentos=model.intentos - 1))


def spend(row) -> bool:
    """Mark `row` used with one conditional UPDATE; False when another request spent it first."""
    model = type(row)
    result = db.session.execute(_update(row).where(model.used_at.is_(None)).values(used_at=utcnow()))
    return result.rowcount == 1
