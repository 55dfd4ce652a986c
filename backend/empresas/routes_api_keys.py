"""Staff management of per-company API keys (`/admin/empresas/:id/api-keys`)."""
from __future__ import annotations

from ..core.api import BEARER, Blueprint
from ..core.pagination import CursorPaginationArgs, page_of, paginate
from ..identity.guards import auth_required, current_usuario
from ..identity.models import Rol
from . import api_keys
from .schemas import ApiKeyCreatedSchema, ApiKeyCreateSchema, ApiKeySchema

blp = Blueprint("admin_api_keys", __name__, url_prefix="/admin/empresas",
                description="Per-company API keys (admin)")


@blp.route("/<int:empresa_id>/api-keys", methods=["GET"])
@auth_required(Rol.ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(CursorPaginationArgs, location="query", as_kwargs=True)
@blp.response(200, page_of(ApiKeySchema))
def list_keys(empresa_id: int, page: int, per_page: int, cursor: str | None):
    """List a company's API keys (never the key itself)."""
    return paginate(api_keys.keys_of(empresa_id), page, per_page, cursor)


@blp.route("/<int:empresa_id>/api-keys", methods=["POST"])
@auth_required(Rol.ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(ApiKeyCreateSchema, required=False)
@blp.response(201, ApiKeyCreatedSchema)
def create_key(data: dict, empresa_id: int):
    """Create an API key for a company; the answer is the only time the full key is shown."""
    row, key = api_keys.create_key(empresa_id, (data or {}).get("nombre"), current_usuario().id)
    return {"id": row.id, "nombre": row.nombre, "prefijo": row.prefijo, "api_key": key,
            "created_at": row.created_at}


@blp.route("/<int:empresa_id>/api-keys/<int:key_id>", methods=["DELETE"])
@auth_required(Rol.ADMIN)
@blp.doc(security=BEARER)
@blp.response(204)
def revoke_key(empresa_id: int, key_id: int):
    """Revoke an API key: it stops working at once (idempotent)."""
    api_keys.revoke_key(empresa_id, key_id)
