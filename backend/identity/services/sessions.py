"""JWT pairs bound to a server-side session (SesionAuth) so that tokens can be revoked:
logout, refresh-token reuse, password change and deactivation end sessions in the database,
which every app instance sees. A session lives at most SESSION_MAX_DAYS from its sign-in."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token
from sqlalchemy import select, update

from ...core.models import utcnow
from ...extensions import db
from ..models import DesafioLogin, RefreshToken, SesionAuth, Usuario
from . import access_log


def _claims(usuario: Usuario, sesion_id: str) -> dict:
    return {
        "rol": str(usuario.rol),
        "usuario_id": usuario.id,
        "empresa_id": usuario.empresa_id,
        "otp_enabled": bool(usuario.otp_enabled),
        "sid": sesion_id,
    }


def session_deadline(created_at) -> datetime:
    """The absolute end of a session opened at `created_at` (SESSION_MAX_DAYS later)."""
    return created_at + timedelta(days=current_app.config["SESSION_MAX_DAYS"])


def token_pair(usuario: Usuario, sesion: SesionAuth) -> dict:
    """Mint an access and a refresh token for `sesion` and record the refresh token. Neither
    outlives the session's absolute end (session_deadline)."""
    config = current_app.config
    now = utcnow()
    left = session_deadline(sesion.created_at) - now
    access_ttl = min(timedelta(minutes=config["JWT_ACCESS_MINUTES"]), left)
    refresh_ttl = min(timedelta(days=config["JWT_REFRESH_DAYS"]), left)
    claims = _claims(usuario, sesion.id)
    refresh_jti = str(uuid.uuid4())
    access = create_access_token(identity=str(usuario.id), additional_claims=claims,
                                 expires_delta=access_ttl)
    refresh = create_refresh_token(identity=str(usuario.id),
                                   additional_claims={**claims, "jti": refresh_jti},
                                   expires_delta=refresh_ttl)
    db.session.add(RefreshToken(jti=refresh_jti, sesion_id=sesion.id, expires_at=now + refresh_ttl))
    sesion.expires_at = now + refresh_ttl
    sesion.last_used_at = now
    return {
        "access_token": access,
        "refresh_token": refresh,
        "token_type": "Bearer",
        "expires_in": int(access_ttl.total_seconds()),
    }


def open_session(usuario: Usuario, lifetime: timedelta) -> SesionAuth:
    """A new session row of `usuario` from the caller's address and browser, ending after
    `lifetime` unless renewed (caller commits). The API's token pairs and the staff panel's
    cookie both name one."""
    now = utcnow()
    sesion = SesionAuth(id=str(uuid.uuid4()), usuario_id=usuario.id, created_at=now,
                        last_used_at=now, expires_at=now + lifetime,
                        ip=access_log.client_ip(), user_agent=access_log.user_agent())
    db.session.add(sesion)
    db.session.flush()
    return sesion


def start_session(usuario: Usuario) -> dict:
    """Open a new session for `usuario` and return its first token pair (caller commits)."""
    sesion = open_session(usuario, timedelta(days=current_app.config["JWT_REFRESH_DAYS"]))
    return token_pair(usuario, sesion)


def revoke_session(sesion_id: str, reason: str) -> None:
    """End one session: its access and refresh tokens stop working."""
    db.session.execute(
        update(SesionAuth)
        .where(SesionAuth.id == sesion_id, SesionAuth.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


def revoke_user_sessions(usuario_id: int, reason: str, keep_sesion_id: str | None = None) -> None:
    """End every session of a user (optionally all but the caller's own), and every pending
    login challenge: one issued for the old password or 2FA must not become a new session."""
    db.session.execute(
        update(DesafioLogin)
        .where(DesafioLogin.usuario_id == usuario_id, DesafioLogin.used_at.is_(None))
        .values(used_at=utcnow())
    )
    stmt = (
        update(SesionAuth)
        .where(SesionAuth.usuario_id == usuario_id, SesionAuth.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if keep_sesion_id:
        stmt = stmt.where(SesionAuth.id != keep_sesion_id)
    db.session.execute(stmt)


def live(stmt, now: datetime | None = None):
    """`stmt` (over SesionAuth) restricted to live sessions: not revoked, not expired, and
    younger than SESSION_MAX_DAYS (also for rows issued before a shorter setting)."""
    now = now or utcnow()
    oldest = now - timedelta(days=current_app.config["SESSION_MAX_DAYS"])
    return stmt.where(SesionAuth.revoked_at.is_(None), SesionAuth.expires_at > now,
                      SesionAuth.created_at > oldest)


def session_is_active(sesion_id: str | None, usuario_id=None) -> bool:
    """True when the session exists, is live (see `live`) and, when `usuario_id` is given
    (the `sub` of a token), belongs to that user: a token naming another user's session is
    worth nothing."""
    if not sesion_id or not isinstance(sesion_id, str):
        return False
    owner = db.session.scalar(live(select(SesionAuth.usuario_id).where(SesionAuth.id == sesion_id)))
    if owner is None:
        return False
    return usuario_id is None or str(owner) == str(usuario_id)
