"""The signed-in user's own sessions (`/account/sessions`): list the live ones, end one, and end
all the others after the password again."""
from __future__ import annotations

from sqlalchemy import select, update

from ...core.errors import NotFound
from ...core.models import utcnow
from ...extensions import db
from ..models import SesionAuth, Usuario
from .login import reauthenticate
from .sessions import live, revoke_session


def list_sessions(usuario: Usuario, sesion_actual: str | None) -> list[dict]:
    """The user's live sessions, newest first; `actual` marks the caller's own."""
    rows = db.session.scalars(
        live(select(SesionAuth).where(SesionAuth.usuario_id == usuario.id))
        .order_by(SesionAuth.created_at.desc(), SesionAuth.id)
    )
    return [{"id": row.id, "created_at": row.created_at, "last_used_at": row.last_used_at,
             "ip": row.ip, "user_agent": row.user_agent, "actual": row.id == sesion_actual}
            for row in rows]


def end_session(usuario: Usuario, sesion_id: str) -> None:
    """End one live session of the user (its tokens stop working); 404 for anyone else's."""
    own = db.session.scalar(live(select(SesionAuth.id).where(
        SesionAuth.id == sesion_id, SesionAuth.usuario_id == usuario.id)))
    if own is None:
        raise NotFound("La sesión no existe.")
    revoke_session(own, "cerrada_por_usuario")
    db.session.commit()


def end_other_sessions(usuario: Usuario, password: str, sesion_actual: str | None) -> int:
    """After the current password (401 when wrong), end every live session of the user but
    the caller's; how many ended."""
    reauthenticate(usuario, password)
    stmt = live(update(SesionAuth).where(SesionAuth.usuario_id == usuario.id))
    if sesion_actual:
        stmt = stmt.where(SesionAuth.id != sesion_actual)
    result = db.session.execute(
        stmt.values(revoked_at=utcnow(), revoked_reason="cerradas_por_usuario")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount
