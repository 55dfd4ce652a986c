"""Audit rows for staff changes: table, record id, action, old and new values, user, IP."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from flask import has_request_context, request
from flask_jwt_extended import current_user
from sqlalchemy import inspect

from ..extensions import db
from ..models import AccionAuditoria, Auditoria

# Never copied into an audit row.
SECRET_COLUMNS = {"password_hash", "otp_secret_enc", "otp_last_step", "key_hash", "code_hash"}


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(instance) -> dict:
    """The column values of a model instance, JSON-ready, without secrets."""
    mapper = inspect(instance).mapper
    return {
        column.key: _jsonable(getattr(instance, column.key))
        for column in mapper.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def _record_id(instance) -> str:
    identity = inspect(instance).identity or ()
    return ":".join(str(part) for part in identity)


def _actor_id() -> int | None:
    try:
        return current_user.id if current_user else None
    except RuntimeError:  # outside a JWT-verified request (CLI, panel)
        return None


def record(accion: AccionAuditoria | str, instance, antes: dict | None = None,
           despues: dict | None = None, usuario_id: int | None = None) -> Auditoria:
    """Add an audit row for `instance` to the session (committed with the change itself).

    Call after a flush so new rows have their id. For updates pass the `snapshot` taken
    before the change as `antes`; `despues` defaults to the current snapshot (None on delete).
    """
    accion = AccionAuditoria(str(accion))
    if despues is None and accion != AccionAuditoria.ELIMINAR:
        despues = snapshot(instance)
    if antes is not None and despues is not None and accion == AccionAuditoria.ACTUALIZAR:
        changed = {k for k in set(antes) | set(despues) if antes.get(k) != despues.get(k)}
        changed.discard("updated_at")
        antes = {k: antes.get(k) for k in changed}
        despues = {k: despues.get(k) for k in changed}
    row = Auditoria(
        tabla=instance.__tablename__,
        registro_id=_record_id(instance),
        accion=accion,
        valores_anteriores=antes,
        valores_nuevos=despues,
        usuario_id=usuario_id if usuario_id is not None else _actor_id(),
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(row)
    return row
