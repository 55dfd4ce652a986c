"""The one JSON error envelope of CONTRACT.md, for every error the app can produce."""
from __future__ import annotations

import contextlib
import logging

from flask import Flask, jsonify, request
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from ..extensions import db

log = logging.getLogger("backend.errors")

# MySQL/MariaDB client errors that mean the server cannot be reached or the connection was lost:
# 2002/2003 cannot connect (socket, TCP), 2005 unknown host, 2006 server gone away, 2013 lost
# during a query, 2055 lost at a system error, 4031 dropped by the server for inactivity.
DB_CONNECTION_ERROR_CODES = frozenset({2002, 2003, 2005, 2006, 2013, 2055, 4031})
# Seconds a client is told to wait (Retry-After) while the database is unreachable.
DB_RETRY_AFTER_SECONDS = 5

# Generic machine codes per status (CONTRACT.md "Conventions").
GENERIC_CODES = {
    400: "solicitud_invalida",
    401: "no_autenticado",
    403: "prohibido",
    404: "no_encontrado",
    405: "metodo_no_permitido",
    409: "conflicto",
    413: "demasiado_grande",
    415: "tipo_no_soportado",
    422: "validacion",
    429: "demasiadas_solicitudes",
    500: "error_interno",
    503: "no_disponible",
}

GENERIC_MESSAGES = {
    400: "La solicitud está mal formada.",
    401: "Se requiere autenticación.",
    403: "No tiene permiso para esta operación.",
    404: "El recurso no existe.",
    405: "Método no permitido para esta ruta.",
    409: "La operación entra en conflicto con el estado actual.",
    413: "La solicitud es demasiado grande.",
    415: "Tipo de contenido no soportado.",
    422: "Los datos enviados no son válidos.",
    429: "Demasiadas solicitudes; intente más tarde.",
    500: "Error interno del servidor.",
    503: "Servicio no disponible.",
}


class ApiError(Exception):
    """An error a service raises on purpose; rendered as the envelope with its status."""

    status = 400

    def __init__(self, message: str | None = None, code: str | None = None,
                 details: dict | None = None, status: int | None = None):
        self.status = status or self.status
        self.code = code or GENERIC_CODES.get(self.status, "error")
        self.message = message or GENERIC_MESSAGES.get(self.status, "Error.")
        self.details = details
        super().__init__(self.message)


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class PayloadTooLarge(ApiError):
    status = 413


class UnsupportedMediaType(ApiError):
    status = 415


class ValidationFailed(ApiError):
    status = 422


def error_response(status: int, code: str | None = None, message: str | None = None,
                   details: dict | None = None, headers: dict | None = None):
    """Build the envelope response; every error path ends here."""
    body = {
        "error": code or GENERIC_CODES.get(status, "error"),
        "message": message or GENERIC_MESSAGES.get(status, "Error."),
    }
    if details:
        body["details"] = details
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_validation_messages(messages) -> dict:
    """webargs nests messages by location ({"json": {...}}); the contract maps field -> list."""
    details: dict = {}
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    for fields in messages.values():
        if isinstance(fields, dict):
            for field, errors in fields.items():
                details.setdefault(field, []).extend(_as_list(errors))
        else:
            details.setdefault("_schema", []).extend(_as_list(fields))
    return details


def _as_list(errors) -> list:
    if isinstance(errors, list):
        return errors
    if isinstance(errors, dict):
        # Nested schema errors: keep the nested structure inside a one-element list.
        return [errors]
    return [str(errors)]


def handle_http_exception(exc: HTTPException):
    """Werkzeug, webargs and Flask-Limiter errors as the envelope."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    details = None
    message = None
    if "messages" in data:
        details = flatten_validation_messages(data["messages"])
        if status == 400:
            message = "El cuerpo de la solicitud no es JSON válido."
    headers = dict(data.get("headers") or {})
    if status == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    if status == 429:
        message = "Demasiadas solicitudes; intente más tarde."
        retry_after = retry_after_seconds(exc)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
    if status == 413:
        message = "La solicitud supera el tamaño máximo permitido."
    return error_response(status, message=message, details=details, headers=headers)


def retry_after_seconds(exc) -> int | None:
    """Seconds until the breached limit's window resets (Flask-Limiter's RateLimitExceeded)."""
    limit = getattr(exc, "limit", None)
    if limit is None:
        return None
    try:
        return max(1, int(limit.limit.get_expiry()))
    except Exception:  # noqa: BLE001 - a missing Retry-After must not turn a 429 into a 500
        return None


def handle_api_error(exc: ApiError):
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.details)


def handle_integrity_error(exc: IntegrityError):
    """A unique or foreign-key constraint the services did not pre-check: 409, nothing kept."""
    db.session.rollback()
    log.warning("integrity error: %s", exc.orig)
    return error_response(409, "conflicto", "El registro entra en conflicto con datos existentes.")


def database_error_code(exc: DBAPIError):
    """The driver's numeric error code of `exc` (MySQL's first argument), else None."""
    args = getattr(exc.orig, "args", ()) or ()
    return args[0] if args and isinstance(args[0], int) else None


def is_database_unreachable(exc: DBAPIError) -> bool:
    """Whether `exc` means no connection to the database (cannot connect, or the connection was
    lost), as opposed to an error of the statement itself (a lock wait, a deadlock, bad SQL)."""
    return bool(exc.connection_invalidated) or database_error_code(exc) in DB_CONNECTION_ERROR_CODES


def handle_database_error(exc: DBAPIError):
    """The database is unreachable: 503 with Retry-After, logged once at WARNING without the
    statement or its parameters; any other database error is an unexpected one (500). Nothing
    is remembered: the next request tries again (pool_pre_ping replaces dead connections)."""
    if not is_database_unreachable(exc):
        return handle_unexpected(exc)
    with contextlib.suppress(SQLAlchemyError):  # the connection is gone; discarded at teardown
        db.session.rollback()
    log.warning("database unreachable on %s %s: %s %s", request.method, request.path,
                type(exc.orig).__name__, database_error_code(exc) or "")
    return error_response(503, message="La base de datos no está disponible; intente más tarde.",
                          headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)})


def handle_unexpected(exc: Exception):
    """Unhandled exception: rolled back, logged with traceback, 500 without internals."""
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    db.session.rollback()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500)


def register_error_handlers(app: Flask) -> None:
    """Install the envelope for every error class; call after other extensions."""
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
