"""Bodies that would keep a worker busy: a 50 MiB body to /auth/login is 413 at once, without
being parsed or reaching the schema; a password longer than the rule allows is refused by the
schema before any hash is computed."""
from __future__ import annotations

import json
import time

import pytest

from backend.config import MiB
from backend.core.validators import PASSWORD_MAX_LENGTH
from backend.identity.services import passwords
from backend.identity.services.passwords import MAX_LENGTH
from tests.conftest import assert_error
from tests.identity.conftest import bearer, post

LONG_PASSWORD = "Aa#1" * 1000  # 4000 characters


@pytest.fixture
def forbid_hashing(monkeypatch):
    """`forbid_hashing()`: from then on, fail the test if argon2 is asked to hash or verify."""

    def refuse():
        raise AssertionError("a password reached the hasher")

    return lambda: monkeypatch.setattr(passwords, "_hasher", refuse)


def test_a_huge_body_to_login_is_413_at_once(app, client, monkeypatch):
    calls = []
    original = json.loads
    monkeypatch.setattr(json, "loads", lambda *a, **k: calls.append(1) or original(*a, **k))
    schema_loads = []
    monkeypatch.setattr("backend.identity.schemas.LoginSchema.load",
                        lambda *a, **k: schema_loads.append(1))
    body = b'{"email": "ana@example.com", "password": "' + b"x" * (50 * MiB - 64) + b'"}'
    started = time.perf_counter()
    response = client.post("/auth/login", data=body, content_type="application/json")
    elapsed = time.perf_counter() - started
    seen_calls, seen_loads = len(calls), len(schema_loads)
    assert_error(response, 413, "demasiado_grande")
    assert (seen_calls, seen_loads) == (0, 0)  # never parsed, never validated
    assert elapsed < 2, elapsed


def test_the_password_rule_and_the_schemas_agree_on_the_maximum():
    assert MAX_LENGTH == PASSWORD_MAX_LENGTH == 128


@pytest.mark.parametrize("path,body", [
    ("/auth/login", {"email": "ana@example.com", "password": LONG_PASSWORD}),
    ("/auth/registro", {"nombre": "Ana", "email": "nueva@example.com", "password": LONG_PASSWORD}),
    ("/auth/password/reset", {"token": "x", "password": LONG_PASSWORD}),
])
def test_an_overlong_password_never_reaches_the_hasher(client, forbid_hashing, path, body):
    forbid_hashing()
    response = post(client, path, body)
    assert "password" in assert_error(response, 422, "validacion")["details"]


def test_overlong_passwords_of_signed_in_calls_never_reach_the_hasher(client, make_usuario, token_for,
                                                                        forbid_hashing):
    headers = bearer(token_for(make_usuario(email="ana@example.com")))
    forbid_hashing()
    for path, body in [
        ("/auth/otp/disable", {"password": LONG_PASSWORD, "otp_code": "123456"}),
        ("/auth/otp/activate", {"password": LONG_PASSWORD, "otp_code": "123456"}),
        ("/account/password", {"current_password": LONG_PASSWORD, "new_password": "Otra#Clave123",
                               "verification_code": "123456"}),
        ("/account/password", {"current_password": "Secreta#123", "new_password": LONG_PASSWORD,
                               "verification_code": "123456"}),
        ("/account/sessions/revoke-others", {"password": LONG_PASSWORD}),
    ]:
        response = post(client, path, body, headers=headers)
        assert_error(response, 422, "validacion")


def test_a_password_at_the_maximum_is_accepted(client, make_usuario, login):
    password = ("Aa#1" * 40)[:MAX_LENGTH]
    make_usuario(email="ana@example.com", password=password)
    assert login("ana@example.com", password).status_code == 200
