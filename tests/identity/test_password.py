"""Forgotten password (/auth/password/*): the reset link built from the configured base URL,
never from the Host header, and the same answer when mail delivery fails; password change
(/account/password*)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.identity.models import CodigoEmail, PropositoCodigo, Usuario
from backend.identity.services.passwords import verify_password
from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import NEW_PASSWORD, bearer, free_port, post, totp_now


def _closed_port() -> int:
    """A port nobody listens on: mail sent to it fails (an SMTP outage)."""
    return free_port()


# ---------------------------------------------------------------- forgot / reset

def test_forgot_always_202(client, db, make_usuario, mailbox):
    make_usuario(email="ana@example.com")
    known = post(client, "/auth/password/forgot", {"email": "Ana@example.com"})
    unknown = post(client, "/auth/password/forgot", {"email": "nadie@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert [m["To"] for m in mailbox.messages] == ["ana@example.com"]
    message = mailbox.last("ana@example.com")
    assert message["Subject"] == "Restablecer su contraseña"
    token = mailbox.reset_token("ana@example.com")
    assert f"reset-password?token={token}" in mailbox.html(message)
    row = db.session.scalar(select(CodigoEmail))
    assert row.proposito == PropositoCodigo.RESET_PASSWORD and row.code_hash != token


def test_forgot_ignores_inactive_accounts(client, make_usuario, mailbox):
    make_usuario(email="off@example.com", is_active=False)
    assert post(client, "/auth/password/forgot", {"email": "off@example.com"}).status_code == 202
    assert mailbox.messages == []


def test_reset_link_ignores_the_host_header(app, client, make_usuario, mailbox, monkeypatch):
    """A forged Host must not put the attacker's site in the victim's reset link."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://app.example.com/")
    make_usuario(email="ana@example.com")
    response = client.post("/auth/password/forgot", json={"email": "ana@example.com"},
                           headers={"Host": "evil.example.net"})
    assert response.status_code == 202
    message = mailbox.last("ana@example.com")
    token = mailbox.reset_token("ana@example.com")
    for body in (mailbox.html(message), mailbox.text(message)):
        assert "evil.example.net" not in body
        assert f"https://app.example.com/reset-password?token={token}" in body


def test_reset_link_without_base_url_uses_first_frontend_origin(app, client, make_usuario,
                                                                  mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    monkeypatch.setitem(app.config, "FRONTEND_ORIGINS", ["https://spa.example.com"])
    make_usuario(email="ana@example.com")
    client.post("/auth/password/forgot", json={"email": "ana@example.com"},
                headers={"Host": "evil.example.net"})
    token = mailbox.reset_token("ana@example.com")
    text = mailbox.text(mailbox.last("ana@example.com"))
    assert "evil.example.net" not in text
    assert f"https://spa.example.com/reset-password?token={token}" in text


def test_forgot_answers_the_same_when_mail_delivery_fails(app, client, make_usuario, monkeypatch):
    """An SMTP outage must not turn the known-account answer into a 500 (enumeration)."""
    monkeypatch.setitem(app.config, "SMTP_PORT", _closed_port())
    make_usuario(email="ana@example.com")
    known = post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    unknown = post(client, "/auth/password/forgot", {"email": "nadie@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()


def test_reset_with_token(client, db, make_usuario, login, mailbox):
    usuario = make_usuario(email="ana@example.com")
    post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    token = mailbox.reset_token("ana@example.com")
    weak = post(client, "/auth/password/reset", {"token": token, "password": "password"})
    assert "password" in assert_error(weak, 422, "password_debil")["details"]
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, PASSWORD)
    ok = post(client, "/auth/password/reset", {"token": token, "password": NEW_PASSWORD})
    assert ok.status_code == 200, ok.get_json()
    assert set(ok.get_json()) == {"message"}
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, NEW_PASSWORD)
    assert_error(login("ana@example.com"), 401, "credenciales_invalidas")
    assert login("ana@example.com", NEW_PASSWORD).status_code == 200
    again = post(client, "/auth/password/reset", {"token": token, "password": "Otra#Clave999"})
    assert_error(again, 400, "token_invalido")
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, NEW_PASSWORD)


def test_reset_token_expires(client, db, make_usuario, mailbox, clock):
    usuario = make_usuario(email="ana@example.com")
    post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    token = mailbox.reset_token("ana@example.com")
    clock.shift(30 * 60 + 1)
    assert_error(post(client, "/auth/password/reset", {"token": token, "password": NEW_PASSWORD}),
                 400, "token_invalido")
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, PASSWORD)


