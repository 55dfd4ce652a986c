"""Signing in and out: password step, TOTP challenge, refresh rotation, logout."""
from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import select, update

from ...core.errors import Forbidden, Unauthorized
from ...core.mail import notify
from ...core.models import utcnow
from ...core.validators import email_key
from ...extensions import db
from ..models import DesafioLogin, RefreshToken, SesionAuth, Usuario
from . import access_log as auth_log
from . import attempts, otp, purpose_tokens
from .passwords import burn_password_check, upgrade_hash, verify_password
from .sessions import revoke_session, start_session, token_pair

CHALLENGE_MAX_AGE = 300
CREDENCIALES_INVALIDAS = "Correo o contraseña incorrectos."

log = logging.getLogger("backend.auth")


def notify_user(usuario: Usuario, template: str, **context) -> bool:
    """Email `usuario` through core.mail.notify: a mail that cannot be queued is logged (on the
    `backend.auth` log, with the user id), never an error of the answer."""
    return notify(usuario.email, template, ref=f"usuario {usuario.id}", logger=log,
                  nombre=usuario.nombre, **context)


def _invalid_credentials() -> Unauthorized:
    return Unauthorized(CREDENCIALES_INVALIDAS, code="credenciales_invalidas")


def reauthenticate(usuario: Usuario, password: str, field: str = "password") -> None:
    """The current password again, before a change that a stolen token alone must not make
    (2FA on or off, ending the other sessions): 401 `credenciales_invalidas` when wrong (the
    body was well formed; the caller's throttle counts it as a failure)."""
    if not verify_password(usuario.password_hash, password):
        raise Unauthorized("La contraseña no es correcta.", code="credenciales_invalidas",
                           details={field: ["Contraseña incorrecta."]})


def check_account_usable(usuario: Usuario, tipo: str = auth_log.LOGIN) -> None:
    """403 for a deactivated account or one still waiting for activation (logged, committed)."""
    if not usuario.is_active:
        auth_log.record_now(tipo, False, usuario=usuario, detalle="cuenta_inactiva")
        raise Forbidden("La cuenta está desactivada.", code="cuenta_inactiva")
    if usuario.pendiente_activacion:
        auth_log.record_now(tipo, False, usuario=usuario, detalle="cuenta_pendiente_activacion")
        raise Forbidden("La cuenta aún no ha sido activada.", code="cuenta_pendiente_activacion")


def lock_account(usuario: Usuario) -> None:
    """Lock the account's row before a sign-in adds its session and log rows (API and panel).

    Each of those inserts takes a shared lock on the account's row (their foreign key); two
    sign-ins of one account that both held one while waiting to update it (`last_login_at`)
    would deadlock. Locked first, they queue."""
    db.session.execute(select(Usuario.id).where(Usuario.id == usuario.id).with_for_update())


def complete_login(usuario: Usuario, how: str) -> dict:
    """Issue the token pair of a finished sign-in, log it and warn about a new IP (commits)."""
    lock_account(usuario)
    pair = start_session(usuario)
    record_sign_in(usuario, how)
    return {**pair, "usuario": usuario}


def record_sign_in(usuario: Usuario, how: str) -> None:
    """What every finished sign-in leaves once its session is open (API and staff panel): the
    last sign-in time and address, the access-log row (`detalle` says how), the commit, and a
    notice when the address is new for the account."""
    ip = auth_log.client_ip()
    new_ip = auth_log.is_new_ip(usuario, ip)
    usuario.last_login_at = utcnow()
    usuario.last_login_ip = ip
    auth_log.record(auth_log.LOGIN, True, usuario=usuario, detalle=how)
    db.session.commit()
    if new_ip:
        notify_user(usuario, "nuevo_inicio_sesion", ip=ip,
                    fecha=usuario.last_login_at.strftime("%Y-%m-%d %H:%M UTC"))


def login(email: str, password: str) -> tuple[dict, int]:
    """Check the password; answer the token pair (200) or a TOTP challenge (202)."""
    usuario = authenticate(email, password)
    if usuario.otp_enabled:
        return {"requires_otp": True, "challenge_token": issue_challenge(usuario)}, 202
    return complete_login(usuario, "password"), 200


def authenticate(email: str, password: str) -> Usuario:
    """The usable account of `email` when `password` is right; 401 `credenciales_invalidas`
    (the same for an unknown email, after the same work) or 403 for an unusable account,
    every failure logged. The first step of every sign-in (API and staff panel); a hash made
    with an older cost is replaced by one with the configured cost (passwords.upgrade_hash)."""
    email = email_key(email)
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == email))
    if usuario is None:
        burn_password_check(password)
        auth_log.record_now(auth_log.LOGIN, False, email=email, detalle="credenciales_invalidas")
        raise _invalid_credentials()
    if not verify_password(usuario.password_hash, password):
        auth_log.record_now(auth_log.LOGIN, False, usuario=usuario, detalle="credenciales_invalidas")
        raise _invalid_credentials()
    upgrade_hash(usuario, password)
    check_account_usable(usuario)
    return usuario


