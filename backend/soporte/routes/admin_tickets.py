"""Tickets for staff: `/admin/soporte-tickets` (the conversation, states, assignment, files,
availability and statistics)."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ...empresas import services as empresas
from ...identity.guards import auth_required, current_usuario
from ..schemas import (
    ArchivoSchema,
    ArchivoUploadSchema,
    CerrarTicketSchema,
    ComentarioSchema,
    DisponibilidadSchema,
    EstadisticasQuerySchema,
    EstadisticasSchema,
    TicketDetalleSchema,
    TicketPatchSchema,
    TicketQuerySchema,
    TicketSchema,
)
from ..services import archivos, disponibilidad, estadisticas, tickets
from . import STAFF, files

blp = Blueprint("admin_soporte_tickets", __name__, url_prefix="/admin/soporte-tickets",
                description="Tickets de soporte (staff). Estados: abierto, en_proceso y "
                            "pendiente_respuesta pasan entre sí y a cerrado o cancelado; cerrado "
                            "y cancelado solo se reabren (a abierto). Otro cambio: 409.")

DOWNLOAD = {200: {"description": "The file's exact bytes (Content-Disposition: attachment).",
                  "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                      "format": "binary"}}}}}


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(TicketQuerySchema, location="query")
@blp.response(200, page_of(TicketSchema))
def listar(args):
    """List tickets, newest first (filters `estado`, `prioridad`, `empresa_id`, `asignado_a`, `q`)."""
    return tickets.listar(**args)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(TicketSchema)
@blp.response(201, TicketSchema)
@blp.alt_response(403, description="`soporte_no_disponible` with `details.motivo`.")
def crear(datos):
    """Open a ticket for a company: the same availability rule and quota as the internal API."""
    return tickets.abrir(datos["empresa_id"], datos["titulo"], datos["descripcion"],
                         datos["prioridad"], datos.get("usuario_id"), datos.get("metadata_"))


@blp.route("/disponibilidad/<int:empresa_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, DisponibilidadSchema)
def disponibilidad_de_empresa(empresa_id):
    """Whether a company may open a ticket now, and why not (`motivo`)."""
    empresas.obtener(empresa_id)
    return disponibilidad.de_empresa(empresa_id)


@blp.route("/estadisticas", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(EstadisticasQuerySchema, location="query")
@blp.response(200, EstadisticasSchema)
def estadisticas_de_tickets(args):
    """Tickets by state, priority and company; average hours to first answer and to close."""
    return estadisticas.calcular(**args)


@blp.route("/<int:ticket_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, TicketDetalleSchema)
def obtener(ticket_id):
    """A ticket with all its comments (internal notes included) and files."""
    return tickets.obtener(ticket_id)


@blp.route("/<int:ticket_id>", methods=["PATCH"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(TicketPatchSchema)
@blp.response(200, TicketSchema)
def modificar(datos, ticket_id):
    """Change `estado` (by the transition table), `prioridad` or `asignado_a` (staff only)."""
    return tickets.modificar(ticket_id, datos)


@blp.route("/<int:ticket_id>/comentarios", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(ComentarioSchema)
@blp.response(201, ComentarioSchema)
def comentar(datos, ticket_id):
    """Reply (the company is emailed) or add an internal note (`interno`: never shown to it)."""
    return tickets.comentar_staff(ticket_id, datos["contenido"], datos["interno"],
                                  current_usuario())


@blp.route("/<int:ticket_id>/cerrar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(CerrarTicketSchema, required=False)
@blp.response(200, TicketSchema)
def cerrar(datos, ticket_id):
    """Close a ticket; `horas` (required for `por_horas`) are added to the quota once."""
    return tickets.cerrar(ticket_id, (datos or {}).get("horas"))


@blp.route("/<int:ticket_id>/reabrir", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, TicketSchema)
def reabrir(ticket_id):
    """Reopen a closed or cancelled ticket."""
    return tickets.reabrir(ticket_id)


@blp.route("/<int:ticket_id>/cancelar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(200, TicketSchema)
def cancelar(ticket_id):
    """Cancel an open ticket."""
    return tickets.cancelar(ticket_id)


@blp.route("/<int:ticket_id>/archivos", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.arguments(ArchivoUploadSchema, location="files")
@blp.response(201, ArchivoSchema)
def subir_archivo(args, ticket_id):
    """Attach a file (10 MB each, 50 MB per ticket; the content must match the extension)."""
    return files.upload(tickets.obtener(ticket_id), args["file"], current_usuario())


@blp.route("/<int:ticket_id>/archivos/<int:archivo_id>", methods=["GET"])
@blp.doc(security=BEARER, responses=DOWNLOAD)
@auth_required(*STAFF)
def descargar_archivo(ticket_id, archivo_id):
    """Download a file of the ticket."""
    return files.download(tickets.obtener(ticket_id), archivo_id)


@blp.route("/<int:ticket_id>/archivos/<int:archivo_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(*STAFF)
@blp.response(204)
def eliminar_archivo(ticket_id, archivo_id):
    """Delete a file: its row and its bytes go together."""
    archivos.eliminar(tickets.obtener(ticket_id), archivo_id)
