"""Support desk figures for staff: tickets by state, priority and company, and the average
time to the first staff answer (a non-internal staff comment) and to closing."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from ...empresas.models import Empresa
from ...extensions import db
from ..models import EstadoTicket, Prioridad, SoporteTicket, SoporteTicketComentario

TOP_EMPRESAS = 20


def _filtros(empresa_id: int | None, desde: date | None, hasta: date | None) -> list:
    condiciones = []
    if empresa_id is not None:
        condiciones.append(SoporteTicket.empresa_id == empresa_id)
    if desde is not None:
        condiciones.append(SoporteTicket.created_at >= datetime.combine(desde, datetime.min.time()))
    if hasta is not None:
        condiciones.append(SoporteTicket.created_at
                           < datetime.combine(hasta + timedelta(days=1), datetime.min.time()))
    return condiciones


def _promedio_horas(pares) -> float | None:
    """Mean of (later - earlier) in hours, two decimals; None without pairs."""
    horas = [(fin - inicio).total_seconds() / 3600 for inicio, fin in pares if inicio and fin]
    return round(sum(horas) / len(horas), 2) if horas else None


def _conteo(columna, condiciones) -> dict[str, int]:
    filas = db.session.execute(select(columna, func.count()).where(*condiciones).group_by(columna))
    return {getattr(clave, "value", clave): total for clave, total in filas}


def calcular(empresa_id: int | None = None, desde: date | None = None,
             hasta: date | None = None) -> dict:
    """Figures over the tickets opened between `desde` and `hasta` (inclusive, UTC dates)."""
    condiciones = _filtros(empresa_id, desde, hasta)
    por_estado = {estado.value: 0 for estado in EstadoTicket}
    por_estado.update(_conteo(SoporteTicket.estado, condiciones))
    por_prioridad = {prioridad.value: 0 for prioridad in Prioridad}
    por_prioridad.update(_conteo(SoporteTicket.prioridad, condiciones))
    por_empresa = [
        {"empresa_id": eid, "nombre": nombre, "total": total}
        for eid, nombre, total in db.session.execute(
            select(SoporteTicket.empresa_id, Empresa.nombre, func.count())
            .join(Empresa, Empresa.id == SoporteTicket.empresa_id).where(*condiciones)
            .group_by(SoporteTicket.empresa_id, Empresa.nombre)
            .order_by(func.count().desc(), SoporteTicket.empresa_id).limit(TOP_EMPRESAS))
    ]
    primera = (select(SoporteTicketComentario.ticket_id,
                      func.min(SoporteTicketComentario.created_at).label("primera"))
               .where(SoporteTicketComentario.es_admin.is_(True),
                      SoporteTicketComentario.interno.is_(False))
               .group_by(SoporteTicketComentario.ticket_id).subquery())
    respuestas = db.session.execute(
        select(SoporteTicket.created_at, primera.c.primera)
        .join(primera, primera.c.ticket_id == SoporteTicket.id).where(*condiciones))
    cierres = db.session.execute(
        select(SoporteTicket.created_at, SoporteTicket.cerrado_at)
        .where(SoporteTicket.estado == EstadoTicket.CERRADO,
               SoporteTicket.cerrado_at.is_not(None), *condiciones))
    return {
        "total": sum(por_estado.values()),
        "por_estado": por_estado,
        "por_prioridad": por_prioridad,
        "por_empresa": por_empresa,
        "horas_promedio_primera_respuesta": _promedio_horas(respuestas),
        "horas_promedio_cierre": _promedio_horas(cierres),
    }
