"""Starting the activation of a self-registered account (shared by /auth/registro and
/public/suscripcion)."""
from __future__ import annotations

import logging

from ..auth import purpose_tokens
from ..models import PropositoCodigo, Usuario
from .email_codes import CODE_TTL, issue_code
from .mail import send_email

REGISTRO_TOKEN_MAX_AGE = 24 * 3600

log = logging.getLogger("backend.auth")


def registro_token(usuario: Usuario) -> str:
    """The token that `/auth/registro/confirmar-otp` accepts for this pending user."""
    return purpose_tokens.sign(purpose_tokens.REGISTRO, {"uid": usuario.id})


def usuario_id_from_registro_token(token: str) -> int | None:
    """The user id of a valid registration token, else None."""
    payload = purpose_tokens.unsign(purpose_tokens.REGISTRO, token, REGISTRO_TOKEN_MAX_AGE)
    return payload.get("uid") if payload else None


def issue_activation_code(usuario: Usuario) -> str:
    """Create the activation code (hashed, 10 minutes); the caller commits, then emails it."""
    return issue_code(usuario, PropositoCodigo.ACTIVACION, CODE_TTL)


def send_activation_email(usuario: Usuario, code: str) -> bool:
    """Email the activation code (call after the transaction has committed).

    Never raises: the pending account is already committed, so a mail or broker outage must
    not turn the answer into a 500 (the code can be sent again through
    `/auth/registro/reenviar-codigo`). The failure is logged with the user id, never the code
    nor the message. Returns whether the email was queued."""
    try:
        send_email(usuario.email, "activacion", nombre=usuario.nombre, codigo=code,
                   minutos=int(CODE_TTL.total_seconds() // 60))
    except Exception as exc:  # noqa: BLE001 - any delivery or broker failure
        log.error("activation email for usuario %s could not be queued (%s: %.200s)",
                  usuario.id, type(exc).__name__, exc, exc_info=True)
        return False
    return True
