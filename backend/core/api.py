"""flask-smorest glue: the Api (OpenAPI spec), a Blueprint whose JSON parser refuses
non-JSON bodies with 415 and large ones with 413, and security schemes for the spec."""
from __future__ import annotations

import threading
from typing import ClassVar

from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from marshmallow import EXCLUDE, Schema, fields
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from .errors import UnsupportedMediaType, handle_http_exception
from .request_body import json_body, limit_body_size
from .schemas import MAX_INT


class JsonOnlyParser(FlaskParser):
    """Refuse a request body that is not JSON (415) instead of silently ignoring it, decode
    it strictly (core.json_codec), and ignore unknown query parameters: the contract
    refuses unknown *body* fields, while SaaS instances may add cache-busting query strings."""

    DEFAULT_UNKNOWN_BY_LOCATION: ClassVar[dict] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": EXCLUDE}

    def _raw_load_json(self, req):
        if not req.is_json and (req.content_length or req.get_data(cache=True)):
            raise UnsupportedMediaType(
                "El cuerpo debe ser JSON (Content-Type: application/json).",
                details={"content_type": [req.mimetype or "ninguno"]},
            )
        if not req.is_json:
            return core.missing
        return json_body()


class Blueprint(_Blueprint):
    """An API blueprint: JSON bodies through JsonOnlyParser, and no body above
    JSON_MAX_BYTES but multipart uploads (core.request_body), refused before it is read."""

    ARGUMENTS_PARSER = JsonOnlyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(limit_body_size)


class DbIdConverter(IntegerConverter):
    """`<int:...>` for row ids. An id beyond the database INT range reads as 0, which no row has,
    so every lookup answers its usual 404; passed on as it is, it would overflow the SQLite
    driver (a 500). Refusing it here instead would make Werkzeug answer 405 on paths that
    have one rule per method."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_INT else 0


def register_url_converters(app) -> None:
    """Install DbIdConverter as `int` (before any route is added) and document it in the spec."""
    app.url_map.converters["int"] = DbIdConverter
    api.register_converter(DbIdConverter, lambda converter: {"type": "integer", "minimum": 0})


class ErrorSchema(Schema):
    """The contract's error envelope."""

    error = fields.String(required=True, metadata={"example": "validacion"})
    message = fields.String(required=True)
    details = fields.Dict(metadata={"description": "Field name to list of messages, or context."})


class Api(_Api):
    """The envelope for errors raised inside smorest views too, and the OpenAPI document of the
    blueprints written when it is first read (`/openapi.json`, `/docs`, `flask openapi`), not
    at start-up: documenting 120 operations is a tenth of a worker's start, and most workers
    never serve the document."""

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, *args, **kwargs):
        self._undocumented: list[tuple] = []
        self._document_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    @property
    def spec(self):
        """The app's OpenAPI document, with every blueprint registered so far."""
        if self._undocumented:
            with self._document_lock:  # a reader meanwhile waits for the whole document
                for blp, app, name, parameters in self._undocumented:
                    blp.register_views_in_doc(self, app, self._spec, name=name, parameters=parameters)
                    self._spec.tag({"name": name, "description": blp.description})
                self._undocumented = []
        return self._spec

    @spec.setter
    def spec(self, value) -> None:
        # A new document (init_app for another app): what was pending belongs to the old one.
        self._spec = value
        self._undocumented = []

    def register_blueprint(self, blp, *, parameters=None, **options):
        """flask-smorest's, with the blueprint's documentation left for the first read of `spec`."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, self._app, name, parameters))

    def handle_http_exception(self, error):
        return handle_http_exception(error)


api = Api()

SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "empresaId": {"type": "apiKey", "in": "header", "name": "X-Empresa-Id"},
}

BEARER = [{"bearerAuth": []}]
API_KEY = [{"apiKey": []}]
API_KEY_EMPRESA = [{"apiKey": [], "empresaId": []}]


def register_security_schemes() -> None:
    """Add the auth schemes to the spec once `api.init_app` has run."""
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)

