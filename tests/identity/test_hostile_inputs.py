"""Hostile bodies against every /auth and /account endpoint: never a 500, always the envelope;
TOTP codes written with non-ASCII digits are refused. (Bodies too large, too deep or with NaN:
tests/core/test_request_body.py and test_body_limits.py.)"""
from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import bearer, post

HUGE = "A" * 300_000

WHOLE_BODIES = [None, 1, "x", [], [1, 2], True, {}, {"a": 1}, {"a": {"b": [None]}}]

FIELD_VALUES = [None, 1, 1.5, True, [], ["a"], {}, {"$ne": ""}, "", " ", HUGE, "\u0000",
                "\ud800", "x\udfffy", "😀" * 300, "a@b.co" + "x" * 300, "ana@example.com\u0000"]

RAW = [
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"email": "\xff"}', "application/json"),
    (b"{", "application/json"),
    (b'{"email": "a@b.co"}', None),
    (b"email=a@b.co&password=x", "application/x-www-form-urlencoded"),
    (b'{"email": "a@b.co"}', "text/plain"),
    (b'{"\\ud800": "x"}', "application/json"),
    (b'{"email": "\\ud800@example.com", "password": "\\udfff"}', "application/json"),
    (b'{"email": 1e999999}', "application/json"),
    (b'{"email": NaN, "password": Infinity}', "application/json"),
    (b'{"email": "a@b.co", "email": ["x"]}', "application/json"),
]

ENDPOINTS = {
    ("POST", "/auth/registro"): ["nombre", "email", "password", "telefono", "activar_otp"],
    ("POST", "/auth/registro/confirmar-otp"): ["registro_token", "code", "email_code"],
    ("POST", "/auth/login"): ["email", "password"],
    ("POST", "/auth/login/otp"): ["challenge_token", "otp_code", "backup_code"],
    ("POST", "/auth/password/forgot"): ["email"],
    ("POST", "/auth/password/reset"): ["token", "password", "otp_code", "backup_code"],
    ("POST", "/auth/refresh"): [],
    ("POST", "/auth/logout"): [],
    ("POST", "/auth/otp/setup"): [],
    ("POST", "/auth/otp/activate"): ["otp_code", "password"],
    ("POST", "/auth/otp/disable"): ["password", "otp_code", "backup_code"],
    ("GET", "/account/profile"): [],
    ("PUT", "/account/profile"): ["nombre", "telefono", "direccion", "ciudad", "pais",
                                  "fecha_nacimiento", "email", "rol", "empresa_id"],
    ("POST", "/account/password/request-code"): [],
    ("POST", "/account/password/verify-code"): ["code"],
    ("POST", "/account/password"): ["current_password", "new_password", "otp_code",
                                    "verification_code"],
    ("GET", "/account/sessions"): [],
    ("DELETE", "/account/sessions/x"): [],
    ("POST", "/account/sessions/revoke-others"): ["password"],
}
BASE = {
    "nombre": "Ana", "email": "nueva@example.com", "password": "Secreta#123",
    "telefono": "+573001234567", "activar_otp": False, "registro_token": "x", "code": "123456",
    "email_code": "123456",
    "challenge_token": "x", "otp_code": "123456", "backup_code": "abcde-fghij", "token": "x",
    "direccion": "Calle 1", "ciudad": "Bogotá", "pais": "CO", "fecha_nacimiento": "1990-01-01",
    "rol": "admin", "empresa_id": 1, "current_password": "Secreta#123",
    "new_password": "Otra#Clave123", "verification_code": "123456",
}
BAD_AUTH_HEADERS = ["Bearer", "Bearer \xff\xfe", "Bearer " + "a" * 20000, "Basic abc",
                    "Bearer a.b.c", "Bearer  ", "bearer x y z"]


def _cases(fields):
    for body in WHOLE_BODIES:
        yield json.dumps(body).encode(), "application/json"
    for field in fields:
        for value in FIELD_VALUES:
            body = {**{f: BASE[f] for f in fields}, field: value}
            yield json.dumps(body).encode(), "application/json"
    yield from RAW


