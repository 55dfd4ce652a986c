"""One-time secrets (a login challenge, an emailed code, a reset token) are rows with
`intentos` and `used_at`: a wrong answer counts an attempt and the MAX_ATTEMPTS-th burns the
secret; a right one spends it exactly once, even when two requests answer at the same time."""
from __future__ import annotations

from sqlalchemy import update

from ...core.models import utcnow
from ...extensions import db

MAX_ATTEMPTS = 5


def count_failure(row) -> None:
    """One more wrong answer to `row`; burnt once it reaches MAX_ATTEMPTS (caller commits)."""
    row.intentos += 1
    if row.intentos >= MAX_ATTEMPTS:
        row.used_at = utcnow()


def spend(row) -> bool:
    """Mark `row` used with one conditional UPDATE; False when another request spent it first."""
    model = type(row)
    result = db.session.execute(
        update(model).where(model.id == row.id, model.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
