"""The audit trail: one row per create, update and delete of an audited model.

Rows are written by mapper and session hooks (installed by the app factory through
`register`), in the same transaction as the change, whoever makes it: a signed-in user of the
JSON API or the staff panel (the actor named by `set_actor`), or an operator's CLI command.
Requests nobody signed in to (public sign-up, registration, reset links) change only the
caller's own records and are traced in LogAcceso instead.
A model opts in by inheriting `Audited`. Each row keeps the table, the record id, the
action, the old and new values (an update keeps only the changed columns), the acting user
and the client IP. Secrets never enter a row; a changed password is recorded as the fact
that it changed. Bulk UPDATE/DELETE statements bypass the hooks: they are used only for
bookkeeping (sessions, codes, counters), never for an audited change.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, mapped_column, object_session

from ..extensions import db
from .models import StrEnum, enum_column, utcnow


class AccionAuditoria(StrEnum):
    CREAR = "crear"
    ACTUALIZAR = "actualizar"
    ELIMINAR = "eliminar"


class Auditoria(db.Model):
    """One create, update or delete of an audited model."""

    __tablename__ = "auditoria"
    # (filter, id): a filtered list reads its newest rows in index order (core.pagination).
    __table_args__ = (sa.Index("ix_auditoria_tabla_registro", "tabla", "registro_id"),
                      sa.Index("ix_auditoria_tabla_id", "tabla", "id"),
                      sa.Index("ix_auditoria_registro_id_id", "registro_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    tabla: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    # A string so composite keys (plan_servicios "3:7") fit as well as integer ids.
    registro_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    accion: Mapped[AccionAuditoria] = mapped_column(
        enum_column(AccionAuditoria, "accion_auditoria"), nullable=False
    )
    valores_anteriores: Mapped[dict | None] = mapped_column(sa.JSON)
    valores_nuevos: Mapped[dict | None] = mapped_column(sa.JSON)
    usuario_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("usuarios.id", ondelete="SET NULL"), index=True
    )
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False, index=True)


class Audited:
    """Mixin: every create, update and delete of the model leaves an `Auditoria` row.

    `__audit_ignore__` names columns whose change alone is bookkeeping (a sign-in time), not
    a change worth a row; `audit_extra()` adds values to the row of a deletion (a plan's
    services, which go with it).
    """

    __audit_ignore__: frozenset[str] = frozenset()

    def audit_extra(self) -> dict:
        return {}


# Never copied into a row. A changed password is recorded as {"password": "cambiada"}.
SECRET_COLUMNS = frozenset({"password_hash", "otp_secret_enc", "otp_last_step", "key_hash",
                            "code_hash"})
MASKED_CHANGES = {"password_hash": ("password", None, "cambiada")}
ALWAYS_IGNORED = frozenset({"updated_at"})

_ACTOR_KEY = "backend.audit.actor"
_MARKS = "audit_marks"
_PENDING = "audit_pending"
_STORED = "audit_stored_old_values"
_DISABLED = "audit_disabled"


# ---------------------------------------------------------------- who and how

def set_actor(usuario_id: int | None) -> None:
    """Name the user behind this request's (or this CLI run's) changes."""
    if has_request_context():
        # The WSGI environ, unlike `g`, never outlives the request.
        request.environ[_ACTOR_KEY] = usuario_id
    elif has_app_context():
        g.audit_actor_id = usuario_id


def _actor_id() -> int | None:
    if has_request_context():
        return request.environ.get(_ACTOR_KEY)
    return getattr(g, "audit_actor_id", None) if has_app_context() else None


def mark(instance, accion: AccionAuditoria, *, whole_record: bool = False) -> None:
    """Record the next change of `instance` as `accion` (a soft delete is an `eliminar` that
    keeps the row), with every column on both sides when `whole_record`."""
    session = object_session(instance) or db.session
    session.info.setdefault(_MARKS, {})[inspect(instance)] = (accion, whole_record)


@contextmanager
def disabled():
    """Changes made inside are not audited (data that stands for what existed before)."""
    session = db.session()
    session.info[_DISABLED] = True
    try:
        yield
    finally:
        session.info.pop(_DISABLED, None)


# ---------------------------------------------------------------- values

def jsonable(value):
    """A column value as JSON (enums by value, money as a number, UTC times with Z)."""
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
        column.key: jsonable(getattr(instance, column.key))
        for column in mapper.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def _changes(instance, stored: dict) -> tuple[dict, dict]:
    """The (old, new) values of the columns this flush changed, secrets masked or left out;
    `stored` holds old values read from the database for columns set while unloaded."""
    state = inspect(instance)
    ignored = ALWAYS_IGNORED | type(instance).__audit_ignore__
    antes: dict = {}
    despues: dict = {}
    for column in state.mapper.column_attrs:
        key = column.key
        history = state.attrs[key].history
        if not history.has_changes() or key in ignored:
            continue
        old = jsonable(history.deleted[0] if history.deleted else stored.get(key))
        new = jsonable(history.added[0]) if history.added else jsonable(getattr(instance, key))
        if old == new:
            continue
        if key in MASKED_CHANGES:
            name, old, new = MASKED_CHANGES[key]
            key = name
        elif key in SECRET_COLUMNS:
            continue
        antes[key], despues[key] = old, new
    return antes, despues


# ---------------------------------------------------------------- hooks
# Mapper hooks note each change in the session; the changes of one transaction are merged per
# record (several flushes of one update make one row) and written just before it commits.

def _pending(target) -> dict | None:
    """The session's pending audit entries, or None when auditing is off for it."""
    session = object_session(target)
    if session is None or session.info.get(_DISABLED):
        return None
    return session.info.setdefault(_PENDING, {})


