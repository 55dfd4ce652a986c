"""Self-registration: a pending account confirmed by the emailed code or, when the user
chose two-factor authentication, by the first TOTP code AND the emailed code (then backup codes
are shown once): nobody activates an account on an address they do not read.

The start of an activation (code, email, registration token) is shared with the public
sign-up of suscripciones.signup."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ...core.errors import BadRequest, Conflict, ValidationFailed
from ...core.persistence import ensure_unique
from ...extensions import db
from ..models import PropositoCodigo, Rol, Usuario
from . import access_log as auth_log
from . import email_codes, otp, purpose_tokens
from .login import complete_login, notify_user
from .passwords import check_password_rule, hash_password

REGISTRO_TOKEN_MAX_AGE = 24 * 3600


# ---------------------------------------------------------------- starting an activation

def registro_token(usuario: Usuario) -> str:
    """The token that `/auth/registro/confirmar-otp` accepts for this pending user."""
    return purpose_tokens.sign(purpose_tokens.REGISTRO, {"uid": usuario.id})


def usuario_id_from_registro_token(token: str) -> int | None:
    """The user id of a valid registration token, else None."""
    payload = purpose_tokens.unsign(purpose_tokens.REGISTRO, token, REGISTRO_TOKEN_MAX_AGE)
    return payload.get("uid") if payload else None


def issue_activation_code(usuario: Usuario) -> str:
    """Create the activation code (hashed, 10 minutes); the caller commits, then emails it."""
    return email_codes.issue_code(usuario, PropositoCodigo.ACTIVACION, email_codes.CODE_TTL)


def send_activation_email(usuario: Usuario, code: str) -> bool:
    """Email the activation code (after the commit) and say whether it was queued. Never
    raises: the pending account is kept, and the code can be sent again through
    `/auth/registro/reenviar-codigo`."""
    return notify_user(usuario, "activacion", codigo=code,
                       minutos=int(email_codes.CODE_TTL.total_seconds() // 60))


# ---------------------------------------------------------------- /auth/registro

def ensure_email_free(email: str) -> None:
    """409 `email_en_uso` when an account already has this email."""
    ensure_unique(Usuario.email, email, "Ya existe una cuenta con ese correo.", code="email_en_uso",
                  detail="Ya está registrado.")


def _email_taken() -> Conflict:
    return Conflict("Ya existe una cuenta con ese correo.", code="email_en_uso",
                    details={"email": ["Ya está registrado."]})


def register(nombre: str, email: str, password: str, telefono: str | None = None,
             activar_otp: bool = False) -> dict:
    """Create a pending `cliente` and email it a code; with `activar_otp`, also hand out a TOTP
    secret (the account is then confirmed with both: the email is proven either way). Of two
    simultaneous registrations of one email, the loser gets 409 `email_en_uso` too."""
    check_password_rule(password)
    ensure_email_free(email)
    usuario = Usuario(nombre=nombre, email=email, password_hash=hash_password(password),
                      telefono=telefono, rol=Rol.CLIENTE, is_active=True,
                      pendiente_activacion=True, email_verificado=False)
    try:
        db.session.add(usuario)
        db.session.flush()
        answer = {"pendiente_activacion": True}
        if activar_otp:
            secret = otp.new_secret()
            otp.store_secret(usuario, secret)
            answer["otp"] = otp.setup_payload(usuario, secret)
        code = issue_activation_code(usuario)
        db.session.commit()
    except IntegrityError as exc:  # the unique email index: a concurrent registration won
        db.session.rollback()
        raise _email_taken() from exc
    send_activation_email(usuario, code)  # a mail outage is logged, never a 500
    return {**answer, "usuario": usuario, "registro_token": registro_token(usuario)}


def _invalid_token() -> BadRequest:
    return BadRequest("El token de registro no es válido o la cuenta ya está activa.",
                      code="token_invalido", details={"registro_token": ["Token inválido."]})


def _usuario_of(token: str) -> Usuario | None:
    uid = usuario_id_from_registro_token(token)
    return db.session.get(Usuario, uid) if isinstance(uid, int) else None


def _awaits_totp(usuario: Usuario) -> bool:
    """Registered with `activar_otp`: confirmed with the first TOTP code plus the emailed code."""
    return bool(usuario.otp_secret_enc) and not usuario.otp_enabled


def resend_code(token: str) -> bool:
    """Email a fresh activation code for the pending account of `token` (the earlier code
    stops working), whether it registered with 2FA or not. 400 `token_invalido` for a bad,
    expired or deactivated account's token, 409 `cuenta_activa` once activated. Returns
    whether the email could be queued (an outage is logged, not raised)."""
    usuario = _usuario_of(token)
    if usuario is None or not usuario.is_active:
        raise _invalid_token()
    if not usuario.pendiente_activacion:
        raise Conflict("La cuenta ya está activa; inicie sesión.", code="cuenta_activa")
    code = issue_activation_code(usuario)
    db.session.commit()
    return send_activation_email(usuario, code)


def _refused(usuario: Usuario, field: str) -> BadRequest:
    auth_log.record_now("registro", False, usuario=usuario, detalle="codigo_invalido")
    return BadRequest("El código no es válido o ya venció.", code="codigo_invalido",
                      details={field: ["Código inválido."]})


def _confirm_with_totp(usuario: Usuario, code: str, email_code: str | None) -> list[str]:
    """Both factors of a 2FA registration: the emailed code (checked first, spent last, so a
    wrong TOTP code does not cost the emailed one) and the first TOTP code. The backup codes."""
    if not email_code:
        raise ValidationFailed(details={"email_code": [
            "Requerido: el código enviado por correo (la cuenta eligió verificación en dos pasos)."]})
    if not email_codes.check_code(usuario, PropositoCodigo.ACTIVACION, email_code, consume=False):
        raise _refused(usuario, "email_code")
    if not otp.verify_totp(usuario, code):
        raise _refused(usuario, "code")
    if not email_codes.check_code(usuario, PropositoCodigo.ACTIVACION, email_code):
        raise _refused(usuario, "email_code")  # spent by a simultaneous confirmation
    usuario.otp_enabled = True
    return otp.issue_backup_codes(usuario)


def confirm(token: str, code: str, email_code: str | None = None) -> dict:
    """Activate the pending account of `token` and sign it in: with the emailed code, or, when
    2FA was chosen, with the first TOTP code (`code`) and the emailed code (`email_code`). The
    email is verified either way."""
    usuario = _usuario_of(token)
    if usuario is None or not usuario.pendiente_activacion or not usuario.is_active:
        raise _invalid_token()
    backup_codes = None
    if _awaits_totp(usuario):
        backup_codes = _confirm_with_totp(usuario, code, email_code)
    elif not email_codes.check_code(usuario, PropositoCodigo.ACTIVACION, code):
        raise _refused(usuario, "code")
    usuario.email_verificado = True
    usuario.pendiente_activacion = False
    db.session.flush()
    answer = complete_login(usuario, "registro")
    if backup_codes is not None:
        answer["backup_codes"] = backup_codes
    return answer
