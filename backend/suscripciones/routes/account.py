"""The signed-in user's company subscriptions: `/account/subscriptions`
(alias `/account/suscripciones`)."""
from __future__ import annotations

from ...core.api import BEARER, Blueprint
from ...core.pagination import CursorPaginationArgs, page_of
from ...identity.guards import auth_required, current_usuario
from .. import services as suscripciones
from ..schemas import CuentaSuscripcionSchema, RenovacionAutomaticaSchema

blp = Blueprint("account_suscripciones", __name__, url_prefix="/account",
                description="Suscripciones de la empresa del usuario autenticado.")


@blp.route("/subscriptions", methods=["GET"])
@blp.route("/suscripciones", methods=["GET"], endpoint="listar_alias")
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(CursorPaginationArgs, location="query")
@blp.response(200, page_of(CuentaSuscripcionSchema))
def listar(args):
    """My company's subscriptions, newest first, each with its plan and the plan's services."""
    return suscripciones.de_usuario(current_usuario(), **args)


@blp.route("/subscriptions/<int:suscripcion_id>", methods=["PATCH"])
@blp.doc(security=BEARER)
@auth_required()
@blp.arguments(RenovacionAutomaticaSchema)
@blp.response(200, CuentaSuscripcionSchema)
def cambiar(datos, suscripcion_id):
    """Switch `renovacion_automatica` on one of my company's subscriptions (404 for others)."""
    return suscripciones.cambiar_renovacion_automatica(
        suscripcion_id, current_usuario(), datos["renovacion_automatica"])
