"""Users as staff manage them. Deactivating a user or changing its password ends its sessions;
an admin cannot deactivate, demote or delete themselves."""
from __future__ import annotations

from sqlalchemy import select

from ...core import persistence
from ...core.errors import Conflict, ValidationFailed
from ...core.pagination import paginate
from ...core.persistence import ensure_unique, get_or_404, where_given
from ...core.search import Search
from ...empresas.models import Empresa
from ...extensions import db
from ..models import Rol, Usuario
from .passwords import check_password_rule, hash_password
from .sessions import revoke_user_sessions


def listar(q: str | None = None, rol: Rol | None = None, empresa_id: int | None = None,
           is_active: bool | None = None, page: int = 1, per_page: int = 20,
           cursor: str | None = None) -> dict:
    """A page of users; `q` finds words of the name or the email by their beginning
    (core.search)."""
    stmt = where_given(select(Usuario).order_by(Usuario.id), {
        Usuario.rol: rol, Usuario.empresa_id: empresa_id, Usuario.is_active: is_active})
    return paginate(stmt, page, per_page, cursor, search=Search(Usuario, q))


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
    return persistence.create(Usuario(**datos, password_hash=hash_password(password),
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
    era_activo = usuario.is_active
    for campo, valor in datos.items():
        setattr(usuario, campo, valor)
    _guardar(usuario, era_activo)
    return usuario


def cambiar_password(usuario_id: int, password: str, actor: Usuario,
                     sesion_actual: str | None = None) -> Usuario:
    """Set a new password; the user's sessions end (but the caller's own, when it is theirs)."""
    usuario = obtener(usuario_id)
    check_password_rule(password)
    # The audit row records that the password changed, never the hash.
    usuario.password_hash = hash_password(password)
    revoke_user_sessions(usuario.id, "password_admin",
                         keep_sesion_id=sesion_actual if usuario.id == actor.id else None)
    db.session.commit()
    return usuario


def alternar_estado(usuario_id: int, actor: Usuario) -> Usuario:
    """Flip `is_active`; deactivating ends the user's sessions."""
    usuario = obtener(usuario_id)
    if usuario.id == actor.id:
        raise Conflict("No puede desactivar su propia cuenta.")
    usuario.is_active = not usuario.is_active
    _guardar(usuario, not usuario.is_active)
    return usuario


def eliminar(usuario_id: int, actor: Usuario) -> None:
    usuario = obtener(usuario_id)
    if usuario.id == actor.id:
        raise Conflict("No puede eliminar su propia cuenta.")
    revoke_user_sessions(usuario.id, "usuario_eliminado")
    persistence.delete(usuario)


def _guardar(usuario: Usuario, era_activo: bool) -> None:
    """Commit a change; a user who became inactive loses every session in the same commit."""
    if not db.session.is_modified(usuario):
        return
    if era_activo and not usuario.is_active:
        revoke_user_sessions(usuario.id, "usuario_desactivado")
    db.session.commit()
