"""Small persistence steps every admin service repeats: load or 404, unique or 409,
and create/update with its audit row in the same transaction."""
from __future__ import annotations

from sqlalchemy import select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import AccionAuditoria
from ..schemas.base import MAX_INT
from .audit import record, snapshot


def is_db_id(ident) -> bool:
    """Whether `ident` can be a row id at all (for ids typed outside HTTP, e.g. the CLI; path
    ids are bounded by backend.api.DbIdConverter and body ids by schemas.base.Id)."""
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


def create_audited(instance):
    """Insert `instance`, write its `crear` audit row and commit."""
    db.session.add(instance)
    db.session.flush()
    record(AccionAuditoria.CREAR, instance)
    db.session.commit()
    return instance


def delete_audited(instance, antes: dict | None = None) -> None:
    """Write the `eliminar` audit row (`antes` defaults to the row's snapshot), delete, commit."""
    record(AccionAuditoria.ELIMINAR, instance, antes=antes if antes is not None else snapshot(instance))
    db.session.delete(instance)
    db.session.commit()


def update_audited(instance, values: dict, accion: AccionAuditoria = AccionAuditoria.ACTUALIZAR,
                   whole_record: bool = False) -> bool:
    """Apply `values`; when something changed, audit (old and new values) and commit.

    `whole_record` keeps every column in the audit row instead of only the changed ones
    (a soft delete records the full record). Returns whether anything changed.
    """
    antes = snapshot(instance)
    for field, value in values.items():
        setattr(instance, field, value)
    if not db.session.is_modified(instance):
        return False
    db.session.flush()
    record(accion, instance, antes=antes, despues=snapshot(instance) if whole_record else None)
    db.session.commit()
    return True
