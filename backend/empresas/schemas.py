"""The Empresa resource (admin bodies and answers), its list filters, and its API keys."""
from __future__ import annotations

from marshmallow import fields, validate

from ..core.pagination import CursorPaginationArgs
from ..core.schemas import BaseSchema, EnumValue, UTCDateTime
from ..core.validators import Country, Email, Nit, Phone, Trimmed
from .models import EstadoEmpresa


class EmpresaSchema(BaseSchema):
    """A company as staff see it; the same names in create and update bodies."""

    id = fields.Integer(dump_only=True)
    nit = Nit(required=True, metadata={"example": "900123456-7"})
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    contacto = Trimmed(allow_none=True, validate=validate.Length(max=200))
    email = Email(allow_none=True)
    telefono = Phone(allow_none=True, metadata={"description": "E.164 once normalised."})
    direccion = Trimmed(allow_none=True, validate=validate.Length(max=255))
    ciudad = Trimmed(allow_none=True, validate=validate.Length(max=120))
    pais = Country(allow_none=True, metadata={"description": "ISO 3166-1 alpha-2."})
    estado = EnumValue(EstadoEmpresa, load_default=EstadoEmpresa.ACTIVA)
    created_at = UTCDateTime(dump_only=True)


class EmpresaQuerySchema(CursorPaginationArgs):
    q = fields.String(metadata={"description": (
        "Words, each the beginning of a word of the NIT or the name (accents and case ignored; "
        "every word must match). A NIT may be pasted whole, with or without dots and check "
        "digit. No word at all (only punctuation) matches nothing.")})
    estado = EnumValue(EstadoEmpresa)


class EmpresaUpdateSchema(EmpresaSchema):
    """PUT body: any subset of the fields (use with `partial=True`); those not sent stay."""


# ---------------------------------------------------------------- API keys

class ApiKeyCreateSchema(BaseSchema):
    nombre = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=120))


class ApiKeySchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    empresa_id = fields.Integer(dump_only=True)
    nombre = fields.String(allow_none=True)
    prefijo = fields.String(dump_only=True, metadata={"example": "sk_1a2b3c4d"})
    activa = fields.Function(lambda key: key.revoked_at is None, dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    last_used_at = UTCDateTime(dump_only=True, allow_none=True)
    revoked_at = UTCDateTime(dump_only=True, allow_none=True)


class ApiKeyCreatedSchema(BaseSchema):
    """The answer of `POST`: the only time `api_key` is shown."""

    id = fields.Integer()
    nombre = fields.String(allow_none=True)
    prefijo = fields.String()
    api_key = fields.String(metadata={"description": "The full key; it is not stored and never shown again."})
    created_at = UTCDateTime()
