"""Users for staff: `/admin/usuarios` (rol `admin`). Answers are the contract's `usuario`."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import page_of
from ..guards import auth_required, current_session_id, current_usuario
from ..models import Rol
from ..schemas import (
    AdminUsuarioSchema,
    AdminUsuarioUpdateSchema,
    NuevaPasswordSchema,
    UsuarioQuerySchema,
    UsuarioSchema,
)
from ..services import usuarios

blp = Blueprint("admin_usuarios", __name__, url_prefix="/admin/usuarios",
                description="Usuarios (staff): alta, edición, contraseña, activación y baja.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(UsuarioQuerySchema, location="query")
@blp.response(200, page_of(UsuarioSchema))
def listar(args):
    """List users (filters `q` on name or email, `rol`, `empresa_id`, `is_active`)."""
    return usuarios.listar(**args)


@blp.route("/<int:usuario_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, UsuarioSchema)
def obtener(usuario_id):
    """One user."""
    return usuarios.obtener(usuario_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(AdminUsuarioSchema)
@blp.response(201, UsuarioSchema)
def crear(datos):
    """Create a user, active at once; 409 `email_en_uso`, 422 `password_debil`."""
    return usuarios.crear(datos)


@blp.route("/<int:usuario_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(AdminUsuarioUpdateSchema)
@blp.response(200, UsuarioSchema)
def actualizar(datos, usuario_id):
    """Update a user (fields not sent stay); deactivating ends its sessions."""
    return usuarios.actualizar(usuario_id, datos, current_usuario())


@blp.route("/<int:usuario_id>/cambiar-password", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(NuevaPasswordSchema)
@blp.response(200, UsuarioSchema)
def cambiar_password(datos, usuario_id):
    """Set a user's password; its sessions end."""
    return usuarios.cambiar_password(usuario_id, datos["password"], current_usuario(),
                                     current_session_id())


@blp.route("/<int:usuario_id>/toggle-estado", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, UsuarioSchema)
def alternar_estado(usuario_id):
    """Activate or deactivate a user; deactivating ends its sessions."""
    return usuarios.alternar_estado(usuario_id, current_usuario())


@blp.route("/<int:usuario_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(204)
def eliminar(usuario_id):
    """Delete a user (not yourself)."""
    usuarios.eliminar(usuario_id, current_usuario())
