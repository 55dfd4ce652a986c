"""Reading the audit trail (rows are written by the hook of core.audit)."""
from __future__ import annotations

from sqlalchemy import select

from ..core.audit import Auditoria
from ..core.pagination import paginate
from ..core.persistence import where_given


def listar(tabla: str | None = None, registro_id: str | None = None, usuario_id: int | None = None,
           page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of audit rows, newest first."""
    stmt = where_given(select(Auditoria).order_by(Auditoria.id.desc()), {
        Auditoria.tabla: tabla or None, Auditoria.registro_id: registro_id or None,
        Auditoria.usuario_id: usuario_id})
    return paginate(stmt, page, per_page, cursor)
