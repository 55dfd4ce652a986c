"""Symmetric encryption of secrets kept at rest (the TOTP secret).

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from SECRET_KEY through HKDF-SHA256,
so the database alone never yields a usable secret. Rotating SECRET_KEY makes stored
secrets unreadable: users then set up 2FA again.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_INFO = b"backend.otp-secret.v1"


@lru_cache(maxsize=8)
def _fernet_for(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> Fernet:
    return _fernet_for(current_app.config["SECRET_KEY"])


def keyed_digest(value: str) -> str:
    """HMAC-SHA256 (hex) of `value` keyed with SECRET_KEY: for codes stored as hashes, so a
    database dump alone cannot be searched or brute-forced for them."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def encrypt(plaintext: str) -> str:
    """The Fernet token (ASCII) for `plaintext`."""
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str | None) -> str | None:
    """The plaintext of `token`, or None when it is missing or cannot be decrypted."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        return None
