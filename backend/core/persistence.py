"""Small persistence steps every service repeats: load or 404, unique or 409, and saving a
change in one commit (the audit row is written by the session hook of core.audit)."""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError

from ..extensions import db
from .errors import Conflict, NotFound
from .schemas import MAX_INT


def is_db_id(ident) -> bool:
    """Whether `ident` can be a row id at all (for ids typed outside HTTP, e.g. the CLI; path
    ids are bounded by core.api.DbIdConverter and body ids by core.schemas.Id)."""
    return isinstance(ident, int) and 0 < ident <= MAX_INT


def get_or_404(model, ident, message: str):
    """The row of `model` with primary key `ident`, else 404 with `message`."""
    instance = db.session.get(model, ident)
    if instance is None:
        raise NotFound(message)
    return instance


def ensure_unique(column, value, message: str, *, code: str = "conflicto",
                  excluding_id: int | None = None, detail: str = "Ya está en uso.") -> None:
    """409 (`code`, details naming the field) when another row already has `value` in `column`."""
    model = column.class_
    stmt = select(model.id).where(column == value)
    if excluding_id is not None:
        stmt = stmt.where(model.id != excluding_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise Conflict(message, code=code, details={column.key: [detail]})


def where_given(stmt, conditions: dict):
    """`stmt` narrowed by `column == value` for every value that was given (not None): the
    optional equality filters of a list."""
    for column, value in conditions.items():
        if value is not None:
            stmt = stmt.where(column == value)
    return stmt


def matching(stmt, q: str | None, *columns):
    """`stmt` narrowed to rows where some of `columns` contains `q`, whatever the case, with
    `%` and `_` as plain characters (never wildcards); unchanged for a blank `q`."""
    texto = (q or "").strip().lower()
    if not texto:
        return stmt
    return stmt.where(or_(*(func.lower(column).contains(texto, autoescape=True) for column in columns)))


def create(instance):
    """Insert `instance` and commit."""
    db.session.add(instance)
    db.session.commit()
    return instance


def delete(instance) -> None:
    """Delete `instance` and commit."""
    db.session.delete(instance)
    db.session.commit()


def update(instance, values: dict) -> bool:
    """Apply `values` and commit when something changed; returns whether anything did."""
    for field, value in values.items():
        setattr(instance, field, value)
    if not db.session.is_modified(instance):
        return False
    db.session.commit()
    return True


# MySQL/MariaDB: 1205 lock wait timeout, 1213 deadlock. SQLite: "database is locked".
LOCK_CONFLICT_CODES = frozenset({1205, 1213})
T = TypeVar("T")


def is_lock_conflict(exc: OperationalError) -> bool:
    """Whether `exc` means the transaction lost a race for a lock (safe to run again)."""
    args = getattr(exc.orig, "args", ()) or ()
    return (bool(args) and args[0] in LOCK_CONFLICT_CODES) or "database is locked" in str(exc.orig)


def retry_on_lock_conflict(work: Callable[[], T], attempts: int = 5) -> T:
    """Run `work` (a whole transaction, commit included); when it loses a race for a row lock,
    roll back and run it again, so the caller never sees a deadlock as an error."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            db.session.rollback()
            if attempt == attempts - 1 or not is_lock_conflict(exc):
                raise
            time.sleep(0.02 * (2 ** attempt) * (1 + random.random()))  # jitter: racers spread out
    raise AssertionError("unreachable")
