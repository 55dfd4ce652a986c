"""The internal support API for the SaaS instances: `/api/internal/support`.

Every call needs `X-API-Key` and `X-Empresa-Id`: a company's own key works only for that
company (403 otherwise), the global key for any. A company sees only its own tickets (another
company's is 404, as a missing one), never a staff internal note, and a `usuario_id` it sends
must be one of its users."""
from __future__ import annotations

from functools import wraps

from flask import request

from ...core.api import API_KEY_EMPRESA, Blueprint
from ...core.pagination import page_of
from ...empresas import services as empresas
from ...empresas.api_key_auth import api_key_required, empresa_id_from_header
from ..schemas import (
    ArchivoInternoSchema,
    ArchivoUploadSchema,
    ComentarioInternoSchema,
    ComentarioSchema,
    DisponibilidadSchema,
    EstadoSchema,
    TicketDetalleSchema,
    TicketInternoQuerySchema,
    TicketInternoSchema,
    TicketSchema,
)
from ..services import disponibilidad, tickets
from . import files
from .admin_tickets import DOWNLOAD

blp = Blueprint("internal_support", __name__, url_prefix="/api/internal/support",
                description="Support desk for the SaaS instances (X-API-Key and X-Empresa-Id).")


_EMPRESA_KEY = "backend.soporte.empresa_id"


def empresa_requerida(view):
    """Check `X-Empresa-Id` against the key and the companies (400, 403, 404) before the body
    is read: a call for a company it may not act for learns nothing about its body."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        empresa_id = empresa_id_from_header()
        empresas.obtener(empresa_id)
        request.environ[_EMPRESA_KEY] = empresa_id  # never outlives the request, unlike `g`
        return view(*args, **kwargs)

    return wrapper


def _empresa_id() -> int:
    """The company of `X-Empresa-Id`, checked against the key and existing (404 otherwise)."""
    empresa_id = request.environ.get(_EMPRESA_KEY)
    if empresa_id is None:
        empresa_id = empresa_id_from_header()
        empresas.obtener(empresa_id)
    return empresa_id


@blp.route("/create_tickets", methods=["POST"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.arguments(TicketInternoSchema)
@blp.response(201, TicketSchema)
@blp.alt_response(403, description="`soporte_no_disponible` with `details.motivo`, or a key of "
                                   "another company (`prohibido`).")
def crear_ticket(datos):
    """Open a ticket for the company if its support allows it (counts in its quota)."""
    return tickets.abrir(_empresa_id(), datos["titulo"], datos["descripcion"], datos["prioridad"],
                         datos.get("usuario_id"), datos.get("metadata"))


@blp.route("/tickets", methods=["GET"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.arguments(TicketInternoQuerySchema, location="query")
@blp.response(200, page_of(TicketSchema))
def listar_tickets(args):
    """The company's tickets, newest first (filter `estado`)."""
    return tickets.listar_de_empresa(_empresa_id(), **args)


@blp.route("/ticket_id/<int:ticket_id>", methods=["GET"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.response(200, TicketDetalleSchema)
def obtener_ticket(ticket_id):
    """One of the company's tickets with its comments (no internal notes) and files."""
    return tickets.vista_de_empresa(tickets.obtener_de_empresa(_empresa_id(), ticket_id))


@blp.route("/tickets/<int:ticket_id>/comentarios", methods=["POST"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.arguments(ComentarioInternoSchema)
@blp.response(201, ComentarioSchema)
def comentar(datos, ticket_id):
    """Add the company's comment to one of its tickets."""
    return tickets.comentar_empresa(_empresa_id(), ticket_id, datos["contenido"],
                                    datos.get("usuario_id"))


@blp.route("/tickets/<int:ticket_id>/upload", methods=["POST"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.arguments(ArchivoUploadSchema, location="files")
@blp.response(201, ArchivoInternoSchema)
def subir_archivo(args, ticket_id):
    """Attach a file to one of the company's tickets (10 MB each, 50 MB per ticket)."""
    ticket = tickets.obtener_de_empresa(_empresa_id(), ticket_id)
    return files.upload(ticket, args["file"], None)


@blp.route("/tickets/<int:ticket_id>/archivos/<int:archivo_id>", methods=["GET"])
@blp.doc(security=API_KEY_EMPRESA, responses=DOWNLOAD)
@api_key_required
@empresa_requerida
def descargar_archivo(ticket_id, archivo_id):
    """Download a file of one of the company's tickets."""
    return files.download(tickets.obtener_de_empresa(_empresa_id(), ticket_id), archivo_id)


@blp.route("/status", methods=["GET"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.response(200, DisponibilidadSchema)
def estado_soporte():
    """The company's `disponibilidad`: may it open a ticket now, and why not."""
    return disponibilidad.de_empresa(_empresa_id())


@blp.route("/health", methods=["GET"])
@blp.doc(security=API_KEY_EMPRESA)
@api_key_required
@empresa_requerida
@blp.response(200, EstadoSchema)
def salud():
    """The internal support API answers (key and company checked)."""
    _empresa_id()
    return {"status": "ok"}
