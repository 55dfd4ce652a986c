"""Support subscriptions for staff: `/admin/soporte-suscripciones`."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ...identity.guards import auth_required, current_usuario
from ..schemas import (
    CancelarSoporteSchema,
    SoporteSuscripcionAltaSchema,
    SoporteSuscripcionQuerySchema,
    SoporteSuscripcionSchema,
    SoporteSuscripcionUpdateSchema,
)
from ..services import suscripciones
from . import STAFF

blp = Blueprint("admin_soporte_suscripciones", __name__, url_prefix="/admin/soporte-suscripciones",
                description="Suscripciones de soporte de las empresas: alta, renovación (nuevo "
                            "periodo, contadores en cero) y cancelación.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteSuscripcionQuerySchema, location="query")
@blp.response(200, page_of(SoporteSuscripcionSchema))
def listar(args):
    """List support subscriptions, newest first (filters `empresa_id`, `estado`, `soporte_tipo_id`)."""
    return suscripciones.listar(**args)


@blp.route("/<int:soporte_suscripcion_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, SoporteSuscripcionSchema)
def obtener(soporte_suscripcion_id):
    """One support subscription."""
    return suscripciones.obtener(soporte_suscripcion_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteSuscripcionAltaSchema)
@blp.response(201, SoporteSuscripcionSchema)
def crear(datos):
    """Create a support subscription at the type's price (`activo`, or `pendiente_pago` until a
    successful payment); 409 while the company has another one in force."""
    return suscripciones.crear(datos, current_usuario())


@blp.route("/<int:soporte_suscripcion_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteSuscripcionUpdateSchema)
@blp.response(200, SoporteSuscripcionSchema)
def actualizar(datos, soporte_suscripcion_id):
    """Change the dates or notes of a support subscription."""
    return suscripciones.actualizar(soporte_suscripcion_id, datos)


@blp.route("/<int:soporte_suscripcion_id>/renovar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, SoporteSuscripcionSchema)
def renovar(soporte_suscripcion_id):
    """Start a new period with the counters at zero (from `activo` or `vencido`)."""
    return suscripciones.renovar(soporte_suscripcion_id)


@blp.route("/<int:soporte_suscripcion_id>/cancelar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(CancelarSoporteSchema, required=False)
@blp.response(200, SoporteSuscripcionSchema)
def cancelar(datos, soporte_suscripcion_id):
    """Cancel a support subscription: no more tickets under it."""
    return suscripciones.cancelar(soporte_suscripcion_id, (datos or {}).get("notas"))


@blp.route("/<int:soporte_suscripcion_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(204)
def eliminar(soporte_suscripcion_id):
    """Delete a support subscription without tickets or payments (409 otherwise)."""
    suscripciones.eliminar(soporte_suscripcion_id)
