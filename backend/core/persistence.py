"""Small persistence steps every service repeats: load or 404, unique or 409, and saving a
change in one commit (the audit row is written by the session hook of core.audit)."""
from __future__ import annotations

from sqlalchemy import select

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
