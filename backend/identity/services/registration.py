"""Self-registration: a pending account confirmed by the emailed code or, when the user
chose two-factor authentication, by the first TOTP code (then backup codes are shown once).

The start of an activation (code, email, registration token) is shared with the public
sign-up of suscripciones.signup."""
from __future__ import annotations

from ...core.errors import BadRequest, Conflict
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


def register(nombre: str, email: str, password: str, telefono: str | None = None,
             activar_otp: bool = False) -> dict:
    """Create a pending `cliente`; email a code, or hand out a TOTP secret to confirm with."""
    check_password_rule(password)
    ensure_email_free(email)
    usuario = Usuario(nombre=nombre, email=email, password_hash=hash_password(password),
                      telefono=telefono, rol=Rol.CLIENTE, is_active=True,
                      pendiente_activacion=True, email_verificado=False)
    db.session.add(usuario)
    db.session.flush()
    answer = {"pendiente_activacion": True}
    code = None
    if activar_otp:
        secret = otp.new_secret()
        otp.store_secret(usuario, secret)
        answer["otp"] = otp.setup_payload(usuario, secret)
    else:
        code = issue_activation_code(usuario)
    db.session.commit()
    if code is not None:
        send_activation_email(usuario, code)  # a mail outage is logged, never a 500
    return {**answer, "usuario": usuario, "registro_token": registro_token(usuario)}


def _invalid_code() -> BadRequest:
    return BadRequest("El código no es válido o ya venció.", code="codigo_invalido",
                      details={"code": ["Código inválido."]})


def _invalid_token() -> BadRequest:
    return BadRequest("El token de registro no es válido o la cuenta ya está activa.",
                      code="token_invalido", details={"registro_token": ["Token inválido."]})


def _usuario_of(token: str) -> Usuario | None:
    uid = usuario_id_from_registro_token(token)
    return db.session.get(Usuario, uid) if isinstance(uid, int) else None


def _awaits_totp(usuario: Usuario) -> bool:
    """Registered with `activar_otp`: confirmed with the first TOTP code, not an emailed one."""
    return bool(usuario.otp_secret_enc) and not usuario.otp_enabled


def resend_code(token: str) -> bool:
    """Email a fresh activation code for the pending account of `token` (the earlier code
    stops working). 400 `token_invalido` for a bad, expired or deactivated account's token,
    409 `cuenta_activa` once activated, 409 `otp_pendiente` for a TOTP registration.
    Returns whether the email could be queued (an outage is logged, not raised)."""
    usuario = _usuario_of(token)
    if usuario is None or not usuario.is_active:
        raise _invalid_token()
    if not usuario.pendiente_activacion:
        raise Conflict("La cuenta ya está activa; inicie sesión.", code="cuenta_activa")
    if _awaits_totp(usuario):
        raise Conflict("Esta cuenta se activa con el código de su aplicación de autenticación, "
                       "no con un código por correo.", code="otp_pendiente")
    code = issue_activation_code(usuario)
    db.session.commit()
    return send_activation_email(usuario, code)


def confirm(token: str, code: str) -> dict:
    """Activate the pending account of `token` with its TOTP or emailed code; sign it in."""
    usuario = _usuario_of(token)
    if usuario is None or not usuario.pendiente_activacion or not usuario.is_active:
        raise _invalid_token()
    backup_codes = None
    if _awaits_totp(usuario) and otp.verify_totp(usuario, code):
        usuario.otp_enabled = True
        backup_codes = otp.issue_backup_codes(usuario)
    elif email_codes.check_code(usuario, PropositoCodigo.ACTIVACION, code):
        usuario.email_verificado = True
    else:
        auth_log.record_now("registro", False, usuario=usuario, detalle="codigo_invalido")
        raise _invalid_code()
    usuario.pendiente_activacion = False
    db.session.flush()
    answer = complete_login(usuario, "registro")
    if backup_codes is not None:
        answer["backup_codes"] = backup_codes
    return answer
