"""/auth/otp/setup, /activate and /disable; the encryption of the TOTP secret."""
from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import func, select

from backend.core import crypto
from backend.identity.models import CodigoRespaldo, Usuario
from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import bearer, post, totp_now


@pytest.fixture
def signed_in(make_usuario, login):
    usuario = make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    return usuario, bearer(pair["access_token"])


@pytest.mark.parametrize("path", ["/auth/otp/setup", "/auth/otp/activate", "/auth/otp/disable",
                                  "/auth/logout"])
def test_needs_a_token(client, path):
    assert_error(post(client, path, {}), 401, "no_autenticado")


def test_setup_and_activate(client, db, signed_in, mailbox, clock):
    usuario, headers = signed_in
    first = post(client, "/auth/otp/setup", headers=headers).get_json()
    setup = post(client, "/auth/otp/setup", headers=headers)
    assert setup.status_code == 200
    body = setup.get_json()
    assert set(body) == {"secret", "provisioning_uri", "qr_svg"}
    assert body["secret"] != first["secret"]  # a new setup replaces the pending secret
    parsed = pyotp.parse_uri(body["provisioning_uri"])
    assert parsed.secret == body["secret"] and parsed.name == "ana@example.com"
    assert body["qr_svg"].lstrip().startswith("<svg")

    db.session.refresh(usuario)
    assert usuario.otp_enabled is False
    assert usuario.otp_secret_enc != body["secret"] and body["secret"] not in usuario.otp_secret_enc
    assert crypto.decrypt(usuario.otp_secret_enc) == body["secret"]

    # The first setup's secret no longer works.
    assert_error(post(client, "/auth/otp/activate",
                      {"otp_code": totp_now(first["secret"]), "password": PASSWORD},
                      headers=headers), 400, "codigo_invalido")
    active = post(client, "/auth/otp/activate", {"otp_code": totp_now(body["secret"]), "password": PASSWORD},
                  headers=headers)
    assert active.status_code == 200, active.get_json()
    answer = active.get_json()
    assert answer["otp_enabled"] is True and len(answer["backup_codes"]) == 10
    db.session.refresh(usuario)
    assert usuario.otp_enabled is True
    assert db.session.scalar(select(func.count()).select_from(CodigoRespaldo)) == 10
    message = mailbox.last("ana@example.com")
    assert message["Subject"] == "Verificación en dos pasos activada"

    assert_error(post(client, "/auth/otp/setup", headers=headers), 409, "otp_ya_activo")
    assert_error(post(client, "/auth/otp/activate", {"otp_code": totp_now(body["secret"], 1),
                                                      "password": PASSWORD},
                      headers=headers), 409, "otp_ya_activo")
    profile = client.get("/account/profile", headers=headers).get_json()
    assert profile["otp_enabled"] is True and "otp_secret_enc" not in profile


def test_activate_without_setup(client, signed_in):
    _usuario, headers = signed_in
    assert_error(post(client, "/auth/otp/activate", {"otp_code": "123456", "password": PASSWORD},
                      headers=headers), 409, "otp_no_configurado")
    assert {"otp_code", "password"} <= set(assert_error(
        post(client, "/auth/otp/activate", {}, headers=headers), 422, "validacion")["details"])


def test_disable(client, db, make_usuario, login, otp_user, mailbox, clock):
    usuario, secret, codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    pair = post(client, "/auth/login/otp",
                {"challenge_token": token, "otp_code": totp_now(secret)}).get_json()
    headers = bearer(pair["access_token"])
    clock.shift(30)

    wrong_pwd = post(client, "/auth/otp/disable", {"password": "Otra#Clave999", "otp_code": totp_now(secret)},
                     headers=headers)
    # A wrong password is not a malformed body: 401, as for /auth/otp/activate.
    assert "password" in assert_error(wrong_pwd, 401, "credenciales_invalidas")["details"]
    wrong_code = post(client, "/auth/otp/disable", {"password": PASSWORD, "backup_code": "aaaaa-bbbbb"},
                      headers=headers)
    assert "backup_code" in assert_error(wrong_code, 400, "codigo_invalido")["details"]
    assert_error(post(client, "/auth/otp/disable", {"password": PASSWORD}, headers=headers), 422)

    mailbox.clear()
    off = post(client, "/auth/otp/disable", {"password": PASSWORD, "backup_code": codes[3]}, headers=headers)
    assert off.status_code == 200, off.get_json()
    assert off.get_json() == {"otp_enabled": False}
    db.session.refresh(usuario)
    assert usuario.otp_enabled is False and usuario.otp_secret_enc is None
    assert db.session.scalar(select(func.count()).select_from(CodigoRespaldo)) == 0
    assert mailbox.last("ana@example.com")["Subject"] == "Verificación en dos pasos desactivada"
    assert_error(post(client, "/auth/otp/disable", {"password": PASSWORD, "otp_code": totp_now(secret)},
                      headers=headers), 409, "otp_no_activo")
    assert login("ana@example.com").status_code == 200  # no challenge any more


def test_activate_asks_for_the_current_password(client, db, signed_in, mailbox, clock):
    """A stolen access token alone cannot turn 2FA on (and lock the owner out)."""
    usuario, headers = signed_in
    secret = post(client, "/auth/otp/setup", headers=headers).get_json()["secret"]
    missing = post(client, "/auth/otp/activate", {"otp_code": totp_now(secret)}, headers=headers)
    assert "password" in assert_error(missing, 422, "validacion")["details"]
    wrong = post(client, "/auth/otp/activate", {"otp_code": totp_now(secret), "password": "Otra#Clave999"},
                 headers=headers)
    assert "password" in assert_error(wrong, 401, "credenciales_invalidas")["details"]
    db.session.refresh(usuario)
    assert usuario.otp_enabled is False and usuario.otp_last_step is None  # the code was not spent
    assert mailbox.messages == []
    ok = post(client, "/auth/otp/activate", {"otp_code": totp_now(secret), "password": PASSWORD},
              headers=headers)
    assert ok.status_code == 200, ok.get_json()


def test_activation_code_replay_refused(client, db, signed_in, clock):
    usuario, headers = signed_in
    secret = post(client, "/auth/otp/setup", headers=headers).get_json()["secret"]
    code = totp_now(secret)
    assert post(client, "/auth/otp/activate", {"otp_code": code, "password": PASSWORD},
                headers=headers).status_code == 200
    db.session.refresh(usuario)
    assert usuario.otp_last_step == int(time.time() // 30)
    # Disable with the very same code: refused (a code works once).
    replay = post(client, "/auth/otp/disable", {"password": PASSWORD, "otp_code": code}, headers=headers)
    assert_error(replay, 400, "codigo_invalido")
    db.session.refresh(usuario)
    assert usuario.otp_enabled is True and crypto.decrypt(usuario.otp_secret_enc) == secret
    assert db.session.scalar(select(func.count()).select_from(CodigoRespaldo)) == 10


def test_crypto_roundtrip_and_key_binding(app):
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    assert token != "JBSWY3DPEHPK3PXP" and crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"
    assert crypto.decrypt("not-a-token") is None and crypto.decrypt(None) is None
    original = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-secret-key"
    try:
        assert crypto.decrypt(token) is None
    finally:
        app.config["SECRET_KEY"] = original


def test_unreadable_secret_means_no_code_accepted(client, db, otp_user, login):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    row = db.session.get(Usuario, usuario.id)
    row.otp_secret_enc = crypto.encrypt(secret)[:-4] + "AAAA"  # tampered
    db.session.commit()
    token = login("ana@example.com").get_json()["challenge_token"]
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)}),
                 401, "otp_invalido")
