"""Users as staff create and edit them (`/admin/usuarios`); answers are the contract's `usuario`."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models import Rol
from ..pagination import PaginationArgs
from .base import BaseSchema, EnumValue, Id
from .validators import Email, Phone, Trimmed


class AdminUsuarioSchema(BaseSchema):
    """Create body: a user created by staff is active and needs no activation."""

    nombre = Trimmed(required=True, validate=validate.Length(max=150))
    email = Email(required=True)
    password = fields.String(required=True, load_only=True)
    rol = EnumValue(Rol, load_default=Rol.CLIENTE)
    empresa_id = Id(allow_none=True)
    telefono = Phone(allow_none=True)
    is_active = fields.Boolean(load_default=True)


class AdminUsuarioUpdateSchema(BaseSchema):
    """PUT body: any subset; the password changes only through `cambiar-password`."""

    nombre = Trimmed(validate=validate.Length(min=1, max=150))
    email = Email()
    rol = EnumValue(Rol)
    empresa_id = Id(allow_none=True)
    telefono = Phone(allow_none=True)
    is_active = fields.Boolean()


class UsuarioQuerySchema(PaginationArgs):
    q = fields.String(metadata={"description": "Part of the name or email."})
    rol = EnumValue(Rol)
    empresa_id = Id()
    is_active = fields.Boolean()


class NuevaPasswordSchema(BaseSchema):
    password = fields.String(required=True, load_only=True)
