"""Support types for staff: `/admin/soporte-tipos`."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ...identity.guards import auth_required
from ..schemas import SoporteTipoQuerySchema, SoporteTipoSchema, SoporteTipoUpdateSchema
from ..services import tipos
from . import STAFF

blp = Blueprint("admin_soporte_tipos", __name__, url_prefix="/admin/soporte-tipos",
                description="Tipos de soporte (staff): modalidad, precio y cupo.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteTipoQuerySchema, location="query")
@blp.response(200, page_of(SoporteTipoSchema))
def listar(args):
    """List support types (filters `q`, `activo`, `modalidad`)."""
    return tipos.listar(**args)


@blp.route("/<int:tipo_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, SoporteTipoSchema)
def obtener(tipo_id):
    """One support type."""
    return tipos.obtener(tipo_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteTipoSchema)
@blp.response(201, SoporteTipoSchema)
def crear(datos):
    """Create a support type; 409 when the name is taken (`max_tickets` is required for
    `por_tickets`, `max_horas` for `por_horas`)."""
    return tipos.crear(datos)


@blp.route("/<int:tipo_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(SoporteTipoUpdateSchema(partial=True))
@blp.response(200, SoporteTipoSchema)
def actualizar(datos, tipo_id):
    """Update a support type (fields not sent stay; sold subscriptions keep their price)."""
    return tipos.actualizar(tipo_id, datos)


@blp.route("/<int:tipo_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(204)
def eliminar(tipo_id):
    """Delete a support type; 409 while a support subscription uses it."""
    tipos.eliminar(tipo_id)
