"""Per-company API keys as staff see them (the full key only in the create answer)."""
from __future__ import annotations

from marshmallow import fields, validate

from .base import BaseSchema, UTCDateTime
from .validators import Trimmed


class ApiKeyCreateSchema(BaseSchema):
    nombre = Trimmed(load_default=None, allow_none=True, validate=validate.Length(max=120))


class ApiKeySchema(BaseSchema):
    id = fields.Integer(dump_only=True)
    empresa_id = fields.Integer(dump_only=True)
    nombre = fields.String(allow_none=True)
    prefijo = fields.String(dump_only=True, metadata={"example": "sk_1a2b3c4d"})
    activa = fields.Function(lambda key: key.revoked_at is None, dump_only=True)
    created_at = UTCDateTime(dump_only=True)
    last_used_at = UTCDateTime(dump_only=True, allow_none=True)
    revoked_at = UTCDateTime(dump_only=True, allow_none=True)


class ApiKeyCreatedSchema(BaseSchema):
    """The answer of `POST`: the only time `api_key` is shown."""

    id = fields.Integer()
    nombre = fields.String(allow_none=True)
    prefijo = fields.String()
    api_key = fields.String(metadata={"description": "The full key; it is not stored and never shown again."})
    created_at = UTCDateTime()
