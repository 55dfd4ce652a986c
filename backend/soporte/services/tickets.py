"""Tickets: opening (the availability rule and quota of services.disponibilidad), the
lifecycle, assignment and comments.

Lifecycle (`TRANSICIONES`, from state to the states it may move to; anything else is 409):
`abierto`, `en_proceso` and `pendiente_respuesta` move freely among themselves and to
`cerrado` or `cancelado`; `cerrado` and `cancelado` only reopen to `abierto`. Closing records
`horas` (required for a `por_horas` support subscription): they are added to the ticket's
`horas_invertidas` and to the support subscription's `horas_consumidas` exactly once, the
ticket row being locked while it changes. Reopening or cancelling gives no quota back.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ...core.errors import Conflict, NotFound, ValidationFailed
from ...core.models import utcnow
from ...core.pagination import paginate
from ...core.persistence import retry_on_lock_conflict, where_given
from ...core.search import Search
from ...empresas.models import Empresa
from ...extensions import db
from ...identity.models import STAFF_ROLES, Usuario
from ..models import (
    EstadoTicket,
    Modalidad,
    Prioridad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTicketComentario,
)
from . import disponibilidad, notifications

ABIERTO, EN_PROCESO = EstadoTicket.ABIERTO, EstadoTicket.EN_PROCESO
PENDIENTE, CERRADO, CANCELADO = (EstadoTicket.PENDIENTE_RESPUESTA, EstadoTicket.CERRADO,
                                 EstadoTicket.CANCELADO)
ABIERTOS = frozenset({ABIERTO, EN_PROCESO, PENDIENTE})
TRANSICIONES: dict[EstadoTicket, frozenset[EstadoTicket]] = {
    ABIERTO: frozenset({EN_PROCESO, PENDIENTE, CERRADO, CANCELADO}),
    EN_PROCESO: frozenset({ABIERTO, PENDIENTE, CERRADO, CANCELADO}),
    PENDIENTE: frozenset({ABIERTO, EN_PROCESO, CERRADO, CANCELADO}),
    CERRADO: frozenset({ABIERTO}),
    CANCELADO: frozenset({ABIERTO}),
}
CON_DETALLE = (selectinload(SoporteTicket.comentarios), selectinload(SoporteTicket.archivos))


# ---------------------------------------------------------------- reading

def listar(estado: EstadoTicket | None = None, prioridad: Prioridad | None = None,
           empresa_id: int | None = None, asignado_a: int | None = None, q: str | None = None,
           page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of tickets for staff, newest first; `q` finds words of the title or description by
    their beginning (core.search)."""
    stmt = where_given(select(SoporteTicket).order_by(SoporteTicket.id.desc()), {
        SoporteTicket.estado: estado, SoporteTicket.prioridad: prioridad,
        SoporteTicket.empresa_id: empresa_id, SoporteTicket.asignado_a: asignado_a})
    return paginate(stmt, page, per_page, cursor, search=Search(SoporteTicket, q))


