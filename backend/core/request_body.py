"""The body of an API request: a small one, read and decoded once.

Every request to the JSON API but a multipart upload takes at most `JSON_MAX_BYTES` (64 KiB by
default): above that it is 413 `demasiado_grande` before a byte is read (a declared length is
checked at once, an undeclared one stops being read at the limit). Uploads keep
`MAX_CONTENT_LENGTH`. The JSON is decoded strictly (core.json_codec) on first use and kept for
the rest of the request, so the throttle's keys and the schema parser share one parse.
"""
from __future__ import annotations

from typing import Any

from flask import current_app, request

from .errors import BadRequest, PayloadTooLarge
from .json_codec import StrictJSONError, strict_loads

_PARSED = "backend.json_body"  # per request: the WSGI environ, which never outlives it
UPLOAD_MIMETYPE = "multipart/form-data"


def _too_large() -> PayloadTooLarge:
    limit = current_app.config["JSON_MAX_BYTES"]
    return PayloadTooLarge("El cuerpo de la solicitud supera el tamaño máximo permitido.",
                           code="demasiado_grande", details={"max_bytes": limit})


def limit_body_size() -> None:
    """Refuse (413) a non-upload body above JSON_MAX_BYTES before it is read, and make any
    later read of an undeclared length stop at the limit. A `before_request` of every API
    blueprint (core.api.Blueprint)."""
    if request.mimetype == UPLOAD_MIMETYPE:
        return
    limit = current_app.config["JSON_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    # Undeclared length: reading stops one byte past the limit, which `_decode` refuses.
    request.max_content_length = limit + 1


def _decode() -> tuple[Any, BadRequest | None]:
    limit_body_size()
    data = request.get_data(cache=True)
    if len(data) > current_app.config["JSON_MAX_BYTES"]:
        raise _too_large()
    try:
        return strict_loads(data), None
    except StrictJSONError as exc:
        return None, BadRequest(str(exc), code="solicitud_invalida", details={"json": [str(exc)]})
    except (ValueError, UnicodeDecodeError):
        return None, BadRequest("El cuerpo de la solicitud no es JSON válido.",
                                code="solicitud_invalida", details={"json": ["JSON inválido."]})


def json_body() -> Any:
    """The request's JSON body, decoded on the first call and remembered for the request;
    400 `solicitud_invalida` when it is not valid JSON (every call), 413 when too large."""
    if _PARSED not in request.environ:
        request.environ[_PARSED] = _decode()
    value, error = request.environ[_PARSED]
    if error is not None:
        raise BadRequest(error.message, code=error.code, details=error.details)
    return value
