"""Licence API for the SaaS instances (`/api`): signed answers (see licencia.signing)."""
from __future__ import annotations

from marshmallow import ValidationError

from ..catalogo import services as catalogo
from ..core.api import API_KEY, BEARER, Blueprint
from ..core.errors import ValidationFailed
from ..core.pagination import CursorPaginationArgs, page_of
from ..core.validators import NIT_PATTERN, normalize_nit
from ..empresas.api_key_auth import api_key_required, empresa_id_of_key
from ..identity.guards import auth_required, current_usuario
from . import services as licencia
from . import signing
from .schemas import (
    LicenciaSchema,
    NonceQuerySchema,
    PublicKeySchema,
    ServiciosActivosSchema,
    VerificarLicenciaSchema,
    VerificarServiciosSchema,
)

blp = Blueprint("licencia", __name__, url_prefix="/api", description="Licence API (SaaS instances)")

SIGNED = {
    "X-Signature": {"description": "Base64 Ed25519 signature of the exact body bytes.",
                    "schema": {"type": "string"}},
    "X-Signature-Kid": {"description": "`kid` of the key that made X-Signature (GET /api/public-key).",
                        "schema": {"type": "string"}},
}


def _nonce(body: dict | None, query: dict) -> str | None:
    """The caller's nonce: from the JSON body, else from the query string (both validated)."""
    if body and body.get("nonce") is not None:
        return body["nonce"]
    return query.get("nonce")


def _nit(raw: str) -> str:
    try:
        return normalize_nit(raw)
    except ValidationError as exc:
        raise ValidationFailed(details={"nit": exc.messages}) from exc


@blp.route("/planes", methods=["GET"])
@api_key_required
@blp.doc(security=API_KEY)
@blp.arguments(CursorPaginationArgs, location="query", as_kwargs=True)
@blp.response(200, page_of("PlanPublicoSchema"))
def planes(page: int, per_page: int, cursor: str | None):
    """Active plans with their services (as `/public/planes`)."""
    return catalogo.planes_publicos(page, per_page, cursor)


@blp.route("/suscripcion-activa/<string:nit>", methods=["GET"], parameters=[
    {"in": "path", "name": "nit", "description": "The company's NIT (dots and spaces ignored).",
     "schema": {"type": "string", "pattern": NIT_PATTERN, "example": "900123456-7"}}])
@api_key_required
@blp.doc(security=API_KEY)
@blp.arguments(NonceQuerySchema, location="query")
@blp.response(200, LicenciaSchema, headers=SIGNED)
@blp.alt_response(404, schema=LicenciaSchema, description="codigo EMPRESA_NO_ENCONTRADA (signed).")
def suscripcion_activa(query: dict, nit: str):
    """The licence of the company with this NIT (signed; `?nonce=` is echoed).

    Valid (`VALIDA`) when the company is `activa` and its `activa` subscription covers today.
    Otherwise the most recent subscription explains it: `SUSPENDIDA`, `CANCELADA`, `VENCIDA`
    (an `activa` one that ended), `SIN_SUSCRIPCION` (none, pending `inactiva`, or not started);
    `EMPRESA_INACTIVA` wins over all of them. An unknown NIT is HTTP 404 with this same signed
    object (`codigo: EMPRESA_NO_ENCONTRADA`) plus `error`/`message`.
    A per-company API key may only ask about its own company (403 `prohibido`).
    Answers are cached up to LICENSE_CACHE_SECONDS; any change to the company, its
    subscriptions or the catalogue invalidates them (a version key, in Redis when configured).
    Every answer, 404 included, names the NIT asked about (`nit`, normalised), so a signed
    answer cannot stand for another company: check `nit`, `ts` and your `nonce`.
    """
    nit = _nit(nit)
    body, status = licencia.respuesta(licencia.licencia_para_clave(nit, empresa_id_of_key()), nit)
    return signing.signed_json(body, status, query.get("nonce"))


@blp.route("/verificar-licencia", methods=["POST"])
@auth_required()
@blp.doc(security=BEARER)
@blp.arguments(VerificarLicenciaSchema, required=False)
@blp.arguments(NonceQuerySchema, location="query")
@blp.response(200, LicenciaSchema, headers=SIGNED)
@blp.alt_response(404, schema=LicenciaSchema, description="The user has no company (signed).")
def verificar_licencia(data: dict, query: dict):
    """The licence of the signed-in user's company (signed; `nonce` in body or query is echoed).

    `nit` is that company's NIT, or null when the user has none (404).
    """
    answer = licencia.licencia_por_empresa_id(current_usuario().empresa_id)
    body, status = licencia.respuesta(answer, answer["empresa"]["nit"] if answer["empresa"] else None)
    return signing.signed_json(body, status, _nonce(data, query))


@blp.route("/verificar-servicios-activos", methods=["POST"])
@api_key_required
@blp.doc(security=API_KEY)
@blp.arguments(VerificarServiciosSchema)
@blp.arguments(NonceQuerySchema, location="query")
@blp.response(200, ServiciosActivosSchema, headers=SIGNED)
@blp.alt_response(404, schema=ServiciosActivosSchema, description="Unknown NIT (signed).")
def verificar_servicios_activos(data: dict, query: dict):
    """Whether each named service is granted by the plan of the company's valid subscription.

    `nit` (normalised) is in every answer, 404 included.
    """
    answer = licencia.licencia_para_clave(data["nit"], empresa_id_of_key())
    body = {"nit": data["nit"], "codigo": answer["codigo"],
            "servicios": licencia.servicios_activos(answer, data["servicios"])}
    return signing.signed_json(licencia.with_error_keys(body, answer["codigo"]),
                               licencia.http_status(answer), _nonce(data, query))


@blp.route("/public-key", methods=["GET"])
@blp.response(200, PublicKeySchema)
def public_key():
    """The Ed25519 public keys that verify `X-Signature` of the licence answers.

    `kid` and `public_key_pem` are the current key; `keys` lists every published key (the
    current one with `actual: true`, then earlier ones kept during a rotation): verify an
    answer with the key whose `kid` is its `X-Signature-Kid`.
    """
    return signing.public_key_info()
