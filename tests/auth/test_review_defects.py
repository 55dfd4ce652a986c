"""Regression tests for defects found in the security review of sign-in and account."""
from __future__ import annotations

import socket

import pytest
from sqlalchemy import select

from backend.identity.models import LogAcceso
from tests.auth.conftest import NEW_PASSWORD, bearer, post, totp_now
from tests.conftest import PASSWORD, assert_error


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- reset link host poisoning

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


# ---------------------------------------------------------------- mail outage

def test_forgot_answers_the_same_when_mail_delivery_fails(app, client, make_usuario, monkeypatch):
    """An SMTP outage must not turn the known-account answer into a 500 (enumeration)."""
    monkeypatch.setitem(app.config, "SMTP_PORT", _closed_port())
    make_usuario(email="ana@example.com")
    known = post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    unknown = post(client, "/auth/password/forgot", {"email": "nadie@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()


def test_new_ip_notice_failure_does_not_break_a_sign_in(app, db, client, make_usuario, login,
                                                        monkeypatch):
    usuario = make_usuario(email="ana@example.com")
    assert login("ana@example.com", ip="10.0.0.1").status_code == 200
    monkeypatch.setitem(app.config, "SMTP_PORT", _closed_port())
    response = login("ana@example.com", ip="10.0.0.2")  # a new IP: a notice is sent
    assert response.status_code == 200, response.get_json()
    assert client.get("/account/profile",
                      headers=bearer(response.get_json()["access_token"])).status_code == 200
    rows = db.session.scalars(select(LogAcceso).where(LogAcceso.usuario_id == usuario.id)).all()
    assert [(r.ip, r.exitoso) for r in rows] == [("10.0.0.1", True), ("10.0.0.2", True)]


# ---------------------------------------------------------------- login challenges end with sessions

def test_password_reset_ends_a_pending_login_challenge(client, make_usuario, otp_user, mailbox,
                                                       clock):
    usuario, secret, _ = otp_user(email="ana@example.com")
    challenge = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD})
    assert challenge.status_code == 202
    post(client, "/auth/password/forgot", {"email": usuario.email})
    token = mailbox.reset_token(usuario.email)
    reset = post(client, "/auth/password/reset",
                 {"token": token, "password": NEW_PASSWORD, "otp_code": totp_now(secret)})
    assert reset.status_code == 200, reset.get_json()
    clock.shift(30)
    answer = post(client, "/auth/login/otp", {"challenge_token": challenge.get_json()["challenge_token"],
                                             "otp_code": totp_now(secret)})
    assert_error(answer, 401, "desafio_invalido")


def test_password_change_ends_a_pending_login_challenge(client, make_usuario, otp_user, clock):
    usuario, secret, _ = otp_user(email="ana@example.com")
    pair = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD})
    first = post(client, "/auth/login/otp", {"challenge_token": pair.get_json()["challenge_token"],
                                            "otp_code": totp_now(secret)}).get_json()
    clock.shift(30)
    challenge = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD})
    changed = post(client, "/account/password",
                   {"current_password": PASSWORD, "new_password": NEW_PASSWORD,
                    "otp_code": totp_now(secret)}, headers=bearer(first["access_token"]))
    assert changed.status_code == 200, changed.get_json()
    clock.shift(30)
    answer = post(client, "/auth/login/otp", {"challenge_token": challenge.get_json()["challenge_token"],
                                             "otp_code": totp_now(secret)})
    assert_error(answer, 401, "desafio_invalido")


# ---------------------------------------------------------------- non-ASCII digits in TOTP codes

@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "¹²³⁴⁵⁶", "１２３４５６"])
def test_unicode_digit_totp_codes_are_refused_not_500(client, make_usuario, otp_user, code):
    usuario, secret, _ = otp_user(email="ana@example.com")
    challenge = post(client, "/auth/login", {"email": usuario.email, "password": PASSWORD})
    answer = post(client, "/auth/login/otp", {"challenge_token": challenge.get_json()["challenge_token"],
                                             "otp_code": code})
    assert_error(answer, 401, "otp_invalido")
