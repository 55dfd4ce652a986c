"""Per-company API keys: `sk_<prefix8>_<secret>`, shown once, stored as SHA-256 hex.

A key has 8 hex characters of public prefix (to recognise it in lists) and 256 bits of
secret, so a plain (unsalted) SHA-256 is enough to store it: it cannot be guessed offline.
Lookup is by the hash (unique index) and the stored hash is compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from ..core import persistence
from ..core.errors import NotFound
from ..core.models import utcnow
from ..core.persistence import get_or_404
from ..extensions import db
from .models import ApiKey, Empresa

KEY_RE = re.compile(r"^sk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
# `last_used_at` is refreshed at most this often, so the hot path rarely writes.
LAST_USED_RESOLUTION = timedelta(minutes=15)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new `(key, prefijo)`; prefijo is the `sk_<prefix8>` part shown in lists."""
    prefix = secrets.token_hex(4)
    key = f"sk_{prefix}_{secrets.token_urlsafe(32)}"
    return key, f"sk_{prefix}"


def find_active_key(presented: str) -> ApiKey | None:
    """The unrevoked key whose hash matches `presented`, else None."""
    if not KEY_RE.match(presented or ""):
        return None
    digest = hash_key(presented)
    key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    if key is None or key.revoked_at is not None or not hmac.compare_digest(key.key_hash, digest):
        return None
    _touch(key)
    return key


def _touch(key: ApiKey) -> None:
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_RESOLUTION:
        return
    db.session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    db.session.commit()


def get_empresa(empresa_id: int) -> Empresa:
    return get_or_404(Empresa, empresa_id, "La empresa no existe.")


def create_key(empresa_id: int, nombre: str | None = None,
               creado_por: int | None = None) -> tuple[ApiKey, str]:
    """Create and commit a key for the company; returns the row and the full key (shown once)."""
    get_empresa(empresa_id)
    key, prefijo = generate_key()
    row = persistence.create(ApiKey(empresa_id=empresa_id, nombre=nombre or None, prefijo=prefijo,
                                key_hash=hash_key(key), creado_por=creado_por))
    return row, key


def keys_of(empresa_id: int):
    """A select of the company's keys, newest first (404 for an unknown company)."""
    get_empresa(empresa_id)
    return select(ApiKey).where(ApiKey.empresa_id == empresa_id).order_by(ApiKey.id.desc())


def revoke_key(empresa_id: int, key_id: int) -> ApiKey:
    """Revoke one key of the company (idempotent); 404 for a key of another company."""
    row = db.session.get(ApiKey, key_id)
    if row is None or row.empresa_id != empresa_id:
        raise NotFound("La API key no existe.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()
    return row
