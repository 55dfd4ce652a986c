"""What is on sale: plans, services, and each plan's services with their limit (`cantidad`).

A plan used by any subscription, or a service included in any plan, cannot be deleted (409):
deactivate it instead (`activo`), or take the service out of the plans first.
"""
from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..core import persistence
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.pagination import paginate
from ..core.persistence import ensure_unique, get_or_404, matching, where_given
from ..extensions import db
from ..suscripciones.models import EstadoSuscripcion, Suscripcion
from .models import Plan, PlanServicio, Servicio

CON_SERVICIOS = selectinload(Plan.plan_servicios).selectinload(PlanServicio.servicio)


def _filtrar(stmt, model, q: str | None, activo: bool | None):
    return matching(where_given(stmt, {model.activo: activo}), q, model.nombre)


def _nombre_libre(model, nombre: str, excepto_id: int | None = None) -> None:
    ensure_unique(model.nombre, nombre, f"Ya existe un registro con el nombre «{nombre}».",
                  excluding_id=excepto_id)


def _crear(model, datos: dict):
    _nombre_libre(model, datos["nombre"])
    return persistence.create(model(**datos))


def _actualizar(instance, datos: dict):
    if "nombre" in datos:
        _nombre_libre(type(instance), datos["nombre"], excepto_id=instance.id)
    persistence.update(instance, datos)
    return instance


# ---------------------------------------------------------------- plans

def listar_planes(q: str | None = None, activo: bool | None = None, page: int = 1,
                  per_page: int = 20, cursor: str | None = None) -> dict:
    stmt = _filtrar(select(Plan).options(CON_SERVICIOS).order_by(Plan.id), Plan, q, activo)
    return paginate(stmt, page, per_page, cursor)


def obtener_plan(plan_id: int) -> Plan:
    plan = db.session.scalar(select(Plan).options(CON_SERVICIOS).where(Plan.id == plan_id))
    if plan is None:
        raise NotFound("El plan no existe.")
    return plan


def crear_plan(datos: dict) -> Plan:
    return _crear(Plan, datos)


def actualizar_plan(plan_id: int, datos: dict) -> Plan:
    return _actualizar(obtener_plan(plan_id), datos)


def eliminar_plan(plan_id: int) -> None:
    plan = obtener_plan(plan_id)
    en_uso = db.session.scalar(select(func.count()).where(Suscripcion.plan_id == plan.id))
    if en_uso:
        raise Conflict(f"El plan tiene {en_uso} suscripción(es); desactívelo en lugar de eliminarlo.")
    persistence.delete(plan)  # its audit row lists the services that went with it


# ---------------------------------------------------------------- services

def listar_servicios(q: str | None = None, activo: bool | None = None, page: int = 1,
                     per_page: int = 20, cursor: str | None = None) -> dict:
    stmt = _filtrar(select(Servicio).order_by(Servicio.id), Servicio, q, activo)
    return paginate(stmt, page, per_page, cursor)


def obtener_servicio(servicio_id: int) -> Servicio:
    return get_or_404(Servicio, servicio_id, "El servicio no existe.")


def crear_servicio(datos: dict) -> Servicio:
    return _crear(Servicio, datos)


def actualizar_servicio(servicio_id: int, datos: dict) -> Servicio:
    return _actualizar(obtener_servicio(servicio_id), datos)


def alternar_servicio(servicio_id: int) -> Servicio:
    servicio = obtener_servicio(servicio_id)
    return _actualizar(servicio, {"activo": not servicio.activo})


def eliminar_servicio(servicio_id: int) -> None:
    servicio = obtener_servicio(servicio_id)
    planes = db.session.scalar(select(func.count()).where(PlanServicio.servicio_id == servicio.id))
    if planes:
        raise Conflict(f"El servicio está incluido en {planes} plan(es); quítelo de ellos "
                       "o desactívelo en lugar de eliminarlo.")
    persistence.delete(servicio)


# ---------------------------------------------------------------- a plan's services

