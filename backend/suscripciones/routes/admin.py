"""Company subscriptions for staff: `/admin/suscripciones` (rol `admin`)."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ...identity.guards import auth_required, current_usuario
from ...identity.models import Rol
from .. import services as suscripciones
from ..schemas import CancelarSchema, DescuentoSchema, SuscripcionQuerySchema, SuscripcionSchema

blp = Blueprint("admin_suscripciones", __name__, url_prefix="/admin/suscripciones",
                description="Suscripciones de empresas y su ciclo de vida. Transiciones: "
                            "renovar desde activa; suspender desde activa; reactivar desde "
                            "suspendida o inactiva; cancelar desde activa, suspendida o "
                            "inactiva; cancelada es final. Otras: 409.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(SuscripcionQuerySchema, location="query")
@blp.response(200, page_of(SuscripcionSchema))
def listar(args):
    """List subscriptions (filters `empresa_id`, `estado`, `plan_id`)."""
    return suscripciones.listar(**args)


@blp.route("/<int:suscripcion_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, SuscripcionSchema)
def obtener(suscripcion_id):
    """One subscription."""
    return suscripciones.obtener(suscripcion_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(SuscripcionSchema)
@blp.response(201, SuscripcionSchema)
def crear(datos):
    """Create an `activa` subscription; 409 if the company already has one or is inactive."""
    return suscripciones.crear(datos, current_usuario())


@blp.route("/<int:suscripcion_id>/renovar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, SuscripcionSchema)
def renovar(suscripcion_id):
    """Extend `fecha_fin` by one period (from today if it has passed)."""
    return suscripciones.renovar(suscripcion_id)


@blp.route("/<int:suscripcion_id>/cancelar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CancelarSchema)
@blp.response(200, SuscripcionSchema)
def cancelar(datos, suscripcion_id):
    """Cancel a subscription (`motivo_cancelacion`); final."""
    return suscripciones.cancelar(suscripcion_id, datos.get("motivo_cancelacion"))


@blp.route("/<int:suscripcion_id>/suspender", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, SuscripcionSchema)
def suspender(suscripcion_id):
    """Suspend an active subscription."""
    return suscripciones.suspender(suscripcion_id)


@blp.route("/<int:suscripcion_id>/reactivar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, SuscripcionSchema)
def reactivar(suscripcion_id):
    """Make a suspended (or not yet activated) subscription `activa`."""
    return suscripciones.reactivar(suscripcion_id)


@blp.route("/<int:suscripcion_id>/descuento", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(DescuentoSchema)
@blp.response(200, SuscripcionSchema)
def descuento(datos, suscripcion_id):
    """Set `porcentaje_descuento` (0–100); `precio_pagado` follows."""
    return suscripciones.cambiar_descuento(suscripcion_id, datos["porcentaje_descuento"])
