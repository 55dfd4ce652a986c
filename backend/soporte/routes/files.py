"""Answering an upload and a download the same way on both APIs."""
from __future__ import annotations

from io import BytesIO

from flask import Response, send_file
from werkzeug.datastructures import FileStorage

from ...identity.models import Usuario
from ..models import SoporteTicket, SoporteTicketArchivo
from ..services import archivos


def upload(ticket: SoporteTicket, file: FileStorage, subido_por: Usuario | None) -> SoporteTicketArchivo:
    """Store the uploaded `file` on `ticket` (checks and limits in soporte.files)."""
    data = file.read()
    return archivos.subir(ticket, file.filename, data, subido_por.id if subido_por else None)


def download(ticket: SoporteTicket, archivo_id: int) -> Response:
    """The exact bytes as an attachment with their stored type and original name."""
    archivo = archivos.de_ticket(ticket, archivo_id)
    data = archivos.leer(archivo)
    # Text types get `; charset=utf-8` from send_file (the upload check required UTF-8).
    response = send_file(BytesIO(data), mimetype=archivo.content_type, as_attachment=True,
                         download_name=archivo.nombre, max_age=0, etag=False, conditional=False)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
