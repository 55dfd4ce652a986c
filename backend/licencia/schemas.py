"""Licence API bodies and answers (documentation of the signed answers). The plan reference
shared with suscripciones is nested by schema name, not imported."""
from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate

from ..core.schemas import BaseSchema
from ..core.validators import Nit

NONCE_RE = re.compile(r"^[\x21-\x7e]{1,128}$")
# The same rule for the spec (JSON Schema regex): 1 to 128 visible ASCII characters.
NONCE_DOC = {"pattern": "^[!-~]{1,128}$", "description": "Echoed in the signed answer: 1 to 128 "
             "visible ASCII characters (a random token per request lets you detect replays)."}


def _nonce(value: str) -> None:
    if not NONCE_RE.match(value):
        raise ValidationError("Nonce inválido: de 1 a 128 caracteres ASCII visibles.")


class NonceQuerySchema(BaseSchema):
    nonce = fields.String(validate=_nonce, metadata=NONCE_DOC)


class VerificarLicenciaSchema(BaseSchema):
    """`POST /api/verificar-licencia` body (optional)."""

    nonce = fields.String(validate=_nonce, metadata=NONCE_DOC)


class VerificarServiciosSchema(BaseSchema):
    nit = Nit(required=True)
    servicios = fields.List(fields.String(validate=validate.Length(min=1, max=120)), required=True,
                            validate=validate.Length(min=1, max=100))
    nonce = fields.String(validate=_nonce, metadata=NONCE_DOC)


class EmpresaLicenciaSchema(BaseSchema):
    id = fields.Integer()
    nit = fields.String()
    nombre = fields.String()
    estado = fields.String(metadata={"enum": ["activa", "inactiva"]})


class SuscripcionLicenciaSchema(BaseSchema):
    id = fields.Integer()
    plan = fields.Nested("PlanNombreSchema")  # suscripciones' plan reference, by name
    periodo = fields.String()
    fecha_inicio = fields.Date()
    fecha_fin = fields.Date()
    estado = fields.String()


class ServicioLicenciaSchema(BaseSchema):
    nombre = fields.String()
    cantidad = fields.Integer()
    url_api = fields.String(allow_none=True)


CODIGOS = ["VALIDA", "SIN_SUSCRIPCION", "SUSPENDIDA", "VENCIDA", "CANCELADA", "EMPRESA_INACTIVA",
           "EMPRESA_NO_ENCONTRADA"]


class LicenciaSchema(BaseSchema):
    """A signed licence answer (header `X-Signature`: base64 Ed25519 over the body bytes).

    `EMPRESA_NO_ENCONTRADA` is answered with HTTP 404 and this same object (`empresa` and
    `suscripcion` null) plus the error envelope's `error: "no_encontrado"` and `message`.
    """

    activa = fields.Boolean()
    codigo = fields.String(metadata={"enum": CODIGOS})
    nit = fields.String(allow_none=True, metadata={
        "description": "The NIT this answer is for, in every answer (404 included): the NIT asked "
                       "about, or for `/api/verificar-licencia` the caller's company's NIT (null "
                       "when the caller has none). Check it, with `ts` and your `nonce`, so an "
                       "answer signed for another NIT or another request is refused.",
        "example": "900123456-7"})
    empresa = fields.Nested(EmpresaLicenciaSchema, allow_none=True)
    suscripcion = fields.Nested(SuscripcionLicenciaSchema, allow_none=True)
    servicios = fields.List(fields.Nested(ServicioLicenciaSchema),
                            metadata={"description": "The plan's active services; [] unless VALIDA."})
    ts = fields.String(metadata={"example": "2026-01-31T12:00:00Z"})
    nonce = fields.String(metadata={"description": "Present when the caller sent one."})
    error = fields.String(metadata={"description": "Only with 404: `no_encontrado`."})
    message = fields.String(metadata={"description": "Only with 404."})


class EstadoServicioSchema(BaseSchema):
    activo = fields.Boolean()
    cantidad = fields.Integer()


class ServiciosActivosSchema(BaseSchema):
    """A signed answer: each requested service name with `{activo, cantidad}`."""

    nit = fields.String(metadata={"description": "The NIT asked about (normalised), in every answer."})
    codigo = fields.String(metadata={"enum": CODIGOS, "description": "The licence code behind it."})
    servicios = fields.Dict(keys=fields.String(), values=fields.Nested(EstadoServicioSchema))
    ts = fields.String()
    nonce = fields.String()
    error = fields.String(metadata={"description": "Only with 404: `no_encontrado`."})
    message = fields.String(metadata={"description": "Only with 404."})


class PublishedKeySchema(BaseSchema):
    kid = fields.String(metadata={"description": "First 16 hex of SHA-256 of the public key DER; "
                                                 "answers name theirs in `X-Signature-Kid`."})
    public_key_pem = fields.String()
    actual = fields.Boolean(metadata={"description": "True for the key that signs now."})


class PublicKeySchema(BaseSchema):
    """The current key (`kid`, `public_key_pem`) and every published key (`keys`)."""

    algoritmo = fields.String(metadata={"example": "Ed25519"})
    kid = fields.String(metadata={"description": "The current key: first 16 hex of SHA-256 of "
                                                 "the public key DER."})
    public_key_pem = fields.String(metadata={"description": "The current key (PEM)."})
    keys = fields.List(fields.Nested(PublishedKeySchema), metadata={
        "description": "Every published key, the current one first (`actual: true`); during a "
                       "rotation also the earlier ones (LICENSE_PREVIOUS_PUBLIC_KEYS)."})
