"""The audit trail for staff: `/admin/auditoria` (rol `admin`)."""
from __future__ import annotations

from ..core.api import BEARER, Blueprint
from ..core.pagination import page_of
from ..identity.guards import auth_required
from ..identity.models import Rol
from . import services as auditoria
from .schemas import AuditoriaQuerySchema, AuditoriaSchema

blp = Blueprint("admin_auditoria", __name__, url_prefix="/admin/auditoria",
                description="Registro de auditoría de los cambios hechos por staff.")


@blp.route("", methods=["GET"])
@blp.doc(security=BEARER)
@auth_required(Rol.ADMIN)
@blp.arguments(AuditoriaQuerySchema, location="query")
@blp.response(200, page_of(AuditoriaSchema))
def listar(args):
    """List audit rows, newest first (filters `tabla`, `registro_id`, `usuario_id`)."""
    return auditoria.listar(**args)
