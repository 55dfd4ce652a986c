"""Support payments for staff: `/admin/soporte-pagos`."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ...identity.guards import auth_required, current_usuario
from ..schemas import SoportePagoQuerySchema, SoportePagoSchema, SoportePagoUpdateSchema
from ..services import pagos
from . import STAFF

blp = Blueprint("admin_soporte_pagos", __name__, url_prefix="/admin/soporte-pagos",
                description="Pagos de suscripciones de soporte; uno `exitoso` activa una "
                            "suscripción `pendiente_pago`.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoportePagoQuerySchema, location="query")
@blp.response(200, page_of(SoportePagoSchema))
def listar(args):
    """List payments, newest first (filters `soporte_suscripcion_id`, `estado`)."""
    return pagos.listar(**args)


@blp.route("/<int:pago_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, SoportePagoSchema)
def obtener(pago_id):
    """One payment."""
    return pagos.obtener(pago_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoportePagoSchema)
@blp.response(201, SoportePagoSchema)
def crear(datos):
    """Record a payment; an `exitoso` one activates a `pendiente_pago` support subscription."""
    return pagos.crear(datos, current_usuario())


@blp.route("/<int:pago_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoportePagoUpdateSchema)
@blp.response(200, SoportePagoSchema)
def actualizar(datos, pago_id):
    """Update a payment (e.g. `pendiente` to `exitoso`); an `exitoso` payment stays so."""
    return pagos.actualizar(pago_id, datos)


@blp.route("/<int:pago_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(204)
def eliminar(pago_id):
    """Delete a payment that did not succeed (409 for an `exitoso` one)."""
    pagos.eliminar(pago_id)
