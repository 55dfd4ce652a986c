"""The dashboard's figures, each one SQL aggregate (a constant number of queries however many
rows there are). Days and times are UTC, like every stored date and time.

- Active companies: empresas in `activa`.
- Subscriptions by plan and MRR: `activa` subscriptions covering `hoy`; MRR adds
  `precio_pagado` of the `mensual` ones and a twelfth of the `anual` ones, rounded once to cents.
- Open tickets (`abierto`, `en_proceso`, `pendiente_respuesta`) by state and by priority.
- Tickets opened per ISO week (Monday 00:00 UTC) over the last 12 weeks, this one included.
- Support subscriptions whose quota is nearly spent: `activo` and in force on `hoy`, with 80 %
  or more of the type's limit used (`por_tickets`: tickets; `por_horas`: hours; `mensual` and
  `anual`: whichever limit the type sets).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, func, or_, select

from ..catalogo.models import Plan
from ..empresas.models import Empresa, EstadoEmpresa
from ..extensions import db
from ..soporte.models import (
    EstadoSoporte,
    EstadoTicket,
    Modalidad,
    Prioridad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTipo,
)
from ..suscripciones.models import EstadoSuscripcion, Periodo, Suscripcion

ESTADOS_ABIERTOS = (EstadoTicket.ABIERTO, EstadoTicket.EN_PROCESO, EstadoTicket.PENDIENTE_RESPUESTA)
SEMANAS = 12
# A quota is nearly spent at UMBRAL_NUM / UMBRAL_DEN (80 %) of its limit.
UMBRAL_NUM, UMBRAL_DEN = 4, 5
CENTIMO = Decimal("0.01")


@dataclass(frozen=True)
class TicketsAbiertos:
    por_estado: dict[EstadoTicket, int]
    por_prioridad: dict[Prioridad, int]

    @property
    def total(self) -> int:
        return sum(self.por_estado.values())


@dataclass(frozen=True)
class Semana:
    """One ISO week: its Monday (UTC), ISO year and number, and the tickets opened in it."""

    inicio: date
    anio: int
    numero: int
    total: int

    @property
    def fin(self) -> date:
        return self.inicio + timedelta(days=6)


@dataclass(frozen=True)
class Consumo:
    consumido: Decimal | int
    maximo: Decimal | int

    @property
    def porcentaje(self) -> int:
        """Whole percent used (rounded down; a zero limit counts as all of it)."""
        if not self.maximo:
            return 100
        return int(Decimal(self.consumido) * 100 / Decimal(self.maximo))


@dataclass(frozen=True)
class CuotaPorAgotarse:
    soporte_id: int
    empresa: str
    tipo: str
    modalidad: Modalidad
    tickets: Consumo | None
    horas: Consumo | None
    fecha_fin: date

    @property
    def porcentaje(self) -> int:
        return max(c.porcentaje for c in (self.tickets, self.horas) if c is not None)


def empresas_activas() -> int:
    return db.session.scalar(select(func.count()).select_from(Empresa)
                             .where(Empresa.estado == EstadoEmpresa.ACTIVA))


def _vigente(hoy: date):
    return and_(Suscripcion.estado == EstadoSuscripcion.ACTIVA,
                Suscripcion.fecha_inicio <= hoy, Suscripcion.fecha_fin >= hoy)


def suscripciones_por_plan(hoy: date) -> list[tuple[str, int]]:
    """(plan name, subscriptions in force on `hoy`) for each plan that is active or has some,
    most first."""
    total = func.count(Suscripcion.id)
    filas = db.session.execute(
        select(Plan.nombre, total).select_from(Plan)
        .outerjoin(Suscripcion, and_(Suscripcion.plan_id == Plan.id, _vigente(hoy)))
        .group_by(Plan.id, Plan.nombre, Plan.activo)
        .having(or_(total > 0, Plan.activo.is_(True)))
        .order_by(total.desc(), Plan.nombre))
    return [(nombre, cantidad) for nombre, cantidad in filas]


def mrr(hoy: date) -> Decimal:
    """Monthly recurring revenue on `hoy`, to the cent (half up)."""
    sumas = dict(db.session.execute(
        select(Suscripcion.periodo, func.sum(Suscripcion.precio_pagado))
        .where(_vigente(hoy)).group_by(Suscripcion.periodo)).all())
    mensual = Decimal(sumas.get(Periodo.MENSUAL) or 0)
    anual = Decimal(sumas.get(Periodo.ANUAL) or 0)
    return (mensual + anual / 12).quantize(CENTIMO, rounding=ROUND_HALF_UP)


def tickets_abiertos() -> TicketsAbiertos:
    """Open tickets counted by state and by priority (every open state and priority listed)."""
    por_estado = dict.fromkeys(ESTADOS_ABIERTOS, 0)
    por_prioridad = dict.fromkeys(Prioridad, 0)
    filas = db.session.execute(
        select(SoporteTicket.estado, SoporteTicket.prioridad, func.count())
        .where(SoporteTicket.estado.in_(ESTADOS_ABIERTOS))
        .group_by(SoporteTicket.estado, SoporteTicket.prioridad))
    for estado, prioridad, total in filas:
        por_estado[EstadoTicket(estado)] += total
        por_prioridad[Prioridad(prioridad)] += total
    return TicketsAbiertos(por_estado, por_prioridad)


def inicio_de_semana(dia: date) -> date:
    """The Monday of `dia`'s ISO week."""
    return dia - timedelta(days=dia.weekday())


