"""Country and city look-ups for address forms (public, read-only, cached)."""
from __future__ import annotations

import re

from ..core.api import Blueprint
from ..core.errors import ValidationFailed
from . import services as location
from .schemas import CitySchema, CountrySchema, LocationQuerySchema

blp = Blueprint("location", __name__, url_prefix="/public/location",
                description="Countries (Spanish names) and cities")

ISO2 = re.compile(r"^[A-Za-z]{2}$")
CACHE_HEADERS = {"Cache-Control": "public, max-age=3600"}


@blp.route("/countries", methods=["GET"])
@blp.arguments(LocationQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CountrySchema(many=True))
def countries(q: str, limit: int):
    """Countries whose Spanish name starts with `q` (or whose ISO2 code is `q`)."""
    return location.search_countries(q, limit), 200, CACHE_HEADERS


@blp.route("/countries/<string:iso2>/cities", methods=["GET"], parameters=[
    {"in": "path", "name": "iso2", "description": "ISO 3166-1 alpha-2 code, either case (CO).",
     "schema": {"type": "string", "pattern": ISO2.pattern}}])
@blp.arguments(LocationQuerySchema, location="query", as_kwargs=True)
@blp.response(200, CitySchema(many=True))
def cities(q: str, limit: int, iso2: str):
    """Cities of a country whose name starts with `q`, most populated first."""
    if not ISO2.match(iso2):
        raise ValidationFailed(details={"iso2": ["Use el código ISO de dos letras (CO)."]})
    return location.search_cities(iso2, q, limit), 200, CACHE_HEADERS
