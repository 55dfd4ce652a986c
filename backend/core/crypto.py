"""Secrets kept at rest: symmetric encryption (the TOTP secret) and keyed digests (codes).

Both have keys of their own, so SECRET_KEY can change without losing what is stored, and both
rotate: the first key of a list writes, every key of it reads.

- Encryption: Fernet (AES-128-CBC + HMAC-SHA256) through MultiFernet. Each entry of
  DATA_ENCRYPTION_KEYS is a secret string turned into a Fernet key by HKDF-SHA256; the first
  encrypts, all decrypt (`reencrypt` moves a token to the first key).
- Digests: HMAC-SHA256 (hex). The first entry of DIGEST_KEYS makes new digests; a stored
  digest may have been made with any of them (`keyed_digests` lists the candidates).

Where a list is not set it is SECRET_KEY alone, as before these settings existed: listing the
current SECRET_KEY value last in a new list keeps everything stored under it readable.
The database alone never yields a usable secret or a searchable code.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_INFO = b"backend.otp-secret.v1"


@lru_cache(maxsize=32)
def _fernet_for(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_fernet_for(key) for key in keys])


def _keys(setting: str) -> tuple[str, ...]:
    """The keys of `setting` (first = current), else SECRET_KEY alone."""
    config = current_app.config
    return tuple(config.get(setting) or ()) or (config["SECRET_KEY"],)


def _fernet() -> MultiFernet:
    return _multi_fernet(_keys("DATA_ENCRYPTION_KEYS"))


def _hmac(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def keyed_digest(value: str) -> str:
    """HMAC-SHA256 (hex) of `value` with the current digest key: for codes stored as hashes, so
    a database dump alone cannot be searched or brute-forced for them."""
    return _hmac(_keys("DIGEST_KEYS")[0], value)


def keyed_digests(value: str) -> list[str]:
    """The digest of `value` under every configured digest key, the current one first: a stored
    digest matches `value` when it is one of these (look-ups during a key rotation)."""
    return [_hmac(key, value) for key in _keys("DIGEST_KEYS")]


def encrypt(plaintext: str) -> str:
    """The Fernet token (ASCII) for `plaintext`, under the current encryption key."""
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str | None) -> str | None:
    """The plaintext of `token` (made with any configured key), or None when it is missing or
    cannot be decrypted."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None


def reencrypt(token: str | None) -> str | None:
    """`token` encrypted again under the current key (None when it cannot be decrypted)."""
    if not token:
        return None
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None
