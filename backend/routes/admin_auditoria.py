"""The audit trail for staff: `/admin/auditoria` (rol `admin`)."""
from __future__ import annotations

from ..api import BEARER, Blueprint
from ..auth.decorators import auth_required
from ..models import Rol
from ..pagination import page_of
from ..schemas.auditoria import AuditoriaQuerySchema, AuditoriaSchema
from ..services import auditoria

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