def tickets_por_semana(ahora: datetime, semanas: int = SEMANAS) -> list[Semana]:
    """Tickets opened in each of the last `semanas` ISO weeks up to `ahora` (naive UTC),
    oldest first, weeks without tickets included."""
    inicios = [inicio_de_semana(ahora.date()) - timedelta(weeks=n) for n in range(semanas - 1, -1, -1)]
    limites = [datetime.combine(dia, datetime.min.time()) for dia in inicios]
    fin = limites[-1] + timedelta(weeks=1)
    creado = SoporteTicket.created_at
    semana = case(*[(creado >= limite, indice) for indice, limite in reversed(list(enumerate(limites)))],
                  else_=-1).label("semana")
    por_ticket = select(semana).where(creado >= limites[0], creado < fin).subquery()
    totales = dict(db.session.execute(
        select(por_ticket.c.semana, func.count()).group_by(por_ticket.c.semana)).all())
    resultado = []
    for indice, dia in enumerate(inicios):
        anio, numero, _ = dia.isocalendar()
        resultado.append(Semana(dia, anio, numero, totales.get(indice, 0)))
    return resultado


def _cerca_del_limite(consumido, maximo):
    """consumido >= 80 % of maximo, exact: both sides are whole numbers for values with two
    decimals (ROUND drops the float noise SQLite may add)."""
    return func.round(consumido * UMBRAL_DEN * 100) >= func.round(maximo * UMBRAL_NUM * 100)


def cuotas_por_agotarse(hoy: date) -> list[CuotaPorAgotarse]:
    """Support subscriptions in force on `hoy` with a quota 80 % spent or more, ending first."""
    soporte, tipo = SoporteSuscripcion, SoporteTipo
    tickets = and_(tipo.max_tickets.is_not(None), _cerca_del_limite(soporte.tickets_consumidos,
                                                                      tipo.max_tickets))
    horas = and_(tipo.max_horas.is_not(None), _cerca_del_limite(soporte.horas_consumidas, tipo.max_horas))
    filas = db.session.execute(
        select(soporte.id, Empresa.nombre, tipo.nombre, tipo.modalidad, soporte.tickets_consumidos,
               tipo.max_tickets, soporte.horas_consumidas, tipo.max_horas, soporte.fecha_fin)
        .join(tipo, tipo.id == soporte.soporte_tipo_id)
        .join(Empresa, Empresa.id == soporte.empresa_id)
        .where(soporte.estado == EstadoSoporte.ACTIVO, soporte.fecha_inicio <= hoy,
               soporte.fecha_fin >= hoy,
               or_(and_(tipo.modalidad == Modalidad.POR_TICKETS, tickets),
                   and_(tipo.modalidad == Modalidad.POR_HORAS, horas),
                   and_(tipo.modalidad.in_((Modalidad.MENSUAL, Modalidad.ANUAL)), or_(tickets, horas))))
        .order_by(soporte.fecha_fin, Empresa.nombre, soporte.id))
    resultado = []
    for (soporte_id, empresa, nombre, modalidad, tickets_consumidos, max_tickets, horas_consumidas,
         max_horas, fecha_fin) in filas:
        modalidad = Modalidad(modalidad)
        cuenta_tickets = max_tickets is not None and modalidad != Modalidad.POR_HORAS
        cuenta_horas = max_horas is not None and modalidad != Modalidad.POR_TICKETS
        resultado.append(CuotaPorAgotarse(
            soporte_id, empresa, nombre, modalidad,
            Consumo(tickets_consumidos, max_tickets) if cuenta_tickets else None,
            Consumo(Decimal(horas_consumidas), Decimal(max_horas)) if cuenta_horas else None,
            fecha_fin))
    return resultado
