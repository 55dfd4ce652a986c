"""Flask-JWT-Extended failures as the contract's 401 envelope."""
from __future__ import annotations

from ..errors import error_response
from ..extensions import jwt


def _unauthenticated(message: str):
    return error_response(401, "no_autenticado", message)


@jwt.unauthorized_loader
def _missing(reason: str):
    return _unauthenticated("Falta el token de acceso.")


@jwt.invalid_token_loader
def _invalid(reason: str):
    return _unauthenticated("Token inválido.")


@jwt.expired_token_loader
def _expired(_header, _payload):
    return _unauthenticated("El token ha expirado.")


@jwt.revoked_token_loader
def _revoked(_header, _payload):
    return _unauthenticated("El token fue revocado.")


@jwt.user_lookup_error_loader
def _unknown_user(_header, _payload):
    return _unauthenticated("El usuario del token no existe.")


@jwt.needs_fresh_token_loader
def _needs_fresh(_header, _payload):
    return _unauthenticated("Se requiere un token reciente.")


@jwt.token_verification_failed_loader
def _verification_failed(_header, _payload):
    return _unauthenticated("Token inválido.")
