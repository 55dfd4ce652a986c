"""The catalogue for staff (rol `admin`): `/admin/planes`, `/admin/servicios`, each plan's
services `/admin/planes/:plan_id/servicios` and `/admin/planes-servicios/resumen`."""
from __future__ import annotations

from ..core.api import BEARER, Blueprint
from ..core.pagination import CursorPaginationArgs, page_of
from ..identity.guards import auth_required
from ..identity.models import Rol
from . import services as catalogo
from .schemas import (
    CantidadSchema,
    CatalogoQuerySchema,
    PlanSchema,
    PlanServicioItemSchema,
    PlanServiciosSetSchema,
    PlanUpdateSchema,
    ResumenPlanServiciosSchema,
    ServicioSchema,
    ServicioUpdateSchema,
)

blp = Blueprint("admin_catalogo", __name__, url_prefix="/admin",
                description="Planes, servicios y los servicios (con cantidad) de cada plan.")


# ---------------------------------------------------------------- planes

@blp.route("/planes", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CatalogoQuerySchema, location="query")
@blp.response(200, page_of(PlanSchema))
def listar_planes(args):
    """List plans with their services (filters `q`, `activo`)."""
    return catalogo.listar_planes(**args)


@blp.route("/planes/<int:plan_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, PlanSchema)
def obtener_plan(plan_id):
    """One plan with its services."""
    return catalogo.obtener_plan(plan_id)


@blp.route("/planes", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(PlanSchema)
@blp.response(201, PlanSchema)
def crear_plan(datos):
    """Create a plan; 409 when the name is taken."""
    return catalogo.crear_plan(datos)


@blp.route("/planes/<int:plan_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(PlanUpdateSchema(partial=True))
@blp.response(200, PlanSchema)
def actualizar_plan(datos, plan_id):
    """Update a plan (fields not sent stay as they are)."""
    return catalogo.actualizar_plan(plan_id, datos)


@blp.route("/planes/<int:plan_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(204)
def eliminar_plan(plan_id):
    """Delete a plan; 409 while any subscription uses it (deactivate it instead)."""
    catalogo.eliminar_plan(plan_id)


# ---------------------------------------------------------------- servicios

@blp.route("/servicios", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CatalogoQuerySchema, location="query")
@blp.response(200, page_of(ServicioSchema))
def listar_servicios(args):
    """List services (filters `q`, `activo`)."""
    return catalogo.listar_servicios(**args)


@blp.route("/servicios/<int:servicio_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, ServicioSchema)
def obtener_servicio(servicio_id):
    """One service."""
    return catalogo.obtener_servicio(servicio_id)


@blp.route("/servicios", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(ServicioSchema)
@blp.response(201, ServicioSchema)
def crear_servicio(datos):
    """Create a service; 409 when the name is taken."""
    return catalogo.crear_servicio(datos)


@blp.route("/servicios/<int:servicio_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(ServicioUpdateSchema(partial=True))
@blp.response(200, ServicioSchema)
def actualizar_servicio(datos, servicio_id):
    """Update a service (fields not sent stay as they are)."""
    return catalogo.actualizar_servicio(servicio_id, datos)


@blp.route("/servicios/<int:servicio_id>/toggle", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, ServicioSchema)
def alternar_servicio(servicio_id):
    """Switch a service's `activo`."""
    return catalogo.alternar_servicio(servicio_id)


@blp.route("/servicios/<int:servicio_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(204)
def eliminar_servicio(servicio_id):
    """Delete a service; 409 while a plan includes it."""
    catalogo.eliminar_servicio(servicio_id)


# ---------------------------------------------------------------- a plan's services

@blp.route("/planes/<int:plan_id>/servicios", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CursorPaginationArgs, location="query")
@blp.response(200, page_of(PlanServicioItemSchema))
def servicios_de_plan(args, plan_id):
    """The services of a plan with their `cantidad`."""
    return catalogo.servicios_de_plan(plan_id, **args)


@blp.route("/planes/<int:plan_id>/servicios", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(PlanServiciosSetSchema, as_kwargs=False)
@blp.response(200, PlanSchema)
def reemplazar_servicios(items, plan_id):
    """Replace the plan's services: `{servicios: [{servicio_id, cantidad}]}` (or legacy
    `{servicio_ids: [..]}`, cantidad 1). Answers the plan."""
    return catalogo.reemplazar_servicios(plan_id, items)


@blp.route("/planes/<int:plan_id>/servicios/<int:servicio_id>", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CantidadSchema)
@blp.response(201, PlanServicioItemSchema)
def agregar_servicio(datos, plan_id, servicio_id):
    """Add one service to a plan (`cantidad`, default 1); 409 if already included."""
    return catalogo.agregar_servicio(plan_id, servicio_id, datos["cantidad"])


@blp.route("/planes/<int:plan_id>/servicios/<int:servicio_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CantidadSchema)
@blp.response(200, PlanServicioItemSchema)
def cambiar_cantidad(datos, plan_id, servicio_id):
    """Change the `cantidad` of a service in a plan."""
    return catalogo.cambiar_cantidad(plan_id, servicio_id, datos["cantidad"])


@blp.route("/planes/<int:plan_id>/servicios/<int:servicio_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(204)
def quitar_servicio(plan_id, servicio_id):
    """Take a service out of a plan."""
    catalogo.quitar_servicio(plan_id, servicio_id)


@blp.route("/planes-servicios/resumen", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(CursorPaginationArgs, location="query")
@blp.response(200, page_of(ResumenPlanServiciosSchema))
def resumen(args):
    """Per plan: its services with `cantidad`, how many, and its subscriptions (active, total)."""
    return catalogo.resumen(**args)
