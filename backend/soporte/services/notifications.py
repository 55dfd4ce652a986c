"""Support desk emails, queued through core.mail.notify (a mail that cannot be queued is
logged, never an error of the answer): a ticket opened goes to the support staff; a staff
reply and a change of state go to the company's contact and to the ticket's user. Internal
notes are never announced."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from ...core.mail import notify_each
from ...empresas.models import Empresa
from ...extensions import db
from ...identity.models import Rol, Usuario
from ..models import EstadoTicket, SoporteTicket, SoporteTicketComentario

log = logging.getLogger("backend.soporte")


def staff_emails() -> list[str]:
    """Who hears of a new ticket: every active `soporte` user, else every active `admin`."""
    for rol in (Rol.SOPORTE, Rol.ADMIN):
        emails = list(db.session.scalars(
            select(Usuario.email).where(Usuario.rol == rol, Usuario.is_active.is_(True))
            .order_by(Usuario.id)))
        if emails:
            return emails
    return []


def company_emails(ticket: SoporteTicket) -> list[str]:
    """The company's contact email and the ticket's user, each once."""
    empresa = db.session.get(Empresa, ticket.empresa_id)
    usuario = db.session.get(Usuario, ticket.usuario_id) if ticket.usuario_id else None
    emails = [e for e in ((empresa.email if empresa else None), (usuario.email if usuario else None))
              if e]
    return list(dict.fromkeys(email.lower() for email in emails))


def _context(ticket: SoporteTicket) -> dict:
    empresa = db.session.get(Empresa, ticket.empresa_id)
    base = current_app.config.get("PUBLIC_BASE_URL")
    return {"ticket": ticket, "empresa": empresa.nombre if empresa else "",
            "enlace": f"{base.rstrip('/')}/soporte/tickets/{ticket.id}" if base else None}


def _send(recipients: list[str], template: str, ticket: SoporteTicket, **context) -> None:
    context = {**_context(ticket), **context}  # the same mail for every recipient: rendered once
    notify_each(recipients, template, ref=f"ticket {ticket.id}", logger=log, **context)


def ticket_abierto(ticket: SoporteTicket) -> None:
    """Tell the support staff a ticket was opened."""
    _send(staff_emails(), "soporte_ticket_abierto", ticket)


def respuesta_de_staff(ticket: SoporteTicket, comentario: SoporteTicketComentario) -> None:
    """Tell the company a staff member answered (never for an internal note)."""
    if comentario.interno:
        return
    _send(company_emails(ticket), "soporte_respuesta", ticket, comentario=comentario)


def cambio_de_estado(ticket: SoporteTicket, antes: EstadoTicket) -> None:
    """Tell the company the ticket changed state."""
    _send(company_emails(ticket), "soporte_estado", ticket, antes=str(antes),
          ahora=str(ticket.estado))
