"""Support subscriptions: a company's support contract for one period, sold at the type's
price. Created `activo` (or `pendiente_pago` until a successful payment); read `vencido` once
past `fecha_fin`; renewing starts a new period with the counters at zero; cancelling ends it.
A company has at most one `activo` or `pendiente_pago` support subscription at a time."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from ...core import persistence
from ...core.errors import Conflict, ValidationFailed
from ...core.models import utc_today
from ...core.pagination import paginate
from ...core.persistence import get_or_404
from ...empresas.models import Empresa
from ...extensions import db
from ...identity.models import Usuario
from ...suscripciones.models import Periodo, Suscripcion
from ...suscripciones.services import fin_de_periodo
from ..models import EstadoSoporte, Modalidad, SoportePago, SoporteSuscripcion, SoporteTicket, SoporteTipo

ACTIVO, VENCIDO = EstadoSoporte.ACTIVO, EstadoSoporte.VENCIDO
CANCELADO, PENDIENTE_PAGO = EstadoSoporte.CANCELADO, EstadoSoporte.PENDIENTE_PAGO
ESTADOS_DE_ALTA = (ACTIVO, PENDIENTE_PAGO)


def fin_por_defecto(tipo: SoporteTipo, inicio: date) -> date:
    """One month from `inicio` (one year for `anual`), the last day inclusive."""
    periodo = Periodo.ANUAL if tipo.modalidad == Modalidad.ANUAL else Periodo.MENSUAL
    return fin_de_periodo(inicio, periodo)


def _filtro_estado(estado: EstadoSoporte):
    """The SQL condition for a state as read today (`activo` past its end reads `vencido`)."""
    hoy = utc_today()
    if estado == VENCIDO:
        return or_(SoporteSuscripcion.estado == VENCIDO,
                   and_(SoporteSuscripcion.estado == ACTIVO, SoporteSuscripcion.fecha_fin < hoy))
    if estado == ACTIVO:
        return and_(SoporteSuscripcion.estado == ACTIVO, SoporteSuscripcion.fecha_fin >= hoy)
    return SoporteSuscripcion.estado == estado


def listar(empresa_id: int | None = None, estado: EstadoSoporte | None = None,
           soporte_tipo_id: int | None = None, page: int = 1, per_page: int = 20) -> dict:
    """A page of support subscriptions, newest first."""
    stmt = select(SoporteSuscripcion).order_by(SoporteSuscripcion.id.desc())
    if empresa_id is not None:
        stmt = stmt.where(SoporteSuscripcion.empresa_id == empresa_id)
    if estado is not None:
        stmt = stmt.where(_filtro_estado(estado))
    if soporte_tipo_id is not None:
        stmt = stmt.where(SoporteSuscripcion.soporte_tipo_id == soporte_tipo_id)
    return paginate(stmt, page, per_page)


def obtener(soporte_suscripcion_id: int) -> SoporteSuscripcion:
    return get_or_404(SoporteSuscripcion, soporte_suscripcion_id,
                      "La suscripción de soporte no existe.")


def _referencias(datos: dict) -> tuple[Empresa, Suscripcion, SoporteTipo]:
    """The company, plan subscription and type of a create body (422 naming what is wrong)."""
    empresa = db.session.get(Empresa, datos["empresa_id"])
    suscripcion = db.session.get(Suscripcion, datos["suscripcion_id"])
    tipo = db.session.get(SoporteTipo, datos["soporte_tipo_id"])
    errores = {campo: ["No existe."] for campo, obj in (
        ("empresa_id", empresa), ("suscripcion_id", suscripcion), ("soporte_tipo_id", tipo))
        if obj is None}
    if suscripcion is not None and empresa is not None and suscripcion.empresa_id != empresa.id:
        errores["suscripcion_id"] = ["La suscripción no es de esa empresa."]
    if tipo is not None and not tipo.activo:
        errores["soporte_tipo_id"] = ["El tipo de soporte no está activo."]
    if errores:
        raise ValidationFailed(details=errores)
    return empresa, suscripcion, tipo


def _sin_otra_vigente(empresa_id: int, excepto_id: int | None = None) -> None:
    stmt = select(SoporteSuscripcion.id).where(
        SoporteSuscripcion.empresa_id == empresa_id,
        SoporteSuscripcion.estado.in_(ESTADOS_DE_ALTA),
        SoporteSuscripcion.fecha_fin >= utc_today())
    if excepto_id is not None:
        stmt = stmt.where(SoporteSuscripcion.id != excepto_id)
    otra = db.session.scalar(stmt.limit(1))
    if otra is not None:
        raise Conflict(f"La empresa ya tiene una suscripción de soporte vigente (id {otra}); "
                       "cancélela o espere a que venza.", details={"soporte_suscripcion_id": otra})


def crear(datos: dict, actor: Usuario) -> SoporteSuscripcion:
    """A support subscription for a company's plan subscription, at the type's current price."""
    empresa, suscripcion, tipo = _referencias(datos)
    estado = datos.get("estado", ACTIVO)
    if estado not in ESTADOS_DE_ALTA:
        raise ValidationFailed(details={"estado": ["Al crear: activo o pendiente_pago."]})
    inicio = datos.get("fecha_inicio") or utc_today()
    fin = datos.get("fecha_fin") or fin_por_defecto(tipo, inicio)
    if fin < inicio:
        raise ValidationFailed(details={"fecha_fin": ["No puede ser anterior a fecha_inicio."]})
    _sin_otra_vigente(empresa.id)
    return persistence.create(SoporteSuscripcion(
        empresa_id=empresa.id, suscripcion_id=suscripcion.id, soporte_tipo_id=tipo.id,
        fecha_inicio=inicio, fecha_fin=fin, estado=estado, precio_actual=tipo.precio,
        tickets_consumidos=0, horas_consumidas=Decimal("0.00"), notas=datos.get("notas"),
        creado_por=actor.id,
    ))


def actualizar(soporte_suscripcion_id: int, datos: dict) -> SoporteSuscripcion:
    """Change dates or notes; the dates must stay in order."""
    soporte = obtener(soporte_suscripcion_id)
    inicio = datos.get("fecha_inicio", soporte.fecha_inicio)
    fin = datos.get("fecha_fin", soporte.fecha_fin)
    if fin < inicio:
        raise ValidationFailed(details={"fecha_fin": ["No puede ser anterior a fecha_inicio."]})
    persistence.update(soporte, datos)
    return soporte


def _rechazar(soporte: SoporteSuscripcion, accion: str, permitidos: tuple) -> None:
    estado = soporte.estado_efectivo
    if estado not in permitidos:
        raise Conflict(f"No se puede {accion} una suscripción de soporte en estado {estado}.",
                       details={"estado": str(estado), "accion": accion,
                                "estados_permitidos": sorted(str(e) for e in permitidos)})


def renovar(soporte_suscripcion_id: int) -> SoporteSuscripcion:
    """A new period from today (one month, one year for `anual`), counters at zero, at the
    type's current price; from `activo` or `vencido`. Renewing early gives up the rest of the
    current period: the quota is fresh at once rather than on a later date."""
    soporte = obtener(soporte_suscripcion_id)
    _rechazar(soporte, "renovar", (ACTIVO, VENCIDO))
    inicio = utc_today()
    _sin_otra_vigente(soporte.empresa_id, excepto_id=soporte.id)
    persistence.update(soporte, {
        "fecha_inicio": inicio, "fecha_fin": fin_por_defecto(soporte.soporte_tipo, inicio),
        "estado": ACTIVO, "tickets_consumidos": 0, "horas_consumidas": Decimal("0.00"),
        "precio_actual": soporte.soporte_tipo.precio,
    })
    return soporte


def cancelar(soporte_suscripcion_id: int, notas: str | None = None) -> SoporteSuscripcion:
    """End it: no more tickets under it (open tickets stay as they are)."""
    soporte = obtener(soporte_suscripcion_id)
    _rechazar(soporte, "cancelar", (ACTIVO, VENCIDO, PENDIENTE_PAGO))
    valores = {"estado": CANCELADO}
    if notas:
        valores["notas"] = notas
    persistence.update(soporte, valores)
    return soporte


def eliminar(soporte_suscripcion_id: int) -> None:
    """Delete one with no tickets and no payments (409 otherwise: cancel it instead)."""
    soporte = obtener(soporte_suscripcion_id)
    tickets = db.session.scalar(select(func.count()).where(
        SoporteTicket.soporte_suscripcion_id == soporte.id))
    pagos = db.session.scalar(select(func.count()).where(
        SoportePago.soporte_suscripcion_id == soporte.id))
    if tickets or pagos:
        raise Conflict("La suscripción de soporte tiene tickets o pagos; cancélela en lugar de "
                       "eliminarla.", details={"tickets": tickets, "pagos": pagos})
    persistence.delete(soporte)