def listar_de_empresa(empresa_id: int, estado: EstadoTicket | None = None, page: int = 1,
                      per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of one company's tickets, newest first (the internal API)."""
    stmt = SoporteTicket.de_empresa(empresa_id).order_by(SoporteTicket.id.desc())
    if estado is not None:
        stmt = stmt.where(SoporteTicket.estado == estado)
    return paginate(stmt, page, per_page, cursor)


def obtener(ticket_id: int) -> SoporteTicket:
    """A ticket with its comments and files (staff see every comment)."""
    ticket = db.session.scalar(select(SoporteTicket).options(*CON_DETALLE)
                               .where(SoporteTicket.id == ticket_id))
    if ticket is None:
        raise NotFound("El ticket no existe.")
    return ticket


def obtener_de_empresa(empresa_id: int, ticket_id: int) -> SoporteTicket:
    """One of the company's tickets; 404 for any other company's, as for a missing one."""
    ticket = db.session.scalar(SoporteTicket.de_empresa(empresa_id).options(*CON_DETALLE)
                               .where(SoporteTicket.id == ticket_id))
    if ticket is None:
        raise NotFound("El ticket no existe.")
    return ticket


def vista_de_empresa(ticket: SoporteTicket) -> dict:
    """The ticket as its company sees it: internal staff notes left out."""
    vista = {column.key: getattr(ticket, column.key)
             for column in SoporteTicket.__mapper__.column_attrs}
    vista["comentarios"] = [c for c in ticket.comentarios if not c.interno]
    vista["archivos"] = list(ticket.archivos)
    return vista


# ---------------------------------------------------------------- opening

def _usuario_de_empresa(usuario_id: int | None, empresa_id: int) -> None:
    if usuario_id is None:
        return
    usuario = db.session.get(Usuario, usuario_id)
    if usuario is None or usuario.empresa_id != empresa_id:
        raise ValidationFailed(details={"usuario_id": ["El usuario no es de esa empresa."]})


def abrir(empresa_id: int, titulo: str, descripcion: str, prioridad: Prioridad = Prioridad.MEDIA,
          usuario_id: int | None = None, metadata: dict | None = None) -> SoporteTicket:
    """Open a ticket for a company if its support allows it, counting it in the quota in the
    same transaction (403 `soporte_no_disponible` otherwise). Staff and SaaS instances alike."""
    if db.session.get(Empresa, empresa_id) is None:
        raise ValidationFailed(details={"empresa_id": ["No existe."]})
    _usuario_de_empresa(usuario_id, empresa_id)

    def transaccion() -> SoporteTicket:
        soporte = disponibilidad.consumir_ticket(empresa_id)
        ticket = SoporteTicket(empresa_id=empresa_id, soporte_suscripcion_id=soporte.id,
                               usuario_id=usuario_id, titulo=titulo, descripcion=descripcion,
                               prioridad=prioridad, estado=ABIERTO, metadata_=metadata)
        db.session.add(ticket)
        db.session.commit()
        return ticket

    ticket = retry_on_lock_conflict(transaccion)
    notifications.ticket_abierto(ticket)
    return ticket


# ---------------------------------------------------------------- lifecycle

def _bloquear(ticket_id: int) -> SoporteTicket:
    """The ticket row, locked until the transaction ends, with its latest committed values."""
    ticket = db.session.scalar(select(SoporteTicket).where(SoporteTicket.id == ticket_id)
                               .with_for_update().execution_options(populate_existing=True))
    if ticket is None:
        raise NotFound("El ticket no existe.")
    return ticket


def _conflicto(estado: EstadoTicket, hacia: EstadoTicket) -> Conflict:
    return Conflict(f"Un ticket en estado {estado} no puede pasar a {hacia}.",
                    details={"estado": str(estado), "hacia": str(hacia),
                             "estados_permitidos": sorted(str(e) for e in TRANSICIONES[estado])})


def _permitir(ticket: SoporteTicket, hacia: EstadoTicket) -> None:
    if hacia not in TRANSICIONES[ticket.estado]:
        raise _conflicto(ticket.estado, hacia)


def _mover(ticket: SoporteTicket, hacia: EstadoTicket, horas: Decimal | None = None) -> None:
    """Apply one allowed move to a locked ticket (the caller commits)."""
    _permitir(ticket, hacia)
    if hacia == CERRADO:
        soporte = db.session.get(SoporteSuscripcion, ticket.soporte_suscripcion_id) \
            if ticket.soporte_suscripcion_id else None
        if horas is None and soporte is not None \
                and soporte.soporte_tipo.modalidad == Modalidad.POR_HORAS:
            raise ValidationFailed("Indique las horas dedicadas (soporte por horas).",
                                   details={"horas": ["Requerido para soporte por horas."]})
        ticket.cerrado_at = utcnow()
        if horas is not None:
            ticket.horas_invertidas = (ticket.horas_invertidas or Decimal("0")) + horas
            if soporte is not None:
                db.session.execute(
                    update(SoporteSuscripcion).where(SoporteSuscripcion.id == soporte.id)
                    .values(horas_consumidas=SoporteSuscripcion.horas_consumidas + horas)
                    .execution_options(synchronize_session=False))
    elif hacia == ABIERTO:
        ticket.cerrado_at = None
    ticket.estado = hacia


def _cambiar_estado(ticket_id: int, hacia: EstadoTicket, horas: Decimal | None = None,
                    otros: dict | None = None, desde: frozenset | None = None) -> SoporteTicket:
    """Move a ticket under its row lock (PATCH also sets `otros` in the same change). With
    `desde` (the action routes) the ticket must be in one of those states, checked under the
    lock: of two concurrent closes only one records its hours, the other is 409. Without it
    (PATCH) asking for the state the ticket is already in changes nothing."""

    def transaccion() -> tuple[SoporteTicket, EstadoTicket]:
        ticket = _bloquear(ticket_id)
        antes = ticket.estado
        if desde is not None and antes not in desde:
            raise _conflicto(antes, hacia)
        if hacia != antes:
            _mover(ticket, hacia, horas)
        for campo, valor in (otros or {}).items():
            setattr(ticket, campo, valor)
        db.session.commit()
        return ticket, antes

    ticket, antes = retry_on_lock_conflict(transaccion)
    if ticket.estado != antes:
        notifications.cambio_de_estado(ticket, antes)
    return ticket


def _desde_los_que_se_llega_a(hacia: EstadoTicket) -> frozenset[EstadoTicket]:
    return frozenset(estado for estado, destinos in TRANSICIONES.items() if hacia in destinos)


def cerrar(ticket_id: int, horas: Decimal | None = None) -> SoporteTicket:
    """Close a ticket, recording `horas` (required for `por_horas`) exactly once."""
    return _cambiar_estado(ticket_id, CERRADO, horas, desde=_desde_los_que_se_llega_a(CERRADO))


def reabrir(ticket_id: int) -> SoporteTicket:
    """Reopen a closed or cancelled ticket (no quota is spent again)."""
    return _cambiar_estado(ticket_id, ABIERTO, desde=frozenset({CERRADO, CANCELADO}))


def cancelar(ticket_id: int) -> SoporteTicket:
    """Cancel an open ticket (its quota is not given back)."""
    return _cambiar_estado(ticket_id, CANCELADO, desde=_desde_los_que_se_llega_a(CANCELADO))


def _staff_activo(usuario_id: int) -> None:
    usuario = db.session.get(Usuario, usuario_id)
    if usuario is None or usuario.rol not in STAFF_ROLES or not usuario.is_active:
        raise ValidationFailed(details={"asignado_a": ["Debe ser un usuario activo de staff."]})


def modificar(ticket_id: int, datos: dict) -> SoporteTicket:
    """PATCH: `prioridad`, `asignado_a` (active staff only, or null) and `estado` (by the
    transition table; `cerrado` without hours is refused for `por_horas`)."""
    if db.session.get(SoporteTicket, ticket_id) is None:
        raise NotFound("El ticket no existe.")
    if datos.get("asignado_a") is not None:
        _staff_activo(datos["asignado_a"])
    otros = {k: v for k, v in datos.items() if k in ("prioridad", "asignado_a")}
    if "estado" in datos:
        return _cambiar_estado(ticket_id, datos["estado"], otros=otros)
    ticket = obtener(ticket_id)
    for campo, valor in otros.items():
        setattr(ticket, campo, valor)
    db.session.commit()
    return ticket


# ---------------------------------------------------------------- comments

def comentar_staff(ticket_id: int, contenido: str, interno: bool, autor: Usuario) -> SoporteTicketComentario:
    """A staff comment; unless `interno`, the company contact and the ticket's user are told."""
    ticket = obtener(ticket_id)
    comentario = SoporteTicketComentario(ticket_id=ticket.id, usuario_id=autor.id,
                                         contenido=contenido, interno=interno, es_admin=True)
    db.session.add(comentario)
    ticket.updated_at = utcnow()
    db.session.commit()
    if not interno:
        notifications.respuesta_de_staff(ticket, comentario)
    return comentario


def comentar_empresa(empresa_id: int, ticket_id: int, contenido: str,
                     usuario_id: int | None = None) -> SoporteTicketComentario:
    """A comment from the company's SaaS instance (never internal)."""
    ticket = obtener_de_empresa(empresa_id, ticket_id)
    _usuario_de_empresa(usuario_id, empresa_id)
    comentario = SoporteTicketComentario(ticket_id=ticket.id, usuario_id=usuario_id,
                                         contenido=contenido, interno=False, es_admin=False)
    db.session.add(comentario)
    ticket.updated_at = utcnow()
    db.session.commit()
    return comentario
