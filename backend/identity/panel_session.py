"""The staff panel's sign-in session: a server-side `SesionAuth` row named by the signed,
HttpOnly session cookie. It ends with sign-out, its lifetime, and whatever ends the user's
sessions (password change, 2FA change, deactivation); each request also checks the user is
still active staff. The cookie opens only the panel (the JSON API reads bearer tokens only),
and a bearer token never opens the panel."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app, request, session

from ..core import audit
from ..extensions import db
from .models import SesionAuth, Usuario
from .services.login import lock_account, record_sign_in
from .services.sessions import open_session, revoke_session, session_is_active

PANEL_SID = "panel_sid"


def start(usuario: Usuario, how: str) -> None:
    """Open a panel session for `usuario` (after the password and, with 2FA, the second step)."""
    lock_account(usuario)
    sesion = open_session(usuario, timedelta(hours=current_app.config["PANEL_SESSION_HOURS"]))
    record_sign_in(usuario, f"panel:{how}")
    session.clear()  # a new session id after sign-in: no fixation
    session.permanent = True
    session[PANEL_SID] = sesion.id


_MEMO = "backend.panel.staff"  # per request: the WSGI environ, which unlike `g` never outlives it


def current_staff() -> Usuario | None:
    """The active staff member of this request's panel session, else None (memoised)."""
    if _MEMO in request.environ:
        return request.environ[_MEMO]
    usuario = None
    sid = session.get(PANEL_SID)
    if isinstance(sid, str) and session_is_active(sid):
        sesion = db.session.get(SesionAuth, sid)
        candidate = db.session.get(Usuario, sesion.usuario_id) if sesion else None
        if (candidate is not None and candidate.is_active and not candidate.pendiente_activacion
                and candidate.is_staff):
            usuario = candidate
            audit.set_actor(usuario.id)
    request.environ[_MEMO] = usuario
    return usuario


def end() -> None:
    """Sign out: the server-side session ends and the cookie is emptied."""
    sid = session.get(PANEL_SID)
    if isinstance(sid, str):
        revoke_session(sid, "logout_panel")
        db.session.commit()
    session.clear()
    request.environ.pop(_MEMO, None)
