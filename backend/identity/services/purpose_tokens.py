"""Short-lived signed tokens for one purpose (registration, login challenge).

Signed with itsdangerous, not as JWTs, so they can never pass as access tokens.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

REGISTRO = "registro"
LOGIN_CHALLENGE = "login-challenge"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"backend.{purpose}")


def sign(purpose: str, payload: dict) -> str:
    """A token carrying `payload` for `purpose`."""
    return _serializer(purpose).dumps(payload)


def unsign(purpose: str, token: str, max_age_seconds: int) -> dict | None:
    """The payload, or None when the token is forged, of another purpose or expired."""
    try:
        return _serializer(purpose).loads(token or "", max_age=max_age_seconds)
    except (BadSignature, SignatureExpired):
        return None
