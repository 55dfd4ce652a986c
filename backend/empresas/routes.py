"""Companies for staff: `/admin/empresas` (rol `admin`)."""
from __future__ import annotations

from ..core.api import BEARER, Blueprint
from ..core.pagination import page_of
from ..identity.guards import auth_required
from ..identity.models import Rol
from . import services as empresas
from .schemas import EmpresaQuerySchema, EmpresaSchema, EmpresaUpdateSchema

blp = Blueprint("admin_empresas", __name__, url_prefix="/admin/empresas",
                description="Empresas (staff): alta, edición, baja lógica y reactivación.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(EmpresaQuerySchema, location="query")
@blp.response(200, page_of(EmpresaSchema))
def listar(args):
    """List companies (filters `q` on NIT or name, `estado`)."""
    return empresas.listar(**args)


@blp.route("/<int:empresa_id>", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, EmpresaSchema)
def obtener(empresa_id):
    """One company."""
    return empresas.obtener(empresa_id)


@blp.route("", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(EmpresaSchema)
@blp.response(201, EmpresaSchema)
def crear(datos):
    """Create a company; 409 `nit_en_uso` when the NIT is taken."""
    return empresas.crear(datos)


@blp.route("/<int:empresa_id>", methods=["PUT"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(EmpresaUpdateSchema(partial=True))
@blp.response(200, EmpresaSchema)
def actualizar(datos, empresa_id):
    """Update a company (fields not sent stay as they are)."""
    return empresas.actualizar(empresa_id, datos)


@blp.route("/<int:empresa_id>", methods=["DELETE"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, EmpresaSchema)
def eliminar(empresa_id):
    """Soft-delete a company: it becomes `inactiva` (answers the company)."""
    return empresas.desactivar(empresa_id)


@blp.route("/<int:empresa_id>/activar", methods=["POST"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.response(200, EmpresaSchema)
def activar(empresa_id):
    """Make a company `activa` again."""
    return empresas.activar(empresa_id)
