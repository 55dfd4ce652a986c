"""Users as staff manage them. Deactivating a user or changing its password ends its sessions;
an admin cannot deactivate, demote or delete themselves."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..auth.tokens import revoke_user_sessions
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import AccionAuditoria, Empresa, Rol, Usuario
from ..pagination import paginate
from .audit import record, snapshot
from .common import create_audited, delete_audited, ensure_unique, get_or_404
from .passwords import check_password_rule, hash_password


def listar(q: str | None = None, rol: Rol | None = None, empresa_id: int | None = None,
           is_active: bool | None = None, page: int = 1, per_page: int = 20) -> dict:
    """A page of users; `q` matches part of the name or the email."""
    stmt = select(Usuario).order_by(Usuario.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Usuario.nombre.ilike(like), Usuario.email.ilike(like)))
    if rol is not None:
        stmt = stmt.where(Usuario.rol == rol)
    if empresa_id is not None:
        stmt = stmt.where(Usuario.empresa_id == empresa_id)
    if is_active is not None:
        stmt = stmt.where(Usuario.is_active == is_active)
    return paginate(stmt, page, per_page)


def obtener(usuario_id: int) -> Usuario:
    return get_or_404(Usuario, usuario_id, "El usuario no existe.")


def _email_libre(email: str, excepto_id: int | None = None) -> None:
    ensure_unique(Usuario.email, email, "Ya existe un usuario con ese correo.", code="email_en_uso",
                  excluding_id=excepto_id, detail="Ya está registrado.")


def _empresa_existe(empresa_id: int | None) -> None:
    if empresa_id is not None and db.session.get(Empresa, empresa_id) is None:
        raise ValidationFailed(details={"empresa_id": ["La empresa no existe."]})


def crear(datos: dict) -> Usuario:
    """A user created by staff: active (unless `is_active` is false), no activation pending."""
    check_password_rule(datos["password"])
    _empresa_existe(datos.get("empresa_id"))
    _email_libre(datos["email"])
    password = datos.pop("password")
    return create_audited(Usuario(**datos, password_hash=hash_password(password),
                                  pendiente_activacion=False, email_verificado=True))


def actualizar(usuario_id: int, datos: dict, actor: Usuario) -> Usuario:
    usuario = obtener(usuario_id)
    if usuario.id == actor.id:
        if datos.get("is_active") is False:
            raise Conflict("No puede desactivar su propia cuenta.")
        if "rol" in datos and datos["rol"] != usuario.rol:
            raise Conflict("No puede cambiar su propio rol.")
    if "empresa_id" in datos:
        _empresa_existe(datos["empresa_id"])
    if "email" in datos:
        _email_libre(datos["email"], excepto_id=usuario.id)
    antes = snapshot(usuario)
    for campo, valor in datos.items():
        setattr(usuario, campo, valor)
    _guardar(usuario, antes)
    return usuario


def cambiar_password(usuario_id: int, password: str, actor: Usuario,
                     sesion_actual: str | None = None) -> Usuario:
    """Set a new password; the user's sessions end (but the caller's own, when it is theirs)."""
    usuario = obtener(usuario_id)
    check_password_rule(password)
    antes = snapshot(usuario)
    usuario.password_hash = hash_password(password)
    db.session.flush()
    revoke_user_sessions(usuario.id, "password_admin",
                         keep_sesion_id=sesion_actual if usuario.id == actor.id else None)
    # The hash never enters the audit row: only the fact that the password changed.
    record(AccionAuditoria.ACTUALIZAR, usuario, antes={**antes, "password": None},
           despues={**snapshot(usuario), "password": "cambiada"})
    db.session.commit()
    return usuario


def alternar_estado(usuario_id: int, actor: Usuario) -> Usuario:
    """Flip `is_active`; deactivating ends the user's sessions."""
    usuario = obtener(usuario_id)
    if usuario.id == actor.id:
        raise Conflict("No puede desactivar su propia cuenta.")
    antes = snapshot(usuario)
    usuario.is_active = not usuario.is_active
    _guardar(usuario, antes)
    return usuario


def eliminar(usuario_id: int, actor: Usuario) -> None:
    usuario = obtener(usuario_id)
    if usuario.id == actor.id:
        raise Conflict("No puede eliminar su propia cuenta.")
    revoke_user_sessions(usuario.id, "usuario_eliminado")
    delete_audited(usuario)


def _guardar(usuario: Usuario, antes: dict) -> None:
    """Flush, end the sessions of a user who became inactive, audit and commit."""
    if not db.session.is_modified(usuario):
        return
    db.session.flush()
    if antes["is_active"] and not usuario.is_active:
        revoke_user_sessions(usuario.id, "usuario_desactivado")
    record(AccionAuditoria.ACTUALIZAR, usuario, antes=antes)
    db.session.commit()
