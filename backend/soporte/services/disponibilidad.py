"""May a company open a ticket? The `disponibilidad` object of the contract, and the atomic
step that checks it and spends one ticket of the quota.

The support subscription that decides is the company's `activo` one covering today (the
newest, should there be several), else its newest one, which explains why not. `motivo`, in
the order checked: `sin_suscripcion_soporte`, `cancelado`, `pago_pendiente`, `vencido`,
`fuera_de_vigencia` (starts later), `suscripcion_no_vigente` (the company or its plan
subscription is not valid today), `cupo_tickets_agotado`, `cupo_horas_agotado`.

Quotas: `por_tickets` counts tickets opened in the period against `max_tickets`; `por_horas`
counts hours recorded on closed tickets against `max_horas`; `mensual` and `anual` count only
what the type sets. Opening a ticket locks the company's support subscription rows
(SELECT ... FOR UPDATE on MySQL), so concurrent requests for the last ticket queue on the
lock and exactly one of them gets it.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from ...core.errors import Forbidden
from ...core.models import utc_today
from ...empresas.models import EstadoEmpresa
from ...extensions import db
from ..models import EstadoSoporte, Modalidad, SoporteSuscripcion

ACTIVO = EstadoSoporte.ACTIVO


def _candidatas(empresa_id: int, bloquear: bool) -> list[SoporteSuscripcion]:
    stmt = (select(SoporteSuscripcion).where(SoporteSuscripcion.empresa_id == empresa_id)
            .order_by(SoporteSuscripcion.id.desc()))
    if bloquear:
        # The latest committed values after waiting for the lock, not the session's copies.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list(db.session.scalars(stmt))


def decisiva(candidatas: list[SoporteSuscripcion], hoy: date) -> SoporteSuscripcion | None:
    """The support subscription that decides today (see the module doc)."""
    for soporte in candidatas:
        if soporte.estado == ACTIVO and soporte.fecha_inicio <= hoy <= soporte.fecha_fin:
            return soporte
    return candidatas[0] if candidatas else None


def limites(soporte: SoporteSuscripcion) -> tuple[int | None, Decimal | None]:
    """(max tickets, max hours) of its type's modality; None where nothing is counted."""
    tipo = soporte.soporte_tipo
    if tipo.modalidad == Modalidad.POR_TICKETS:
        return tipo.max_tickets, None
    if tipo.modalidad == Modalidad.POR_HORAS:
        return None, tipo.max_horas
    return tipo.max_tickets, tipo.max_horas


def _motivo(soporte: SoporteSuscripcion | None, hoy: date) -> str | None:
    if soporte is None:
        return "sin_suscripcion_soporte"
    if soporte.estado == EstadoSoporte.CANCELADO:
        return "cancelado"
    if soporte.estado == EstadoSoporte.PENDIENTE_PAGO:
        return "pago_pendiente"
    if soporte.estado == EstadoSoporte.VENCIDO or soporte.fecha_fin < hoy:
        return "vencido"
    if soporte.fecha_inicio > hoy:
        return "fuera_de_vigencia"
    plan = soporte.suscripcion
    if soporte.empresa.estado != EstadoEmpresa.ACTIVA or plan is None or not plan.vigente_en(hoy):
        return "suscripcion_no_vigente"
    max_tickets, max_horas = limites(soporte)
    if max_tickets is not None and soporte.tickets_consumidos >= max_tickets:
        return "cupo_tickets_agotado"
    if max_horas is not None and soporte.horas_consumidas >= max_horas:
        return "cupo_horas_agotado"
    return None


def _restantes(maximo, consumido):
    return None if maximo is None else max(maximo - consumido, 0)


def evaluar(soporte: SoporteSuscripcion | None, hoy: date) -> dict:
    """The `disponibilidad` object for the deciding support subscription (None: there is none)."""
    motivo = _motivo(soporte, hoy)
    if soporte is None:
        return {"puede_crear_ticket": False, "motivo": motivo, "modalidad": None,
                "vigencia": {"desde": None, "hasta": None},
                "tickets": {"maximo": None, "consumidos": 0, "disponibles": None},
                "horas": {"maximo": None, "consumidas": 0.0, "disponibles": None}}
    max_tickets, max_horas = limites(soporte)
    horas = Decimal(soporte.horas_consumidas or 0)
    return {
        "puede_crear_ticket": motivo is None,
        "motivo": motivo,
        "modalidad": soporte.soporte_tipo.modalidad.value,
        "vigencia": {"desde": soporte.fecha_inicio, "hasta": soporte.fecha_fin},
        "tickets": {"maximo": max_tickets, "consumidos": soporte.tickets_consumidos,
                    "disponibles": _restantes(max_tickets, soporte.tickets_consumidos)},
        "horas": {"maximo": None if max_horas is None else float(max_horas),
                  "consumidas": float(horas),
                  "disponibles": None if max_horas is None else float(_restantes(max_horas, horas))},
    }


def de_empresa(empresa_id: int) -> dict:
    """The company's `disponibilidad` today (no lock: an answer to read, not to act on)."""
    hoy = utc_today()
    return evaluar(decisiva(_candidatas(empresa_id, bloquear=False), hoy), hoy)


def consumir_ticket(empresa_id: int) -> SoporteSuscripcion:
    """Lock the company's support subscriptions, check the rule and count one ticket; 403
    `soporte_no_disponible` (with `details.motivo`) when it may not. The caller inserts the
    ticket and commits, which releases the lock."""
    hoy = utc_today()
    soporte = decisiva(_candidatas(empresa_id, bloquear=True), hoy)
    motivo = _motivo(soporte, hoy)
    if motivo is not None:
        raise Forbidden("La empresa no puede abrir tickets de soporte.",
                        code="soporte_no_disponible", details={"motivo": motivo})
    soporte.tickets_consumidos += 1
    return soporte
