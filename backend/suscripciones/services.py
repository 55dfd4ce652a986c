"""Company subscriptions: creation, the lifecycle, and a company's own view of them.

Dates: a period covers whole days and `fecha_fin` is its last day (inclusive), so a monthly
subscription from 2024-01-15 ends 2024-02-14 and a yearly one ends 2025-01-14. Renewing adds
one period after the current `fecha_fin` (or from today when it has already passed).

Prices: `precio_pagado` is the plan's price for the period less `porcentaje_descuento`,
rounded half-up to cents; it is taken again on renewal and when the discount changes.

At most one `activa` subscription per company: checked here first (409) and enforced by the
database too (the unique `empresa_activa_id`). An `inactiva` company's subscriptions cannot
become `activa`.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..catalogo.models import Plan, PlanServicio
from ..core import persistence
from ..core.errors import Conflict, NotFound, ValidationFailed
from ..core.models import utc_today
from ..core.pagination import paginate
from ..core.persistence import get_or_404, where_given
from ..empresas.models import Empresa
from ..extensions import db
from ..identity.models import Usuario
from .models import EstadoSuscripcion, Periodo, Suscripcion

ACTIVA, INACTIVA = EstadoSuscripcion.ACTIVA, EstadoSuscripcion.INACTIVA
SUSPENDIDA, CANCELADA = EstadoSuscripcion.SUSPENDIDA, EstadoSuscripcion.CANCELADA

PERIODOS = {Periodo.MENSUAL: relativedelta(months=1), Periodo.ANUAL: relativedelta(years=1)}

# Lifecycle: action -> (states it may start from, state it leaves; None = unchanged).
# `cancelada` is terminal. `reactivar` from `inactiva` is the activation of a subscription
# made through /public/suscripcion. `renovar` also serves an `activa` one past its fecha_fin.
TRANSICIONES: dict[str, tuple[frozenset, EstadoSuscripcion | None]] = {
    "renovar": (frozenset({ACTIVA}), ACTIVA),
    "cancelar": (frozenset({ACTIVA, SUSPENDIDA, INACTIVA}), CANCELADA),
    "suspender": (frozenset({ACTIVA}), SUSPENDIDA),
    "reactivar": (frozenset({SUSPENDIDA, INACTIVA}), ACTIVA),
    "descuento": (frozenset({ACTIVA, SUSPENDIDA, INACTIVA}), None),
}

CON_PLAN = selectinload(Suscripcion.plan)
CON_SERVICIOS = (selectinload(Suscripcion.plan).selectinload(Plan.plan_servicios)
                 .selectinload(PlanServicio.servicio))


def fin_de_periodo(inicio: date, periodo: Periodo) -> date:
    """The last day (inclusive) of the period that starts on `inicio`."""
    return inicio + PERIODOS[Periodo(periodo)] - timedelta(days=1)


def precio_con_descuento(plan: Plan, periodo: Periodo, porcentaje: Decimal) -> Decimal:
    bruto = plan.precio(periodo)
    return (bruto * (Decimal(100) - Decimal(porcentaje)) / Decimal(100)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- staff

def listar(empresa_id: int | None = None, estado: EstadoSuscripcion | None = None,
           plan_id: int | None = None, page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    stmt = where_given(select(Suscripcion).options(CON_PLAN).order_by(Suscripcion.id), {
        Suscripcion.empresa_id: empresa_id, Suscripcion.estado: estado, Suscripcion.plan_id: plan_id})
    return paginate(stmt, page, per_page, cursor)


def obtener(suscripcion_id: int) -> Suscripcion:
    return get_or_404(Suscripcion, suscripcion_id, "La suscripción no existe.")


def _verificar_activacion(empresa: Empresa, excepto_id: int | None = None) -> None:
    """A subscription may become `activa` only for an active company without another one."""
    if not empresa.is_activa:
        raise Conflict("La empresa está inactiva: no se puede activar una suscripción suya.")
    stmt = select(Suscripcion.id).where(Suscripcion.empresa_id == empresa.id,
                                        Suscripcion.estado == ACTIVA)
    if excepto_id is not None:
        stmt = stmt.where(Suscripcion.id != excepto_id)
    otra = db.session.scalar(stmt)
    if otra is not None:
        raise Conflict(f"La empresa ya tiene una suscripción activa (id {otra}); "
                       "cancélela o suspéndala primero.", details={"suscripcion_activa_id": otra})


def crear(datos: dict, actor: Usuario) -> Suscripcion:
    """A subscription made by staff: `activa` from `fecha_inicio` (default today)."""
    empresa = db.session.get(Empresa, datos["empresa_id"])
    plan = db.session.get(Plan, datos["plan_id"])
    faltan = {campo: ["No existe."] for campo, obj in (("empresa_id", empresa), ("plan_id", plan))
              if obj is None}
    if faltan:
        raise ValidationFailed(details=faltan)
    if not plan.activo:
        raise Conflict("El plan no está activo.", details={"plan_id": [plan.id]})
    _verificar_activacion(empresa)
    inicio = datos.pop("fecha_inicio", None) or utc_today()
    return persistence.create(Suscripcion(
        **datos, fecha_inicio=inicio, fecha_fin=fin_de_periodo(inicio, datos["periodo"]),
        estado=ACTIVA, creado_por=actor.id,
        precio_pagado=precio_con_descuento(plan, datos["periodo"], datos["porcentaje_descuento"]),
    ))


def _transicion(suscripcion_id: int, accion: str) -> Suscripcion:
    """Load the subscription, refuse `accion` from its state (409), and move it to the state
    the action leads to."""
    suscripcion = obtener(suscripcion_id)
    desde, hacia = TRANSICIONES[accion]
    if suscripcion.estado not in desde:
        raise Conflict(
            f"No se puede aplicar «{accion}» a una suscripción en estado {suscripcion.estado}.",
            details={"estado": str(suscripcion.estado), "accion": accion,
                     "estados_permitidos": sorted(str(e) for e in desde)},
        )
    if hacia == ACTIVA and suscripcion.estado != ACTIVA:
        _verificar_activacion(suscripcion.empresa, excepto_id=suscripcion.id)
    if hacia is not None:
        suscripcion.estado = hacia
    return suscripcion


def _guardar(suscripcion: Suscripcion) -> Suscripcion:
    db.session.commit()
    return suscripcion


def renovar(suscripcion_id: int) -> Suscripcion:
    """One more period after fecha_fin (from today if it has passed), at the current price."""
    suscripcion = _transicion(suscripcion_id, "renovar")
    inicio = max(suscripcion.fecha_fin + timedelta(days=1), utc_today())
    suscripcion.fecha_fin = fin_de_periodo(inicio, suscripcion.periodo)
    suscripcion.precio_pagado = precio_con_descuento(
        suscripcion.plan, suscripcion.periodo, suscripcion.porcentaje_descuento)
    return _guardar(suscripcion)


def cancelar(suscripcion_id: int, motivo: str | None = None) -> Suscripcion:
    suscripcion = _transicion(suscripcion_id, "cancelar")
    suscripcion.motivo_cancelacion = motivo
    return _guardar(suscripcion)


def suspender(suscripcion_id: int) -> Suscripcion:
    return _guardar(_transicion(suscripcion_id, "suspender"))


def reactivar(suscripcion_id: int) -> Suscripcion:
    return _guardar(_transicion(suscripcion_id, "reactivar"))


def cambiar_descuento(suscripcion_id: int, porcentaje: Decimal) -> Suscripcion:
    suscripcion = _transicion(suscripcion_id, "descuento")
    suscripcion.porcentaje_descuento = porcentaje
    suscripcion.precio_pagado = precio_con_descuento(suscripcion.plan, suscripcion.periodo, porcentaje)
    return _guardar(suscripcion)


# ---------------------------------------------------------------- the customer's own

def de_usuario(usuario: Usuario, page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of the subscriptions `usuario` may see (their company's), newest first, each
    with its plan and the plan's services."""
    stmt = (Suscripcion.visibles_para(usuario).options(CON_SERVICIOS)
            .order_by(Suscripcion.id.desc()))
    return paginate(stmt, page, per_page, cursor)


def cambiar_renovacion_automatica(suscripcion_id: int, usuario: Usuario, valor: bool) -> Suscripcion:
    """Switch auto-renewal on one of the user's company subscriptions (404 for any other)."""
    suscripcion = db.session.scalar(
        Suscripcion.visibles_para(usuario).options(CON_SERVICIOS)
        .where(Suscripcion.id == suscripcion_id)
    )
    if suscripcion is None:
        raise NotFound("La suscripción no existe.")
    if suscripcion.estado == CANCELADA:
        raise Conflict("La suscripción está cancelada.")
    persistence.update(suscripcion, {"renovacion_automatica": valor})
    return suscripcion
