"""The `usuario` object of CONTRACT.md (never a hash, secret or code)."""
from __future__ import annotations

from marshmallow import fields

from ..models import Rol
from .base import BaseSchema, EnumValue, UTCDateTime


class UsuarioSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    nombre = fields.String()
    email = fields.String()
    rol = EnumValue(Rol)
    empresa_id = fields.Integer(allow_none=True)
    is_active = fields.Boolean()
    otp_enabled = fields.Boolean()
    telefono = fields.String(allow_none=True)
    direccion = fields.String(allow_none=True)
    ciudad = fields.String(allow_none=True)
    pais = fields.String(allow_none=True)
    fecha_nacimiento = fields.Date(allow_none=True)
    email_verificado = fields.Boolean()
    created_at = UTCDateTime(dump_only=True)

