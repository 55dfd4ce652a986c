"""Support subscriptions: a company's support contract for one period, sold at the type's
price. Created `activo` (or `pendiente_pago` until a successful payment); read `vencido` once
past `fecha_fin`; renewing starts a new period with the counters at zero; cancelling ends it.
A company has at most one `activo` or `pendiente_pago` support subscription at a time: creating,
renewing or re-dating one first locks the company's support subscription rows (SELECT ... FOR
UPDATE on MySQL, newest first as opening a ticket does) and reads them as last committed, so
concurrent requests for one company queue and only the first puts one in force; the loser of
a deadlock (two locks on a company with no rows yet) is run again, not answered 5xx."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from ...core import persistence
from ...core.errors import Conflict, ValidationFailed
from ...core.models import utc_today
from ...core.pagination import paginate
from ...core.persistence import get_or_404, retry_on_lock_conflict, where_given
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


def filtro_estado(estado: EstadoSoporte):
    """The SQL condition for a state as read today (`activo` past its end reads `vencido`)."""
    hoy = utc_today()
    if estado == VENCIDO:
        return or_(SoporteSuscripcion.estado == VENCIDO,
                   and_(SoporteSuscripcion.estado == ACTIVO, SoporteSuscripcion.fecha_fin < hoy))
    if estado == ACTIVO:
        return and_(SoporteSuscripcion.estado == ACTIVO, SoporteSuscripcion.fecha_fin >= hoy)
    return SoporteSuscripcion.estado == estado


def listar(empresa_id: int | None = None, estado: EstadoSoporte | None = None,
           soporte_tipo_id: int | None = None, page: int = 1, per_page: int = 20,
           cursor: str | None = None) -> dict:
    """A page of support subscriptions, newest first."""
    stmt = where_given(select(SoporteSuscripcion).order_by(SoporteSuscripcion.id.desc()), {
        SoporteSuscripcion.empresa_id: empresa_id, SoporteSuscripcion.soporte_tipo_id: soporte_tipo_id})
    if estado is not None:
        stmt = stmt.where(filtro_estado(estado))
    return paginate(stmt, page, per_page, cursor)


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


def _bloquear_de_empresa(empresa_id: int) -> list[SoporteSuscripcion]:
    """The company's support subscriptions, locked until the transaction ends and read as last
    committed (a locking read, not this transaction's snapshot), newest first."""
    stmt = (select(SoporteSuscripcion).where(SoporteSuscripcion.empresa_id == empresa_id)
            .order_by(SoporteSuscripcion.id.desc()).with_for_update()
            .execution_options(populate_existing=True))
    return list(db.session.scalars(stmt))


def _sin_otra_vigente(empresa_id: int, excepto_id: int | None = None) -> None:
    """409 while another of the company's support subscriptions is in force (`activo` or
    `pendiente_pago` and not past its end); the company's rows stay locked."""
    hoy = utc_today()
    otra = next((s.id for s in _bloquear_de_empresa(empresa_id) if s.id != excepto_id
                 and s.estado in ESTADOS_DE_ALTA and s.fecha_fin >= hoy), None)
    if otra is not None:
        raise Conflict(f"La empresa ya tiene una suscripción de soporte vigente (id {otra}); "
                       "cancélela o espere a que venza.", details={"soporte_suscripcion_id": otra})


def crear(datos: dict, actor: Usuario) -> SoporteSuscripcion:
    """A support subscription for a company's plan subscription, at the type's current price."""
    return retry_on_lock_conflict(lambda: _crear(datos, actor))


def _crear(datos: dict, actor: Usuario) -> SoporteSuscripcion:
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
    """Change dates or notes; the dates must stay in order, and new dates may not put it in
    force beside another of the company's (409, as on create)."""
    return retry_on_lock_conflict(lambda: _actualizar(soporte_suscripcion_id, datos))


def _actualizar(soporte_suscripcion_id: int, datos: dict) -> SoporteSuscripcion:
    soporte = obtener(soporte_suscripcion_id)
    inicio = datos.get("fecha_inicio", soporte.fecha_inicio)
    fin = datos.get("fecha_fin", soporte.fecha_fin)
    if fin < inicio:
        raise ValidationFailed(details={"fecha_fin": ["No puede ser anterior a fecha_inicio."]})
    if ("fecha_inicio" in datos or "fecha_fin" in datos) and soporte.estado in ESTADOS_DE_ALTA \
            and fin >= utc_today():
        _sin_otra_vigente(soporte.empresa_id, excepto_id=soporte.id)
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
    return retry_on_lock_conflict(lambda: _renovar(soporte_suscripcion_id))


def _renovar(soporte_suscripcion_id: int) -> SoporteSuscripcion:
    soporte = obtener(soporte_suscripcion_id)
    _bloquear_de_empresa(soporte.empresa_id)  # its state as last committed, then checked
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
