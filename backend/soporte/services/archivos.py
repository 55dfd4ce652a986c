"""Ticket attachments: checked (soporte.files), stored under a generated key (soporte.storage)
and described by a row. Bytes and row live and die together: the bytes are written before
the row is committed and removed again when the commit fails; on deletion the bytes go in the
same transaction that deletes the row, which is rolled back when the storage refuses."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import func, select

from ...core.errors import ApiError, NotFound
from ...extensions import db
from ..files import check_upload
from ..models import SoporteTicket, SoporteTicketArchivo
from ..storage import ObjectNotFound, Storage, StorageError, generate_key

log = logging.getLogger("backend.soporte")


class StorageUnavailable(ApiError):
    status = 503

    def __init__(self):
        super().__init__("El almacenamiento de archivos no está disponible; intente más tarde.",
                         code="almacenamiento_no_disponible")


def storage() -> Storage:
    """The storage of this app (built by the factory from STORAGE_BACKEND)."""
    return current_app.extensions["storage"]


def _bloquear(ticket_id: int) -> SoporteTicket:
    ticket = db.session.scalar(select(SoporteTicket).where(SoporteTicket.id == ticket_id)
                               .with_for_update())
    if ticket is None:
        raise NotFound("El ticket no existe.")
    return ticket


def subir(ticket: SoporteTicket, filename: str | None, data: bytes | None,
          subido_por: int | None) -> SoporteTicketArchivo:
    """Check and store one file of `ticket` (the ticket row is locked meanwhile, so the 50 MB
    per ticket holds under concurrent uploads)."""
    ticket_id = ticket.id
    # A new transaction before the lock: on MySQL (REPEATABLE READ) the snapshot taken by this
    # request's first read (the auth, the ticket lookup) would not see the files committed by
    # the upload that held the lock just before, and the ticket could pass 50 MB.
    db.session.commit()
    ticket = _bloquear(ticket_id)
    usados = db.session.scalar(select(func.coalesce(func.sum(SoporteTicketArchivo.tamano), 0))
                               .where(SoporteTicketArchivo.ticket_id == ticket_id))
    archivo = check_upload(filename, data, int(usados or 0))
    key = generate_key(ticket.id)
    try:
        storage().put(key, archivo.data, archivo.content_type)
    except StorageError as exc:
        log.error("upload to ticket %s failed in storage: %s", ticket.id, exc)
        # S3 may have stored the object and still failed the call (a timeout on the answer):
        # the upload is refused, so its bytes must not stay behind without a row.
        _borrar_sin_fila(key)
        raise StorageUnavailable() from exc
    fila = SoporteTicketArchivo(ticket_id=ticket.id, nombre=archivo.nombre, storage_key=key,
                                tamano=archivo.tamano, content_type=archivo.content_type,
                                sha256=archivo.sha256, subido_por=subido_por)
    db.session.add(fila)
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        _borrar_sin_fila(key)
        raise
    return fila


def _borrar_sin_fila(key: str) -> None:
    try:
        storage().delete(key)
    except StorageError:
        log.error("stored bytes %s have no row and could not be removed", key, exc_info=True)


def de_ticket(ticket: SoporteTicket, archivo_id: int) -> SoporteTicketArchivo:
    """The file `archivo_id` of `ticket`; 404 for a file of another ticket."""
    archivo = db.session.get(SoporteTicketArchivo, archivo_id)
    if archivo is None or archivo.ticket_id != ticket.id:
        raise NotFound("El archivo no existe.")
    return archivo


def leer(archivo: SoporteTicketArchivo) -> bytes:
    """The exact bytes of a file (404 when the storage lost them, 503 when it is down)."""
    try:
        return storage().get(archivo.storage_key)
    except ObjectNotFound as exc:
        log.error("file %s (key %s) has a row but no bytes", archivo.id, archivo.storage_key)
        raise NotFound("El archivo no está disponible.") from exc
    except StorageError as exc:
        raise StorageUnavailable() from exc


def eliminar(ticket: SoporteTicket, archivo_id: int) -> None:
    """Delete the file's row and its bytes together (nothing changes when storage fails)."""
    archivo = de_ticket(ticket, archivo_id)
    db.session.delete(archivo)
    db.session.flush()
    try:
        storage().delete(archivo.storage_key)
    except StorageError as exc:
        db.session.rollback()
        raise StorageUnavailable() from exc
    db.session.commit()
