"""The public catalogue and the self-service sign-up body and answer."""
from __future__ import annotations

from marshmallow import fields, validate

from ..models import EstadoEmpresa, EstadoSuscripcion, Periodo
from ..pagination import PaginationArgs
from .base import BaseSchema, EnumValue, Id, Money, UTCDateTime
from .usuario import UsuarioSchema
from .validators import Country, Email, Nit, Phone, Trimmed


class PlanServicioPublicoSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()
    cantidad = fields.Integer()


class PlanPublicoSchema(BaseSchema):
    """An active plan with its active services and their limits."""

    id = fields.Integer()
    nombre = fields.String()
    descripcion = fields.String(allow_none=True)
    precio_mensual = Money()
    precio_anual = Money()
    seleccionado = fields.Boolean()
    activo = fields.Boolean()
    servicios = fields.List(fields.Nested(PlanServicioPublicoSchema))


class ServicioPublicoSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()
    descripcion = fields.String(allow_none=True)
    url_api = fields.String(allow_none=True)
    activo = fields.Boolean()


class ServiciosQuerySchema(PaginationArgs):
    activos = fields.Boolean(load_default=False,
                             metadata={"description": "1/true: only active services."})


class EmpresaPublicaSchema(BaseSchema):
    """Only what anyone may know about a company."""

    id = fields.Integer()
    nombre = fields.String()
    estado = EnumValue(EstadoEmpresa)


class EmpresaAltaSchema(BaseSchema):
    nit = Nit(required=True, metadata={"example": "900123456-7"})
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=200))
    contacto = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = Email(load_default=None, allow_none=True)
    telefono = Phone(load_default=None, allow_none=True)
    direccion = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=255))
    ciudad = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=120))
    pais = Country(load_default=None, allow_none=True)


class UsuarioAltaSchema(BaseSchema):
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=150))
    email = Email(required=True)
    password = fields.String(required=True, load_only=True)


class SuscripcionPublicaSchema(BaseSchema):
    """`POST /public/suscripcion` body."""

    empresa = fields.Nested(EmpresaAltaSchema, required=True)
    usuario = fields.Nested(UsuarioAltaSchema, required=True)
    plan_id = Id(required=True, strict=True)
    periodo = EnumValue(Periodo, required=True)


class EmpresaCreadaSchema(BaseSchema):
    id = fields.Integer()
    nit = fields.String()
    nombre = fields.String()
    contacto = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    telefono = fields.String(allow_none=True)
    direccion = fields.String(allow_none=True)
    ciudad = fields.String(allow_none=True)
    pais = fields.String(allow_none=True)
    estado = EnumValue(EstadoEmpresa)
    created_at = UTCDateTime()


class PlanNombreSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()


class SuscripcionCreadaSchema(BaseSchema):
    id = fields.Integer()
    empresa_id = fields.Integer()
    plan_id = fields.Integer()
    plan = fields.Nested(PlanNombreSchema)
    periodo = EnumValue(Periodo)
    fecha_inicio = fields.Date()
    fecha_fin = fields.Date()
    estado = EnumValue(EstadoSuscripcion)
    precio_pagado = Money()
    porcentaje_descuento = Money()
    renovacion_automatica = fields.Boolean()
    created_at = UTCDateTime()


class AltaPublicaSchema(BaseSchema):
    """`POST /public/suscripcion` answer (201)."""

    empresa = fields.Nested(EmpresaCreadaSchema)
    usuario = fields.Nested(UsuarioSchema)
    suscripcion = fields.Nested(SuscripcionCreadaSchema)
    registro_token = fields.String(metadata={"description": "For /auth/registro/confirmar-otp."})
    pendiente_activacion = fields.Boolean(dump_default=True)