def servicios_de_plan(plan_id: int, page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    obtener_plan(plan_id)
    stmt = (select(PlanServicio).options(selectinload(PlanServicio.servicio))
            .where(PlanServicio.plan_id == plan_id).order_by(PlanServicio.servicio_id))
    return paginate(stmt, page, per_page, cursor)


def reemplazar_servicios(plan_id: int, items: list[dict]) -> Plan:
    """Make the plan include exactly `items` (`[{servicio_id, cantidad}]`); each row added,
    changed or removed leaves its own audit row."""
    plan = obtener_plan(plan_id)
    pedidos = {item["servicio_id"]: item["cantidad"] for item in items}
    existentes = set(db.session.scalars(select(Servicio.id).where(Servicio.id.in_(pedidos))))
    faltan = sorted(set(pedidos) - existentes)
    if faltan:
        raise ValidationFailed(details={"servicios": [f"Servicios inexistentes: {faltan}."]})
    actuales = {ps.servicio_id: ps for ps in plan.plan_servicios}
    for servicio_id, ps in actuales.items():
        if servicio_id not in pedidos:
            plan.plan_servicios.remove(ps)
        else:
            ps.cantidad = pedidos[servicio_id]
    for servicio_id, cantidad in pedidos.items():
        if servicio_id not in actuales:
            plan.plan_servicios.append(
                PlanServicio(plan_id=plan.id, servicio_id=servicio_id, cantidad=cantidad))
    db.session.commit()
    return obtener_plan(plan_id)


def _plan_servicio(plan_id: int, servicio_id: int) -> PlanServicio:
    obtener_plan(plan_id)
    obtener_servicio(servicio_id)
    ps = db.session.get(PlanServicio, (plan_id, servicio_id))
    if ps is None:
        raise NotFound("El plan no incluye ese servicio.")
    return ps


def agregar_servicio(plan_id: int, servicio_id: int, cantidad: int) -> PlanServicio:
    obtener_plan(plan_id)
    obtener_servicio(servicio_id)
    if db.session.get(PlanServicio, (plan_id, servicio_id)) is not None:
        raise Conflict("El plan ya incluye ese servicio; use PUT para cambiar la cantidad.")
    return persistence.create(PlanServicio(plan_id=plan_id, servicio_id=servicio_id,
                                           cantidad=cantidad))


def cambiar_cantidad(plan_id: int, servicio_id: int, cantidad: int) -> PlanServicio:
    ps = _plan_servicio(plan_id, servicio_id)
    persistence.update(ps, {"cantidad": cantidad})
    return ps


def quitar_servicio(plan_id: int, servicio_id: int) -> None:
    persistence.delete(_plan_servicio(plan_id, servicio_id))


def resumen(page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of plans, each with its services and how many subscriptions use it."""
    pagina = paginate(select(Plan).options(CON_SERVICIOS).order_by(Plan.id), page, per_page, cursor)
    ids = [plan.id for plan in pagina["items"]]
    activas = func.sum(case((Suscripcion.estado == EstadoSuscripcion.ACTIVA, 1), else_=0))
    conteos = {
        plan_id: (int(total), int(activas or 0))
        for plan_id, total, activas in db.session.execute(
            select(Suscripcion.plan_id, func.count(), activas)
            .where(Suscripcion.plan_id.in_(ids)).group_by(Suscripcion.plan_id)
        )
    }
    pagina["items"] = [
        {
            "id": plan.id, "nombre": plan.nombre, "activo": plan.activo,
            "precio_mensual": plan.precio_mensual, "precio_anual": plan.precio_anual,
            "servicios": plan.plan_servicios,
            "total_servicios": len(plan.plan_servicios),
            "suscripciones_total": conteos.get(plan.id, (0, 0))[0],
            "suscripciones_activas": conteos.get(plan.id, (0, 0))[1],
        }
        for plan in pagina["items"]
    ]
    return pagina


# ---------------------------------------------------------------- the public catalogue

def plan_dict(plan: Plan) -> dict:
    """A plan with `servicios: [{id, nombre, cantidad}]` (active services only)."""
    return {
        "id": plan.id, "nombre": plan.nombre, "descripcion": plan.descripcion,
        "precio_mensual": plan.precio_mensual, "precio_anual": plan.precio_anual,
        "seleccionado": plan.seleccionado, "activo": plan.activo,
        "servicios": [
            {"id": ps.servicio.id, "nombre": ps.servicio.nombre, "cantidad": ps.cantidad}
            for ps in plan.plan_servicios if ps.servicio.activo
        ],
    }


def planes_activos_stmt():
    """Active plans, cheapest first, with their services loaded in one extra query."""
    return (
        select(Plan)
        .where(Plan.activo.is_(True))
        .options(selectinload(Plan.plan_servicios).selectinload(PlanServicio.servicio))
        .order_by(Plan.precio_mensual, Plan.id)
    )


def planes_publicos(page: int, per_page: int, cursor: str | None = None) -> dict:
    """A page of active plans as `plan_dict`s (`/public/planes` and `/api/planes`)."""
    result = paginate(planes_activos_stmt(), page, per_page, cursor)
    result["items"] = [plan_dict(plan) for plan in result["items"]]
    return result


def servicios_publicos(solo_activos: bool, page: int, per_page: int,
                       cursor: str | None = None) -> dict:
    """A page of services by name (`solo_activos`: only the active ones)."""
    stmt = select(Servicio).order_by(Servicio.nombre)
    if solo_activos:
        stmt = stmt.where(Servicio.activo.is_(True))
    return paginate(stmt, page, per_page, cursor)
