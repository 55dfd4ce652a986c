"""Turning two-factor authentication on and off for a signed-in user.

Either change asks for the current password (a stolen access token alone must not turn 2FA on
and lock the owner out), ends the user's other sessions (the current one stays, so the person
making the change is not signed out) and is confirmed by email.
"""
from __future__ import annotations

from ...core.errors import BadRequest, Conflict
from ...extensions import db
from ..models import Usuario
from . import otp
from .login import notify_user, reauthenticate
from .sessions import revoke_user_sessions


def _invalid_code(field: str = "otp_code") -> BadRequest:
    return BadRequest("El código de verificación no es válido.", code="codigo_invalido",
                      details={field: ["Código inválido."]})


def setup(usuario: Usuario) -> dict:
    """A new secret (kept encrypted, not yet active) with its URI and QR code."""
    if usuario.otp_enabled:
        raise Conflict("La verificación en dos pasos ya está activa.", code="otp_ya_activo")
    secret = otp.new_secret()
    otp.store_secret(usuario, secret)
    db.session.commit()
    return otp.setup_payload(usuario, secret)


def activate(usuario: Usuario, otp_code: str, password: str, sesion_id: str | None) -> dict:
    """Turn 2FA on with the current password and the first code of the set-up secret; the
    backup codes are shown once."""
    if usuario.otp_enabled:
        raise Conflict("La verificación en dos pasos ya está activa.", code="otp_ya_activo")
    if not usuario.otp_secret_enc:
        raise Conflict("Primero configure la verificación en dos pasos (/auth/otp/setup).",
                       code="otp_no_configurado")
    reauthenticate(usuario, password)
    if not otp.verify_totp(usuario, otp_code):
        db.session.commit()
        raise _invalid_code()
    usuario.otp_enabled = True
    codes = otp.issue_backup_codes(usuario)
    revoke_user_sessions(usuario.id, "otp_activado", keep_sesion_id=sesion_id)
    db.session.commit()
    notify_user(usuario, "otp_activado")
    return {"otp_enabled": True, "backup_codes": codes}


def disable(usuario: Usuario, password: str, otp_code: str | None, backup_code: str | None,
            sesion_id: str | None) -> dict:
    """Turn 2FA off after the current password (401 when wrong) and a TOTP or backup code."""
    if not usuario.otp_enabled:
        raise Conflict("La verificación en dos pasos no está activa.", code="otp_no_activo")
    reauthenticate(usuario, password)
    if not otp.verify_second_factor(usuario, otp_code=otp_code, backup_code=backup_code):
        raise _invalid_code("otp_code" if otp_code else "backup_code")
    otp.clear(usuario)
    revoke_user_sessions(usuario.id, "otp_desactivado", keep_sesion_id=sesion_id)
    db.session.commit()
    notify_user(usuario, "otp_desactivado")
    return {"otp_enabled": False}
