"""Location catalogue queries and answers."""
from __future__ import annotations

from marshmallow import fields, validate

from ..core.schemas import BaseSchema
from .services import DEFAULT_LIMIT, MAX_LIMIT


class LocationQuerySchema(BaseSchema):
    q = fields.String(load_default="", validate=validate.Length(max=100),
                      metadata={"description": "Name prefix; case and accents are ignored."})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1),
                           metadata={"description": f"Default {DEFAULT_LIMIT}; values above "
                                                    f"{MAX_LIMIT} are reduced to {MAX_LIMIT}."})


class CountrySchema(BaseSchema):
    iso2 = fields.String(metadata={"example": "CO"})
    nombre = fields.String(metadata={"example": "Colombia"})


class CitySchema(BaseSchema):
    id = fields.Integer(metadata={"description": "GeoNames id."})
    nombre = fields.String()
    region = fields.String(allow_none=True)
    poblacion = fields.Integer()
