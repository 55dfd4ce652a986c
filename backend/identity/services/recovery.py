"""Forgotten password: a reset token by email (single use, hashed, 30 minutes) that does not
bypass two-factor authentication."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ...core.errors import BadRequest, ValidationFailed
from ...extensions import db
from ..models import PropositoCodigo, Usuario
from . import attempts, email_codes, otp
from .login import notify_user
from .passwords import check_password_rule, hash_password
from .sessions import revoke_user_sessions


def reset_link(token: str) -> str | None:
    """The SPA's reset page for `token`, on `PUBLIC_BASE_URL` (else the first of
    `FRONTEND_ORIGINS`); never built from the request's Host header, which the caller controls
    (a forged Host would send the victim's token to the attacker's site). None without either."""
    config = current_app.config
    base = config.get("PUBLIC_BASE_URL") or next(iter(config.get("FRONTEND_ORIGINS") or []), None)
    return f"{base.rstrip('/')}/reset-password?token={token}" if base else None


def forgot(email: str) -> None:
    """Email a reset token to an active account; the caller always answers 202, even when the
    email cannot be queued (else an outage would tell known accounts from unknown ones)."""
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == email))
    if usuario is None or not usuario.is_active or usuario.pendiente_activacion:
        return
    token = email_codes.issue_token(usuario, PropositoCodigo.RESET_PASSWORD)
    db.session.commit()
    minutos = int(email_codes.RESET_TTL.total_seconds() // 60)
    notify_user(usuario, "reset_password", token=token, minutos=minutos, enlace=reset_link(token))


def _invalid_token() -> BadRequest:
    return BadRequest("El enlace de recuperación no es válido o ya venció.", code="token_invalido",
                      details={"token": ["Token inválido o vencido."]})


def reset(token: str, password: str, otp_code: str | None = None,
          backup_code: str | None = None) -> None:
    """Set a new password with a reset token (plus a 2FA code when 2FA is on: each code counts
    an attempt at the token before it is compared, the fifth wrong one burns it); ends every
    session."""
    row = email_codes.find_by_token(PropositoCodigo.RESET_PASSWORD, token)
    usuario = db.session.get(Usuario, row.usuario_id) if row else None
    if usuario is None or not usuario.is_active:
        raise _invalid_token()
    check_password_rule(password)
    if usuario.otp_enabled:
        if not otp_code and not backup_code:
            raise ValidationFailed("La cuenta tiene verificación en dos pasos: envíe otp_code.",
                                   code="otp_requerido",
                                   details={"otp_code": [
                                       "Requerido cuando la verificación en dos pasos está activa."]})
        if not attempts.claim(row):  # burnt by wrong codes, or used meanwhile
            raise _invalid_token()
        if not otp.verify_second_factor(usuario, otp_code=otp_code, backup_code=backup_code):
            attempts.fail(row)
            db.session.commit()
            raise BadRequest("El código de verificación no es válido.", code="codigo_invalido",
                             details={"otp_code": ["Código inválido."]})
    if not attempts.spend(row):  # used concurrently
        raise _invalid_token()
    usuario.password_hash = hash_password(password)
    revoke_user_sessions(usuario.id, "reset_password")
    db.session.commit()
