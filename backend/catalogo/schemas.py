"""Plans, services and the services (with `cantidad`) each plan includes, as staff see them."""
from __future__ import annotations

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from ..core.pagination import CursorPaginationArgs
from ..core.schemas import MAX_INT, TEXT_MAX, BaseSchema, Id, Money, UTCDateTime
from ..core.validators import Trimmed

CANTIDAD = validate.Range(min=1, max=MAX_INT, error="Debe ser un entero entre 1 y {max}.")


class PlanServicioItemSchema(BaseSchema):
    """A service of a plan with its limit."""

    id = fields.Integer(dump_only=True, attribute="servicio_id")
    nombre = fields.String(dump_only=True, attribute="servicio.nombre")
    cantidad = fields.Integer(dump_only=True)


class PlanSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=120))
    descripcion = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    precio_mensual = Money(required=True)
    precio_anual = Money(required=True)
    seleccionado = fields.Boolean(load_default=False)
    activo = fields.Boolean(load_default=True)
    servicios = fields.List(fields.Nested(PlanServicioItemSchema), dump_only=True,
                            attribute="plan_servicios")
    created_at = UTCDateTime(dump_only=True)


class PlanUpdateSchema(PlanSchema):
    """PUT body: any subset of the fields (loaded with `partial=True`)."""


class ServicioSchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    nombre = Trimmed(required=True, validate=validate.Length(min=1, max=120))
    descripcion = fields.String(allow_none=True, validate=validate.Length(max=TEXT_MAX))
    url_api = Trimmed(allow_none=True, validate=validate.Length(max=500))
    activo = fields.Boolean(load_default=True)
    created_at = UTCDateTime(dump_only=True)


class ServicioUpdateSchema(ServicioSchema):
    """PUT body: any subset of the fields (loaded with `partial=True`)."""


class CatalogoQuerySchema(CursorPaginationArgs):
    activo = fields.Boolean(metadata={"description": "Only active (true) or inactive (false) ones."})
    q = fields.String(metadata={"description": "Part of the name."})


class ServicioCantidadSchema(BaseSchema):
    servicio_id = Id(required=True)
    cantidad = fields.Integer(load_default=1, validate=CANTIDAD)


class PlanServiciosSetSchema(BaseSchema):
    """The whole set of a plan's services: `servicios` with limits, or the legacy `servicio_ids`
    (each with cantidad 1). Exactly one of the two."""

    servicios = fields.List(fields.Nested(ServicioCantidadSchema))
    servicio_ids = fields.List(Id(), metadata={"deprecated": True})

    @validates_schema
    def _one_form(self, data, **_kwargs):
        if ("servicios" in data) == ("servicio_ids" in data):
            raise ValidationError("Envíe `servicios` o `servicio_ids` (solo uno).", "servicios")
        field = "servicios" if "servicios" in data else "servicio_ids"
        ids = [item["servicio_id"] for item in self._items(data)]
        if len(ids) != len(set(ids)):
            raise ValidationError("Un servicio aparece más de una vez.", field)

    @staticmethod
    def _items(data) -> list[dict]:
        if "servicios" in data:
            return data["servicios"]
        return [{"servicio_id": i, "cantidad": 1} for i in data["servicio_ids"]]

    @post_load
    def _as_items(self, data, **_kwargs):
        """Both forms become `[{servicio_id, cantidad}]`."""
        return self._items(data)


class CantidadSchema(BaseSchema):
    cantidad = fields.Integer(load_default=1, validate=CANTIDAD)


class ResumenPlanServiciosSchema(BaseSchema):
    """One plan in the plan–service summary."""

    id = fields.Integer()
    nombre = fields.String()
    activo = fields.Boolean()
    precio_mensual = Money()
    precio_anual = Money()
    servicios = fields.List(fields.Nested(PlanServicioItemSchema))
    total_servicios = fields.Integer(metadata={"description": "How many services the plan includes."})
    suscripciones_activas = fields.Integer(
        metadata={"description": "Subscriptions in `activa` on this plan."})
    suscripciones_total = fields.Integer(
        metadata={"description": "Subscriptions on this plan in any state."})
