"""Route guards: a signed-in user with one of the given roles."""
from __future__ import annotations

from functools import wraps

from flask_jwt_extended import current_user, get_jwt, verify_jwt_in_request

from ..core import audit
from ..core.errors import Forbidden, Unauthorized
from .models import Rol, Usuario


def current_usuario() -> Usuario:
    """The signed-in user of this request (after `auth_required`)."""
    return current_user


def current_session_id() -> str | None:
    """The session id (`sid`) of the token of this request."""
    return get_jwt().get("sid")


def auth_required(*roles: Rol | str):
    """Require a valid, unrevoked access token of an active, activated user with one of
    `roles` (any if none): 401 `no_autenticado` without a usable token or for a deactivated
    user, 403 `cuenta_pendiente_activacion` before activation, 403 `prohibido` for a role."""
    allowed = {str(r) for r in roles}

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            verify_jwt_in_request()
            usuario = current_user
            if usuario is None or not usuario.is_active:
                raise Unauthorized("La sesión ya no es válida.", code="no_autenticado")
            if usuario.pendiente_activacion:
                raise Forbidden("La cuenta aún no ha sido activada.", code="cuenta_pendiente_activacion")
            if allowed and str(usuario.rol) not in allowed:
                raise Forbidden("Su rol no tiene acceso a esta operación.")
            audit.set_actor(usuario.id)  # the author of this request's audit rows
            return view(*args, **kwargs)

        return wrapper

    return decorator
