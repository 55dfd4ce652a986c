"""Starting the activation of a self-registered account (shared by /auth/registro and
/public/suscripcion)."""
from __future__ import annotations

from ..auth import purpose_tokens
from ..models import PropositoCodigo, Usuario
from .email_codes import CODE_TTL, issue_code
from .mail import send_email

REGISTRO_TOKEN_MAX_AGE = 24 * 3600


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


def send_activation_email(usuario: Usuario, code: str) -> None:
    """Email the activation code (queue after the transaction has committed)."""
    send_email(usuario.email, "activacion", nombre=usuario.nombre, codigo=code,
               minutos=int(CODE_TTL.total_seconds() // 60))
