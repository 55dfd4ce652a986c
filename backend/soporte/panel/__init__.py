"""The staff panel's support desk screens, for `admin` and `soporte` staff alike: tickets (a
list and a ticket page with the whole conversation, reply, internal note, state changes,
assignment, priority, attachments), support subscriptions (with "Renovar" and "Cancelar"),
payments and support types, one module each; `comun` holds what they share beyond
backend/panel/.

Every change goes through backend.soporte.services, its body first loaded by the same schema
as the JSON API's, so the panel follows the API's rules (the quota, the transitions, the
unique name, the attachment checks) and leaves the same audit rows, with the staff member as
actor. A refusal is flashed in Spanish with the service's message and details; every form is
a SecureForm (CSRF) and every change a POST that redirects back."""
from __future__ import annotations

from flask_admin import BaseView

from ...extensions import db
from ..models import SoportePago, SoporteSuscripcion, SoporteTicket, SoporteTipo
from .comun import CATEGORIA
from .pagos import PagosView
from .suscripciones import SuscripcionesSoporteView
from .tickets import TicketsView
from .tipos import TiposView


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [TicketsView(SoporteTicket, db, name="Tickets", category=CATEGORIA,
                        endpoint="panel_soporte_tickets", url="soporte-tickets"),
            SuscripcionesSoporteView(SoporteSuscripcion, db, name="Suscripciones de soporte",
                                     category=CATEGORIA, endpoint="panel_soporte_suscripciones",
                                     url="soporte-suscripciones"),
            PagosView(SoportePago, db, name="Pagos de soporte", category=CATEGORIA,
                      endpoint="panel_soporte_pagos", url="soporte-pagos"),
            TiposView(SoporteTipo, db, name="Tipos de soporte", category=CATEGORIA,
                      endpoint="panel_soporte_tipos", url="soporte-tipos")]