@pytest.mark.parametrize("method,path", sorted(ENDPOINTS))
def test_hostile_bodies_never_500(app, client, make_usuario, token_for, monkeypatch, method, path):
    usuario = make_usuario(email="ana@example.com")
    monkeypatch.setitem(app.config, "AUTH_RATE_IP", "100000/minute")
    failures = []
    for n, (data, content_type) in enumerate(_cases(ENDPOINTS[(method, path)])):
        headers = bearer(token_for(usuario)) if path.startswith(("/account", "/auth/otp",
                                                                 "/auth/logout")) else {}
        response = client.open(path, method=method, data=data, content_type=content_type,
                               headers=headers, environ_base={"REMOTE_ADDR": f"10.9.{n // 250}.{n % 250}"})
        if response.status_code >= 500:
            failures.append((data[:100], response.status_code))
            continue
        if response.status_code >= 400:
            body = response.get_json()
            assert body and set(body) <= {"error", "message", "details"}, body
    assert not failures, failures


@pytest.mark.parametrize("method,path", sorted(ENDPOINTS))
def test_hostile_authorization_headers_never_500(client, method, path):
    needs_token = path.startswith(("/account", "/auth/otp", "/auth/logout", "/auth/refresh"))
    for value in BAD_AUTH_HEADERS:
        response = client.open(path, method=method, json={}, headers={"Authorization": value})
        assert response.status_code < 500, (value[:30], response.get_data(as_text=True)[:300])
        if needs_token:  # a garbled header never passes for a token
            assert_error(response, 401, "no_autenticado")


@pytest.mark.parametrize("path,field", [
    ("/auth/login", "email"), ("/auth/login", "password"), ("/auth/login/otp", "challenge_token"),
    ("/auth/password/forgot", "email"), ("/auth/password/reset", "token"),
    ("/auth/registro", "nombre"), ("/auth/registro/confirmar-otp", "registro_token"),
])
def test_lone_surrogates_are_a_malformed_body(client, path, field):
    """Refused by the strict JSON decoder (400) before any view, hasher or driver sees them."""
    fields = ENDPOINTS[("POST", path)]
    body = {**{f: BASE[f] for f in fields if f not in ("backup_code",)}, field: "x\ud800"}
    response = client.post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "solicitud_invalida"


def test_lone_surrogates_in_profile_and_password_change(client, make_usuario, token_for, db):
    from backend.identity.services.passwords import verify_password
    from tests.conftest import PASSWORD

    usuario = make_usuario(email="ana@example.com", nombre="Ana", ciudad="Cali")
    headers = bearer(token_for(usuario))
    for path, method, body in [
        ("/account/profile", "PUT", {"nombre": "A\udfff"}),
        ("/account/profile", "PUT", {"ciudad": "\ud800"}),
        ("/account/password", "POST", {"current_password": "\ud800", "new_password": "Otra#Clave123",
                                       "verification_code": "123456"}),
        ("/account/password/verify-code", "POST", {"code": "\ud800"}),
    ]:
        response = client.open(path, method=method, data=json.dumps(body),
                               content_type="application/json", headers=headers)
        assert response.status_code == 400, (path, response.get_data(as_text=True))
        assert response.get_json()["details"] == {"json": ["El JSON contiene texto Unicode inválido."]}
    db.session.refresh(usuario)
    assert (usuario.nombre, usuario.ciudad) == ("Ana", "Cali")
    assert verify_password(usuario.password_hash, PASSWORD)


def test_throttled_login_with_an_overlong_email_is_429_and_logged(app, client, db, monkeypatch):
    """The breach log must not store (or fail on) an email longer than the column."""
    from sqlalchemy import select

    from backend.identity.models import LogAcceso

    monkeypatch.setitem(app.config, "AUTH_RATE_IP", "1/minute")
    body = {"email": "a" * 400 + "@example.com", "password": "x"}
    first = client.post("/auth/login", json=body)
    assert first.status_code == 422
    second = client.post("/auth/login", json=body)
    assert second.status_code == 429, second.get_data(as_text=True)
    [row] = db.session.scalars(select(LogAcceso)).all()
    assert (row.tipo, row.exitoso, row.detalle, row.email) == ("login", False, "bloqueado", None)


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "¹²³⁴⁵⁶", "１２３４５６"])
def test_unicode_digit_totp_codes_are_refused_not_500(client, make_usuario, otp_user, code):
    usuario, _secret, _ = otp_user(email="ana@example.com")
    challenge = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD})
    answer = post(client, "/auth/login/otp", {"challenge_token": challenge.get_json()["challenge_token"],
                                             "otp_code": code})
    assert_error(answer, 401, "otp_invalido")
