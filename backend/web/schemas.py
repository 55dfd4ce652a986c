"""Answers of the health probes."""
from __future__ import annotations

from marshmallow import fields

from ..core.schemas import BaseSchema


class HealthSchema(BaseSchema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})


class ChecksField(fields.Dict):
    """Probe name (`database`, `redis:host:port/db`, `storage`) to `ok` or `error: <Exception>`."""

    def __init__(self, **kwargs):
        super().__init__(keys=fields.String(), values=fields.String(), metadata={
            "description": "Probe name (`database`, `redis:<host>:<port>/<db>` for each Redis "
                           "in use, `storage`) to `ok`, or to `error: <exception name>`.",
            "example": {"database": "ok", "storage": "ok"}}, **kwargs)


class ReadySchema(BaseSchema):
    status = fields.String(required=True, metadata={"enum": ["ok"]})
    checks = ChecksField(required=True)


class ReadyDetailsSchema(BaseSchema):
    checks = ChecksField(required=True)


class NotReadySchema(BaseSchema):
    """The error envelope of a 503: which probe failed."""

    error = fields.String(required=True, metadata={"enum": ["no_disponible"]})
    message = fields.String(required=True)
    details = fields.Nested(ReadyDetailsSchema, required=True)