def issue_challenge(usuario: Usuario) -> str:
    """A signed token naming a new single-use second-step challenge (5 minutes)."""
    desafio = DesafioLogin(id=str(uuid.uuid4()), usuario_id=usuario.id, ip=auth_log.client_ip(),
                           expires_at=utcnow() + timedelta(seconds=CHALLENGE_MAX_AGE))
    db.session.add(desafio)
    auth_log.record(auth_log.LOGIN_DESAFIO, True, usuario=usuario, detalle="requiere_otp")
    db.session.commit()
    return purpose_tokens.sign(purpose_tokens.LOGIN_CHALLENGE, {"uid": usuario.id, "cid": desafio.id})


def _challenge_failed(usuario: Usuario | None, detalle: str) -> Unauthorized:
    auth_log.record_now(auth_log.LOGIN_OTP, False, usuario=usuario, detalle=detalle)
    if detalle == "desafio_invalido":
        return Unauthorized("El desafío de inicio de sesión no es válido o ya se usó.",
                            code="desafio_invalido")
    return Unauthorized("El código de verificación no es válido.", code="otp_invalido")


def login_otp(challenge_token: str, otp_code: str | None, backup_code: str | None) -> dict:
    """Answer a TOTP challenge with a TOTP or backup code; the challenge works once."""
    usuario, how = answer_challenge(challenge_token, otp_code, backup_code)
    return complete_login(usuario, how)


def answer_challenge(challenge_token: str, otp_code: str | None,
                     backup_code: str | None) -> tuple[Usuario, str]:
    """The user of a challenge answered with a right TOTP or backup code, and how (`otp`,
    `backup_code`); 401 otherwise (every answer counts an attempt before the code is compared;
    the fifth wrong one burns the challenge)."""
    payload = purpose_tokens.unsign(purpose_tokens.LOGIN_CHALLENGE, challenge_token, CHALLENGE_MAX_AGE)
    uid = payload.get("uid") if payload else None
    cid = payload.get("cid") if payload else None
    usuario = db.session.get(Usuario, uid) if isinstance(uid, int) else None
    desafio = db.session.get(DesafioLogin, cid) if isinstance(cid, str) else None
    if (usuario is None or desafio is None or desafio.usuario_id != usuario.id
            or desafio.used_at is not None or desafio.expires_at <= utcnow()):
        raise _challenge_failed(usuario, "desafio_invalido")
    check_account_usable(usuario, auth_log.LOGIN_OTP)
    if not attempts.claim(desafio):  # burnt, or its last attempts are being answered right now
        raise _challenge_failed(usuario, "desafio_invalido")
    if not otp.verify_second_factor(usuario, otp_code=otp_code, backup_code=backup_code):
        attempts.fail(desafio)
        raise _challenge_failed(usuario, "otp_invalido")
    if not attempts.spend(desafio):  # answered concurrently by another request
        db.session.rollback()
        raise _challenge_failed(usuario, "desafio_invalido")
    return usuario, "otp" if otp_code else "backup_code"


def refresh(usuario: Usuario | None, jwt_payload: dict) -> dict:
    """Rotate a refresh token; a token already rotated away ends its whole session (401)."""
    sesion_id = jwt_payload.get("sid")
    sesion = db.session.get(SesionAuth, sesion_id) if isinstance(sesion_id, str) else None
    if sesion is None or usuario is None or sesion.usuario_id != usuario.id:
        raise Unauthorized("Token inválido.", code="no_autenticado")
    rotated = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.jti == jwt_payload.get("jti"), RefreshToken.sesion_id == sesion.id,
               RefreshToken.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if rotated.rowcount != 1:
        db.session.rollback()
        revoke_session(sesion.id, "reuso_refresh")
        db.session.commit()
        raise Unauthorized("El token de renovación ya fue usado; la sesión se cerró.",
                           code="no_autenticado")
    if not usuario.is_active or usuario.pendiente_activacion:
        revoke_session(sesion.id, "cuenta_inactiva")
        db.session.commit()
        raise Unauthorized("La sesión ya no es válida.", code="no_autenticado")
    pair = token_pair(usuario, sesion)
    db.session.commit()
    return {**pair, "usuario": usuario}


def logout(sesion_id: str | None) -> None:
    """End the caller's session: its access token and refresh chain stop working."""
    if sesion_id:
        revoke_session(sesion_id, "logout")
        db.session.commit()