def test_reset_does_not_bypass_two_factor(client, db, otp_user, login, mailbox, clock):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    token = mailbox.reset_token("ana@example.com")
    missing = post(client, "/auth/password/reset", {"token": token, "password": NEW_PASSWORD})
    assert "otp_code" in assert_error(missing, 422, "otp_requerido")["details"]
    wrong = post(client, "/auth/password/reset", {"token": token, "password": NEW_PASSWORD,
                                                  "otp_code": totp_now(secret, 3)})
    assert_error(wrong, 400, "codigo_invalido")
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, PASSWORD)
    ok = post(client, "/auth/password/reset", {"token": token, "password": NEW_PASSWORD,
                                               "otp_code": totp_now(secret)})
    assert ok.status_code == 200, ok.get_json()
    assert login("ana@example.com", NEW_PASSWORD).status_code == 202


def test_reset_validation(client):
    body = assert_error(post(client, "/auth/password/reset", {"password": NEW_PASSWORD}), 422, "validacion")
    assert "token" in body["details"]
    assert_error(post(client, "/auth/password/reset", {"token": "nope", "password": NEW_PASSWORD}),
                 400, "token_invalido")
    assert "email" in assert_error(post(client, "/auth/password/forgot", {}), 422)["details"]


# ---------------------------------------------------------------- account password change

@pytest.fixture
def session_of(login):
    def make(email: str):
        return bearer(login(email).get_json()["access_token"])

    return make


@pytest.mark.parametrize("method,path", [
    ("post", "/account/password/request-code"), ("post", "/account/password/verify-code"),
    ("post", "/account/password"), ("get", "/account/profile"), ("put", "/account/profile"),
])
def test_account_needs_a_token(client, method, path):
    assert_error(getattr(client, method)(path, json={}), 401, "no_autenticado")


def test_change_password_with_emailed_code(client, db, make_usuario, session_of, mailbox, login):
    usuario = make_usuario(email="ana@example.com")
    headers = session_of("ana@example.com")
    missing = post(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
                   headers=headers)
    assert "verification_code" in assert_error(missing, 422, "validacion")["details"]

    sent = post(client, "/account/password/request-code", headers=headers)
    assert sent.status_code == 202
    message = mailbox.last("ana@example.com")
    assert message["Subject"] == "Código para cambiar su contraseña"
    code = mailbox.code("ana@example.com")
    row = db.session.scalar(select(CodigoEmail).where(
        CodigoEmail.proposito == PropositoCodigo.CAMBIO_PASSWORD))
    assert row.code_hash != code

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_error(post(client, "/account/password/verify-code", {"code": wrong}, headers=headers),
                 400, "codigo_invalido")
    valid = post(client, "/account/password/verify-code", {"code": code}, headers=headers)
    assert valid.status_code == 200 and valid.get_json() == {"valid": True}
    # Verifying does not spend the code.
    assert post(client, "/account/password/verify-code", {"code": code}, headers=headers).status_code == 200

    bad_current = post(client, "/account/password", {"current_password": "Otra#Clave999",
                                                     "new_password": NEW_PASSWORD, "verification_code": code},
                       headers=headers)
    assert "current_password" in assert_error(bad_current, 401, "credenciales_invalidas")["details"]
    weak = post(client, "/account/password", {"current_password": PASSWORD, "new_password": "short",
                                              "verification_code": code}, headers=headers)
    assert "new_password" in assert_error(weak, 422, "password_debil")["details"]

    ok = post(client, "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                                            "verification_code": code}, headers=headers)
    assert ok.status_code == 200, ok.get_json()
    db.session.refresh(usuario)
    assert verify_password(usuario.password_hash, NEW_PASSWORD)
    assert db.session.get(CodigoEmail, row.id).used_at is not None
    # The code worked once.
    reuse = post(client, "/account/password", {"current_password": NEW_PASSWORD,
                                               "new_password": "Tercera#Clave789", "verification_code": code},
                 headers=headers)
    assert_error(reuse, 400, "codigo_invalido")
    assert login("ana@example.com", NEW_PASSWORD).status_code == 200


def test_emailed_code_expires_after_ten_minutes(client, make_usuario, session_of, mailbox, clock):
    make_usuario(email="ana@example.com")
    headers = session_of("ana@example.com")
    post(client, "/account/password/request-code", headers=headers)
    code = mailbox.code("ana@example.com")
    clock.shift(10 * 60 + 1)
    assert_error(post(client, "/account/password/verify-code", {"code": code}, headers=headers),
                 400, "codigo_invalido")


def test_change_password_with_two_factor(client, db, otp_user, login, clock):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    pair = post(client, "/auth/login/otp",
                {"challenge_token": token, "otp_code": totp_now(secret)}).get_json()
    headers = bearer(pair["access_token"])
    clock.shift(30)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert "otp_code" in assert_error(post(client, "/account/password", body, headers=headers),
                                      422, "validacion")["details"]
    assert_error(post(client, "/account/password", {**body, "otp_code": "000000"}, headers=headers),
                 400, "codigo_invalido")
    ok = post(client, "/account/password", {**body, "otp_code": totp_now(secret)}, headers=headers)
    assert ok.status_code == 200, ok.get_json()
    db.session.refresh(usuario)
    assert verify_password(db.session.get(Usuario, usuario.id).password_hash, NEW_PASSWORD)
