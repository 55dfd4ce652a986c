"""The signed-in user's own account: profile and password change."""
from __future__ import annotations

from ...core.errors import BadRequest, ValidationFailed
from ...extensions import db
from ..models import PropositoCodigo, Usuario
from . import email_codes, otp
from .login import notify_user, reauthenticate
from .passwords import check_password_rule, hash_password
from .sessions import revoke_user_sessions

PROFILE_FIELDS = ("nombre", "telefono", "direccion", "ciudad", "pais", "fecha_nacimiento")


def update_profile(usuario: Usuario, data: dict) -> Usuario:
    """Change the personal fields present in `data` (never email, role or company)."""
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(usuario, field, data[field])
    db.session.commit()
    return usuario


def request_password_code(usuario: Usuario) -> None:
    """Email a 6-digit code (10 minutes, single use) that authorises a password change; a mail
    that cannot be queued is logged, and the user may ask again."""
    code = email_codes.issue_code(usuario, PropositoCodigo.CAMBIO_PASSWORD)
    db.session.commit()
    notify_user(usuario, "codigo_password", codigo=code,
                minutos=int(email_codes.CODE_TTL.total_seconds() // 60))


def _invalid_code(field: str) -> BadRequest:
    return BadRequest("El código no es válido o ya venció.", code="codigo_invalido",
                      details={field: ["Código inválido o vencido."]})


def verify_password_code(usuario: Usuario, code: str) -> dict:
    """Check the emailed code without spending it (wrong guesses count towards burning it)."""
    valid = email_codes.check_code(usuario, PropositoCodigo.CAMBIO_PASSWORD, code, consume=False)
    db.session.commit()
    if not valid:
        raise _invalid_code("code")
    return {"valid": True}


def change_password(usuario: Usuario, current_password: str, new_password: str,
                    otp_code: str | None, verification_code: str | None,
                    sesion_id: str | None) -> None:
    """New password after the current one and a second factor; other sessions end."""
    check_password_rule(new_password, field="new_password")
    # A wrong current password is 401 like every re-authentication (400 is a malformed body).
    reauthenticate(usuario, current_password, field="current_password")
    if usuario.otp_enabled:
        if not otp_code:
            raise ValidationFailed(details={
                "otp_code": ["Requerido: la cuenta tiene verificación en dos pasos."]})
        if not otp.verify_totp(usuario, otp_code):
            raise _invalid_code("otp_code")
    else:
        if not verification_code:
            raise ValidationFailed(details={"verification_code": [
                "Requerido: solicite un código en /account/password/request-code."]})
        if not email_codes.check_code(usuario, PropositoCodigo.CAMBIO_PASSWORD, verification_code):
            db.session.commit()  # keep the attempt count
            raise _invalid_code("verification_code")
    usuario.password_hash = hash_password(new_password)
    revoke_user_sessions(usuario.id, "cambio_password", keep_sesion_id=sesion_id)
    db.session.commit()
