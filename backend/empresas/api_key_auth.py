"""`X-API-Key` authentication for the licence API and the internal support API.

Two kinds of key are accepted:
- the global `SAAS_API_KEY` (existing instances): works for every company;
  `g.api_empresa_id` is None;
- a per-company key (`sk_<prefix>_<secret>`, stored as its SHA-256): works for its own
  company only; `g.api_empresa_id` is that company's id and `g.api_key_id` the key's id.

Services receive `empresa_id_of_key()`; views call `ensure_api_access_to(empresa_id)` (403
`prohibido` for another company) or `empresa_id_from_header()` for calls that name their
company in `X-Empresa-Id`.
"""
from __future__ import annotations

import hmac
import re
from functools import wraps

from flask import current_app, g, request

from ..core.errors import BadRequest, Forbidden, Unauthorized
from ..core.schemas import MAX_INT
from .api_keys import find_active_key

HEADER = "X-API-Key"
EMPRESA_HEADER = "X-Empresa-Id"


def _authenticate(presented: str) -> int | None:
    """The company id of `presented` (None for the global key); 401 when it is not valid."""
    global_key = current_app.config.get("SAAS_API_KEY")
    if global_key and hmac.compare_digest(presented.encode(), global_key.encode()):
        g.api_key_id = None
        return None
    key = find_active_key(presented)
    if key is None:
        raise Unauthorized("API key inválida o revocada.", code="no_autenticado")
    g.api_key_id = key.id
    return key.empresa_id


def api_key_required(view):
    """Require a valid `X-API-Key`; sets `g.api_empresa_id` (None for the global key)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        presented = (request.headers.get(HEADER) or "").strip()
        if not presented:
            raise Unauthorized("Falta la cabecera X-API-Key.", code="no_autenticado")
        g.api_empresa_id = _authenticate(presented)
        return view(*args, **kwargs)

    return wrapper


def empresa_id_of_key() -> int | None:
    """The company of this request's per-company key (None for the global key)."""
    return getattr(g, "api_empresa_id", None)


def ensure_api_access_to(empresa_id: int | None) -> None:
    """403 `prohibido` unless the key of this request may act for `empresa_id`."""
    own = getattr(g, "api_empresa_id", None)
    if own is not None and own != empresa_id:
        raise Forbidden("La API key no tiene acceso a esta empresa.", code="prohibido")


def empresa_id_from_header() -> int:
    """The company id of `X-Empresa-Id`, checked against the key (400 missing/bad, 403 other)."""
    raw = (request.headers.get(EMPRESA_HEADER) or "").strip()
    # ASCII digits only (str.isdigit() also accepts "²", which int() refuses) and a database id.
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not 0 < int(raw) <= MAX_INT:
        raise BadRequest("Falta o no es válida la cabecera X-Empresa-Id.",
                         code="solicitud_invalida", details={EMPRESA_HEADER: ["Debe ser un entero."]})
    empresa_id = int(raw)
    ensure_api_access_to(empresa_id)
    return empresa_id