def _key(target) -> tuple[str, str]:
    mapper = inspect(target).mapper
    ident = mapper.primary_key_from_instance(target)
    return mapper.local_table.name, ":".join(str(part) for part in ident)


def _after_insert(_mapper, _connection, target) -> None:
    pending = _pending(target)
    if pending is not None:
        pending[_key(target)] = {"accion": AccionAuditoria.CREAR, "antes": None,
                                 "despues": snapshot(target)}


def _after_update(_mapper, _connection, target) -> None:
    pending = _pending(target)
    if pending is None:
        return
    info = object_session(target).info
    antes, despues = _changes(target, info.get(_STORED, {}).pop(inspect(target), {}))
    if not despues:
        return
    marked = info.get(_MARKS, {}).pop(inspect(target), None)
    entry = pending.get(_key(target))
    if entry is None:
        accion, whole_record = marked or (AccionAuditoria.ACTUALIZAR, False)
        pending[_key(target)] = entry = {"accion": accion, "antes": {}, "despues": {},
                                         "whole_record": whole_record}
    elif marked:
        entry["accion"], entry["whole_record"] = marked
    if entry["antes"] is not None:  # an update of a row created in this transaction: no old
        for column, old in antes.items():
            entry["antes"].setdefault(column, old)
    entry["despues"].update(despues)
    if entry.get("whole_record"):
        entry["full"] = snapshot(target)


def _read_unloaded_old_values(session, _flush_context, _instances) -> None:
    """Before a flush: a column set while its old value was not loaded (expired after a commit)
    has no old value in its history; read it from the database, one SELECT per such row."""
    if session.info.get(_DISABLED):
        return
    for instance in session.dirty:
        if not isinstance(instance, Audited):
            continue
        state = inspect(instance)
        if state.key is None:
            continue
        unloaded = [column for column in state.mapper.column_attrs
                    if (history := state.attrs[column.key].history).added and not history.deleted]
        if not unloaded:
            continue
        mapper = state.mapper
        where = [col == value for col, value in zip(mapper.primary_key, state.key[1], strict=True)]
        row = session.connection().execute(
            sa.select(*[column.columns[0] for column in unloaded]).where(*where)).first()
        if row is not None:
            stored = session.info.setdefault(_STORED, {})
            stored[state] = {column.key: value for column, value in zip(unloaded, row, strict=True)}


def _after_delete(_mapper, _connection, target) -> None:
    pending = _pending(target)
    if pending is not None:
        pending[_key(target)] = {"accion": AccionAuditoria.ELIMINAR,
                                 "antes": {**snapshot(target), **target.audit_extra()},
                                 "despues": None}


def _rows(pending: dict) -> list[dict]:
    rows = []
    actor = _actor_id()
    ip = request.remote_addr if has_request_context() else None
    for (tabla, registro_id), entry in pending.items():
        antes, despues = entry["antes"], entry["despues"]
        if entry["accion"] != AccionAuditoria.CREAR and despues is not None:
            changed = {k for k in despues if antes.get(k) != despues[k]}
            if not changed:
                continue  # changed and changed back
            antes = {k: antes.get(k) for k in changed}
            despues = {k: despues[k] for k in changed}
            if entry.get("whole_record"):
                antes, despues = {**entry["full"], **antes}, entry["full"]
        rows.append({"tabla": tabla, "registro_id": registro_id, "accion": entry["accion"],
                     "valores_anteriores": antes, "valores_nuevos": despues,
                     "usuario_id": actor, "ip": ip, "created_at": utcnow()})
    return rows


def _anonymous_request() -> bool:
    """A request nobody signed in to (public sign-up, registration, a reset link): its changes
    are the caller's own account data, traced by LogAcceso, not staff changes to audit."""
    return has_request_context() and _actor_id() is None


def _write_pending(session) -> None:
    """Before the commit: flush what is left, then write the transaction's audit rows."""
    session.flush()
    pending = session.info.pop(_PENDING, None)
    rows = _rows(pending) if pending and not _anonymous_request() else []
    if rows:
        session.connection().execute(Auditoria.__table__.insert(), rows)


def _forget(session, *_args) -> None:
    for key in (_PENDING, _MARKS, _STORED):
        session.info.pop(key, None)


_MAPPER_HOOKS = (("after_insert", _after_insert), ("after_update", _after_update),
                 ("after_delete", _after_delete))
_SESSION_HOOKS = (("before_flush", _read_unloaded_old_values), ("before_commit", _write_pending),
                  ("after_commit", _forget), ("after_rollback", _forget))


def register() -> None:
    """Install the hooks on every `Audited` model and on the app's session (once per process;
    the factory calls it)."""
    for name, hook in _MAPPER_HOOKS:
        if not event.contains(Audited, name, hook):
            event.listen(Audited, name, hook, propagate=True)
    for name, hook in _SESSION_HOOKS:
        if not event.contains(db.session, name, hook):
            event.listen(db.session, name, hook)
