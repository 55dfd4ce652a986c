"""The error envelope for every kind of failure, request ids, security headers, CORS."""
from __future__ import annotations

import pytest
from itsdangerous import BadSignature
from marshmallow import fields

from backend import create_app
from backend.core.api import Blueprint, api
from backend.core.errors import Conflict
from backend.core.schemas import BaseSchema
from backend.empresas.models import Empresa
from backend.extensions import db
from tests.conftest import assert_error, make_config


class _EchoSchema(BaseSchema):
    nombre = fields.String(required=True)


@pytest.fixture(scope="module")
def probe_app(app):
    """An app like the real one plus a few routes that fail on purpose."""
    probe = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    blp = Blueprint("probe", __name__, url_prefix="/_probe")

    @blp.route("/echo", methods=["POST"])
    @blp.arguments(_EchoSchema)
    @blp.response(200)
    def echo(data):
        """Echo a validated body."""
        return data

    @blp.route("/boom", methods=["POST"])
    def boom():
        """Write a row, then fail unexpectedly."""
        db.session.add(Empresa(nit="800111222-3", nombre="Parcial"))
        db.session.flush()
        raise RuntimeError("secret internals: SELECT password_hash FROM usuarios")

    @blp.route("/conflict", methods=["POST"])
    def conflict():
        """Fail with a service error."""
        raise Conflict("Ya existe.", code="nit_en_uso", details={"nit": ["duplicado"]})

    with probe.app_context():
        api.register_blueprint(blp)
        if db.engine.dialect.name == "sqlite":
            db.create_all()  # in-memory SQLite is per engine
    return probe


@pytest.fixture
def probe(probe_app):
    with probe_app.app_context():
        yield probe_app.test_client()
        db.session.remove()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


def test_unknown_route_is_json_404(client):
    body = assert_error(client.get("/no/such/route"), 404, "no_encontrado")
    assert "details" not in body


def test_unknown_api_route_post_is_json_404(client):
    assert_error(client.post("/api/no-such", json={}), 404, "no_encontrado")


def test_wrong_method_is_405_with_allow(client):
    response = client.delete("/health")
    assert_error(response, 405, "metodo_no_permitido")
    assert "GET" in response.headers["Allow"]


def test_validation_error_maps_fields(probe):
    body = assert_error(probe.post("/_probe/echo", json={"extra": 1}), 422, "validacion")
    assert body["details"]["nombre"] == ["Missing data for required field."]
    assert body["details"]["extra"] == ["Unknown field."]


def test_happy_echo(probe):
    response = probe.post("/_probe/echo", json={"nombre": "ok"})
    assert response.status_code == 200
    assert response.get_json() == {"nombre": "ok"}


def test_malformed_json_is_400(probe):
    response = probe.post("/_probe/echo", data="{not json", content_type="application/json")
    assert_error(response, 400, "solicitud_invalida")


def test_non_json_body_is_415(probe):
    response = probe.post("/_probe/echo", data="nombre=x", content_type="application/x-www-form-urlencoded")
    body = assert_error(response, 415, "tipo_no_soportado")
    assert body["details"]["content_type"] == ["application/x-www-form-urlencoded"]


def test_too_large_is_json_413(probe, probe_app):
    size = probe_app.config["MAX_CONTENT_LENGTH"] + 1
    response = probe.post("/_probe/echo", data=b"x" * size, content_type="application/json")
    assert_error(response, 413, "demasiado_grande")


def test_unhandled_error_is_500_without_internals_and_rolls_back(probe):
    response = probe.post("/_probe/boom")
    body = assert_error(response, 500, "error_interno")
    text = response.get_data(as_text=True)
    assert "password_hash" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["message"] == "Error interno del servidor."
    assert db.session.query(Empresa).count() == 0


def test_service_error_keeps_code_and_details(probe):
    body = assert_error(probe.post("/_probe/conflict"), 409, "nit_en_uso")
    assert body == {"error": "nit_en_uso", "message": "Ya existe.", "details": {"nit": ["duplicado"]}}


def test_request_id_generated_and_echoed(client):
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    # A hostile id (header injection, huge) is replaced, not echoed.
    replaced = client.get("/health", headers={"X-Request-ID": "x" * 200}).headers["X-Request-ID"]
    assert replaced != "x" * 200 and len(replaced) == 32


def test_request_id_on_errors_too(client):
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-1"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-1"


@pytest.mark.parametrize("path", ["/health", "/nowhere", "/docs"])
def test_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "Content-Security-Policy" in headers


def test_json_csp_forbids_everything(client):
    assert client.get("/health").headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_cors_allows_only_frontend_origins(client, app):
    allowed = app.config["FRONTEND_ORIGINS"][0]
    ok = client.get("/health", headers={"Origin": allowed})
    assert ok.headers["Access-Control-Allow-Origin"] == allowed
    assert "X-Request-ID" in ok.headers["Access-Control-Expose-Headers"]
    evil = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


def test_cors_preflight(client, app):
    allowed = app.config["FRONTEND_ORIGINS"][0]
    response = client.options("/health", headers={
        "Origin": allowed, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == allowed
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()


def test_deeply_nested_json_is_400(probe):
    deep = "[" * 5000 + "]" * 5000
    body = assert_error(probe.post("/_probe/echo", data=deep, content_type="application/json"),
                        400, "solicitud_invalida")
    assert body["details"] == {"json": ["JSON anidado demasiado profundo."]}


def test_lone_surrogate_is_400_everywhere(probe):
    response = probe.post("/_probe/echo", data='{"nombre": "a\\ud800b"}', content_type="application/json")
    assert_error(response, 400, "solicitud_invalida")
    key = probe.post("/_probe/echo", data='{"\\udfff": 1}', content_type="application/json")
    assert_error(key, 400, "solicitud_invalida")


def test_valid_escaped_unicode_still_accepted(probe):
    response = probe.post("/_probe/echo", data='{"nombre": "Bogot\\u00e1 \\ud83d\\ude00"}',
                          content_type="application/json")
    assert response.status_code == 200
    assert response.get_json() == {"nombre": "Bogotá 😀"}


def test_get_json_is_strict_too(probe_app):
    with probe_app.test_request_context("/", method="POST", data="[" * 3000 + "]" * 3000,
                                        content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None


def test_the_session_serializer_is_made_once_and_follows_the_keys(app, monkeypatch):
    """Flask would build the cookie session's serializer on every request; core.http keeps one
    per set of keys, and a key change (rotation) makes a new one."""
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    token = first.dumps({"a": 1})
    monkeypatch.setattr(app, "secret_key", "another-secret-key-0123456789")
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first
    assert rotated.loads(rotated.dumps({"b": 2})) == {"b": 2}
    with pytest.raises(BadSignature):
        rotated.loads(token)  # signed with the old key, which is no longer listed
