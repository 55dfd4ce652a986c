"""The Suscripcion resource (admin bodies and answers, lifecycle actions), the customer's
own view (`/account/subscriptions`), and the public face: the catalogue as `/public` shows it
and the self-service sign-up body and answer.

Contract objects owned by another domain (the `usuario` object, a plan's service item) are
nested by schema name: defined once by their domain, never imported from it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import fields, validate

from ..core.pagination import CursorPaginationArgs
from ..core.schemas import TEXT_MAX, BaseSchema, EnumValue, Id, Money, UTCDateTime, fecha_doc
from ..core.validators import Country, Email, NewPassword, Nit, Phone, Trimmed
from ..empresas.models import EstadoEmpresa
from .models import EstadoSuscripcion, Periodo

PORCENTAJE = validate.Range(min=0, max=100, error="Debe estar entre 0 y 100.")
# Far enough for any real start date; a year near 9999 would overflow the period arithmetic.
FECHA = validate.Range(min=date(1900, 1, 1), max=date(2999, 12, 31),
                       error="Debe estar entre {min} y {max}.")


class SuscripcionPlanSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()


class SuscripcionSchema(BaseSchema):
    """A subscription; staff create it with the writable fields, the server sets the `ro` ones."""

    id = fields.Integer(dump_only=True)
    empresa_id = Id(required=True)
    plan_id = Id(required=True)
    plan = fields.Nested(SuscripcionPlanSchema, dump_only=True)
    periodo = EnumValue(Periodo, required=True)
    fecha_inicio = fields.Date(validate=FECHA, metadata=fecha_doc("Default: today (UTC)."))
    fecha_fin = fields.Date(dump_only=True, metadata={
        "description": "Inclusive last day: fecha_inicio plus one month (or year) minus one day."})
    estado = EnumValue(EstadoSuscripcion, dump_only=True)
    precio_pagado = Money(dump_only=True, metadata={
        "description": "The plan's price for the period less porcentaje_descuento, at creation, "
                       "renewal or discount change."})
    porcentaje_descuento = fields.Decimal(load_default=Decimal("0"), places=2, as_string=False,
                                          validate=PORCENTAJE)
    renovacion_automatica = fields.Boolean(load_default=False)
    motivo_cancelacion = fields.String(dump_only=True, allow_none=True)
    notas = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    creado_por = fields.Integer(dump_only=True, allow_none=True)
    created_at = UTCDateTime(dump_only=True)


class SuscripcionQuerySchema(CursorPaginationArgs):
    empresa_id = Id()
    estado = EnumValue(EstadoSuscripcion)
    plan_id = Id()


class CancelarSchema(BaseSchema):
    motivo_cancelacion = fields.String(allow_none=True, validate=validate.Length(max=2000))


class DescuentoSchema(BaseSchema):
    porcentaje_descuento = fields.Decimal(required=True, places=2, as_string=False,
                                          validate=PORCENTAJE)


class PlanConServiciosSchema(BaseSchema):
    id = fields.Integer()
    nombre = fields.String()
    descripcion = fields.String(allow_none=True)
    servicios = fields.List(fields.Nested("PlanServicioItemSchema"), attribute="plan_servicios")


class CuentaSuscripcionSchema(SuscripcionSchema):
    """A subscription as its own company sees it: the plan with its services."""

    plan = fields.Nested(PlanConServiciosSchema, dump_only=True)


class RenovacionAutomaticaSchema(BaseSchema):
    renovacion_automatica = fields.Boolean(required=True)


# ---------------------------------------------------------------- public catalogue and sign-up


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


class ServiciosQuerySchema(CursorPaginationArgs):
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
    password = NewPassword(required=True)


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
    usuario = fields.Nested("UsuarioSchema")
    suscripcion = fields.Nested(SuscripcionCreadaSchema)
    registro_token = fields.String(metadata={"description": "For /auth/registro/confirmar-otp."})
    pendiente_activacion = fields.Boolean(dump_default=True)
