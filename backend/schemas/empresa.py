"""The Empresa resource (admin bodies and answers) and its list filters."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models import EstadoEmpresa
from ..pagination import PaginationArgs
from .base import BaseSchema, EnumValue, UTCDateTime
from .validators import Country, Email, Nit, Phone, Trimmed


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


class EmpresaQuerySchema(PaginationArgs):
    q = fields.String(metadata={"description": "Part of the NIT or of the name."})
    estado = EnumValue(EstadoEmpresa)


class EmpresaUpdateSchema(EmpresaSchema):
    """PUT body: any subset of the fields (use with `partial=True`); those not sent stay."""
