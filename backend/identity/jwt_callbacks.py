"""Flask-JWT-Extended wired to the identity rules: a token is good only while its session is
(logout, rotation reuse, password change... end sessions) and that session is its own user's,
it loads its `Usuario`, and every failure is the contract's 401 envelope. Installed by the
app factory through `register`."""
from __future__ import annotations

from flask_jwt_extended import JWTManager

from ..core.errors import error_response
from ..extensions import db
from .models import Usuario
from .services.sessions import session_is_active


def _unauthenticated(message: str):
    return error_response(401, "no_autenticado", message)


def _missing(_reason: str):
    return _unauthenticated("Falta el token de acceso.")


def _invalid(_reason: str):
    return _unauthenticated("Token inválido.")


def _expired(_header, _payload):
    return _unauthenticated("El token ha expirado.")


def _revoked(_header, _payload):
    return _unauthenticated("El token fue revocado.")


def _unknown_user(_header, _payload):
    return _unauthenticated("El usuario del token no existe.")


def _needs_fresh(_header, _payload):
    return _unauthenticated("Se requiere un token reciente.")


def _token_revoked(_header: dict, payload: dict) -> bool:
    # The session must be live AND be the token's user's: a `sid` of someone else's session
    # never makes a token good.
    return not session_is_active(payload.get("sid"), usuario_id=payload.get("sub"))


def _load_user(_header: dict, payload: dict) -> Usuario | None:
    return db.session.get(Usuario, int(payload["sub"]))


def register(jwt: JWTManager) -> None:
    """Install the loaders and error callbacks on `jwt`."""
    jwt.unauthorized_loader(_missing)
    jwt.invalid_token_loader(_invalid)
    jwt.expired_token_loader(_expired)
    jwt.revoked_token_loader(_revoked)
    jwt.user_lookup_error_loader(_unknown_user)
    jwt.needs_fresh_token_loader(_needs_fresh)
    jwt.token_verification_failed_loader(_invalid_verification)
    jwt.token_in_blocklist_loader(_token_revoked)
    jwt.user_lookup_loader(_load_user)


def _invalid_verification(_header, _payload):
    return _unauthenticated("Token inválido.")
