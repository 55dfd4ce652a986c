"""The Suscripcion resource: admin bodies and answers, lifecycle actions, and the
customer's own view (`/account/subscriptions`)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from marshmallow import fields, validate

from ..models import EstadoSuscripcion, Periodo
from ..pagination import PaginationArgs
from .base import TEXT_MAX, BaseSchema, EnumValue, Id, Money, UTCDateTime
from .catalogo import PlanServicioItemSchema

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
    fecha_inicio = fields.Date(validate=FECHA, metadata={"description": "Default: today (UTC)."})
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


class SuscripcionQuerySchema(PaginationArgs):
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
    servicios = fields.List(fields.Nested(PlanServicioItemSchema), attribute="plan_servicios")


class CuentaSuscripcionSchema(SuscripcionSchema):
    """A subscription as its own company sees it: the plan with its services."""

    plan = fields.Nested(PlanConServiciosSchema, dump_only=True)


class RenovacionAutomaticaSchema(BaseSchema):
    renovacion_automatica = fields.Boolean(required=True)
