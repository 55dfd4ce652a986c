"""Public calls (no auth): the catalogue, company names and self-service sign-up."""
from __future__ import annotations

from flask import current_app

from ...catalogo import services as catalogo
from ...core.api import Blueprint
from ...core.pagination import CursorPaginationArgs, page_of
from ...empresas import services as empresas
from ...extensions import limiter
from .. import signup
from ..schemas import (
    AltaPublicaSchema,
    EmpresaPublicaSchema,
    PlanPublicoSchema,
    ServicioPublicoSchema,
    ServiciosQuerySchema,
    SuscripcionPublicaSchema,
)

blp = Blueprint("public", __name__, url_prefix="/public", description="Public catalogue and sign-up")


def _signup_limit() -> str:
    return current_app.config["PUBLIC_SIGNUP_RATE_LIMIT"]


@blp.route("/planes", methods=["GET"])
@blp.arguments(CursorPaginationArgs, location="query", as_kwargs=True)
@blp.response(200, page_of(PlanPublicoSchema))
def planes(page: int, per_page: int, cursor: str | None):
    """Active plans, each with its active services and their limits (`cantidad`)."""
    return catalogo.planes_publicos(page, per_page, cursor)


@blp.route("/servicios", methods=["GET"])
@blp.arguments(ServiciosQuerySchema, location="query", as_kwargs=True)
@blp.response(200, page_of(ServicioPublicoSchema))
def servicios(activos: bool, page: int, per_page: int, cursor: str | None):
    """Services on sale (`?activos=1`: only the active ones)."""
    return catalogo.servicios_publicos(activos, page, per_page, cursor)


@blp.route("/empresas/<int:empresa_id>", methods=["GET"])
@blp.response(200, EmpresaPublicaSchema)
def empresa(empresa_id: int):
    """A company's public card: `{id, nombre, estado}` only."""
    return empresas.empresa_publica(empresa_id)


@blp.route("/suscripcion", methods=["POST"])
@limiter.limit(_signup_limit)
@blp.arguments(SuscripcionPublicaSchema)
@blp.response(201, AltaPublicaSchema)
@blp.alt_response(409, description="NIT or email already registered (`email_en_uso`).")
@blp.alt_response(422, description="Invalid body, weak password (`password_debil`) or unknown plan.")
@blp.alt_response(429, description="Too many sign-ups from this IP.")
def suscripcion(data: dict):
    """Sign up: company, first user (pending activation, code emailed) and an `inactiva` subscription.

    Throttled per IP (`PUBLIC_SIGNUP_RATE_LIMIT`, default 5 per minute and 30 per hour).
    All three rows are created in one transaction: on any error nothing is kept.
    """
    return signup.suscribir(data["empresa"], data["usuario"], data["plan_id"], data["periodo"])
