"""Audit rows as staff read them."""
from __future__ import annotations

from marshmallow import fields

from ..core.audit import AccionAuditoria
from ..core.pagination import CursorPaginationArgs
from ..core.schemas import BaseSchema, EnumValue, Id, UTCDateTime


class AuditoriaSchema(BaseSchema):
    id = fields.Integer()
    tabla = fields.String()
    registro_id = fields.String(
        metadata={"description": "The record id; `plan:servicio` for plan_servicios."})
    accion = EnumValue(AccionAuditoria)
    valores_anteriores = fields.Dict(allow_none=True)
    valores_nuevos = fields.Dict(allow_none=True)
    usuario_id = fields.Integer(allow_none=True)
    ip = fields.String(allow_none=True)
    created_at = UTCDateTime()


class AuditoriaQuerySchema(CursorPaginationArgs):
    tabla = fields.String()
    registro_id = fields.String()
    usuario_id = Id()
