"""The body of an API request (core.request_body, core.json_codec): at most JSON_MAX_BYTES,
refused with 413 before it is read, whether its length is declared or not; multipart uploads
keep their own limit; a JSON body is decoded once per request; NaN, Infinity and numbers beyond
a float are malformed JSON (400); the depth check stays cheap."""
from __future__ import annotations

import json
from io import BytesIO

import pytest
from flask import request
from werkzeug.exceptions import BadRequest as HTTPBadRequest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from backend.config import MiB
from backend.core.json_codec import MAX_DEPTH, StrictJSONError, strict_loads
from tests.conftest import assert_error

LIMIT = 64 * 1024


def _body_of(size: int) -> bytes:
    """A JSON object of exactly `size` bytes."""
    head, tail = b'{"nombre": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.fixture
def loads_calls(monkeypatch):
    """Every `json.loads` made while a request runs (the app's only JSON decoder underneath)."""
    calls = []
    original = json.loads

    def counting(text, *args, **kwargs):
        calls.append(len(text))
        return original(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", counting)
    return calls


def test_the_default_limit_is_64_kib(app):
    assert app.config["JSON_MAX_BYTES"] == LIMIT
    assert app.config["MAX_CONTENT_LENGTH"] == 50 * MiB  # uploads keep theirs


def test_a_body_over_the_limit_is_413_before_it_is_read(client, admin_headers, loads_calls):
    over = client.post("/admin/empresas", data=_body_of(LIMIT + 1), content_type="application/json",
                       headers=admin_headers)
    calls = list(loads_calls)
    body = assert_error(over, 413, "demasiado_grande")
    assert body["details"] == {"max_bytes": LIMIT}
    assert calls == []
    # At the limit the body is read and validated as usual (422: `nombre` alone is not enough).
    at_limit = client.post("/admin/empresas", data=_body_of(LIMIT), content_type="application/json",
                           headers=admin_headers)
    assert_error(at_limit, 422, "validacion")


def test_a_body_of_undeclared_length_stops_being_read_at_the_limit(app, loads_calls):
    """Chunked transfer: no Content-Length, so the limit applies while reading."""
    environ = EnvironBuilder(path="/auth/login", method="POST", data=_body_of(LIMIT * 4),
                             content_type="application/json").get_environ()
    del environ["CONTENT_LENGTH"]
    environ["wsgi.input_terminated"] = True  # the server says the stream ends by itself
    app_iter, status, _headers = run_wsgi_app(app, environ, buffered=True)
    calls = list(loads_calls)
    assert status.startswith("413")
    assert json.loads(b"".join(app_iter))["error"] == "demasiado_grande"
    assert calls == []


def test_a_non_json_body_over_the_limit_is_413_too(client):
    response = client.post("/auth/login", data=b"x" * (LIMIT + 1), content_type="text/plain")
    assert_error(response, 413, "demasiado_grande")


def test_the_limit_is_a_setting(app, client, admin_headers, monkeypatch):
    monkeypatch.setitem(app.config, "JSON_MAX_BYTES", 100)
    response = client.post("/admin/empresas", data=_body_of(101), content_type="application/json",
                           headers=admin_headers)
    assert_error(response, 413, "demasiado_grande")


def test_uploads_keep_their_own_limit(client, soporte_headers):
    """A multipart body above JSON_MAX_BYTES reaches the upload route (here: 404 for a ticket
    that does not exist, not 413)."""
    data = {"file": (BytesIO(b"%PDF-1.4\n" + b"0" * (LIMIT * 2)), "big.pdf")}
    response = client.post("/admin/soporte-tickets/999/archivos", data=data,
                           content_type="multipart/form-data", headers=soporte_headers)
    assert_error(response, 404)


def test_a_json_body_is_decoded_once(make_usuario, client, loads_calls):
    """The throttle's keys and the schema parser share one decode."""
    make_usuario(email="ana@example.com")
    body = json.dumps({"email": "ana@example.com", "password": "Otra#Clave999"})
    response = client.post("/auth/login", data=body, content_type="application/json")
    calls = list(loads_calls)
    assert_error(response, 401, "credenciales_invalidas")
    assert calls == [len(body)]


@pytest.mark.parametrize("raw", [
    '{"nombre": NaN}', '{"nombre": Infinity}', '{"nombre": -Infinity}', '{"nombre": [1e999]}',
    '{"nombre": {"a": -1e400}}',
])
def test_nan_and_infinity_are_malformed_json(client, admin_headers, raw):
    response = client.post("/admin/empresas", data=raw, content_type="application/json",
                           headers=admin_headers)
    body = assert_error(response, 400, "solicitud_invalida")
    assert "json" in body["details"]


def test_nan_and_infinity_are_refused_by_get_json_too(app):
    with app.test_request_context(data='{"a": NaN}', content_type="application/json"), \
            pytest.raises(HTTPBadRequest):
        request.get_json()


def test_depth_is_checked_without_walking_scalars():
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert strict_loads(nested) is not None
    with pytest.raises(StrictJSONError):
        strict_loads("[" + nested + "]")
    # Brackets inside strings do not count as depth.
    assert strict_loads(json.dumps({"texto": "[" * 10_000})) == {"texto": "[" * 10_000}
    # Many siblings are not depth either.
    assert len(strict_loads("[" + ",".join(["[]"] * 20_000) + "]")) == 20_000


def test_absurd_nesting_is_a_malformed_body(client):
    response = client.post("/auth/login", data="[" * 5000 + "]" * 5000, content_type="application/json")
    assert_error(response, 400, "solicitud_invalida")
