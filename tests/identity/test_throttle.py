"""Throttling of sign-in, OTP, code and reset endpoints (policy: backend/identity/services/throttle.py)."""
from __future__ import annotations

from sqlalchemy import select

from backend.identity.models import LogAcceso
from tests.conftest import PASSWORD, assert_error, assert_throttled
from tests.identity.conftest import bearer, post, totp_now

WRONG = "Otra#Clave999"


def test_account_ip_limit_blocks_only_that_address(db, make_usuario, login):
    make_usuario(email="ana@example.com")
    make_usuario(email="otra@example.com")
    for _ in range(10):
        assert_error(login("ana@example.com", WRONG, ip="10.1.0.1"), 401, "credenciales_invalidas")
    blocked = login("ana@example.com", WRONG, ip="10.1.0.1")
    assert_throttled(blocked)
    # Even the right password is refused from that address while it is blocked.
    assert_throttled(login("ana@example.com", PASSWORD, ip="10.1.0.1"))
    # The owner, elsewhere, is not locked out; other accounts from the same address neither.
    assert login("ana@example.com", PASSWORD, ip="10.1.0.2").status_code == 200
    assert login("otra@example.com", PASSWORD, ip="10.1.0.1").status_code == 200
    rows = db.session.scalars(select(LogAcceso).where(LogAcceso.detalle == "bloqueado")).all()
    assert len(rows) == 2 and all(r.email == "ana@example.com" and r.ip == "10.1.0.1" for r in rows)


def test_account_cap_of_100_failures_an_hour(db, make_usuario, login, clock):
    make_usuario(email="ana@example.com")
    make_usuario(email="otra@example.com")
    # The owner signed in from home before the attack.
    assert login("ana@example.com", PASSWORD, ip="192.0.2.10").status_code == 200
    for n in range(100):
        response = login("ana@example.com", WRONG, ip=f"10.2.{n // 10}.1")
        assert response.status_code == 401, (n, response.get_json())
    for n in range(100):  # the same volume against an address nobody has
        assert login("nadie@example.com", WRONG, ip=f"10.3.{n // 10}.1").status_code == 401

    real = login("ana@example.com", PASSWORD, ip="10.9.9.9")
    ghost = login("nadie@example.com", PASSWORD, ip="10.9.9.9")
    assert_throttled(real)
    assert_throttled(ghost)
    assert real.get_json() == ghost.get_json()  # a lock-out says nothing about existence
    # Another account is unaffected, and the owner still signs in from a known address.
    assert login("otra@example.com", PASSWORD, ip="10.9.9.9").status_code == 200
    assert login("ana@example.com", PASSWORD, ip="192.0.2.10").status_code == 200
    # The cap is per hour.
    clock.shift(3601)
    assert login("ana@example.com", PASSWORD, ip="10.9.9.9").status_code == 200


def test_successful_logins_do_not_count(make_usuario, login):
    make_usuario(email="ana@example.com")
    for _ in range(15):
        assert login("ana@example.com", PASSWORD, ip="10.4.0.1").status_code == 200


def test_per_ip_limit(make_usuario, login):
    for n in range(20):
        assert login(f"u{n}@example.com", WRONG, ip="10.5.0.1").status_code == 401
    assert_throttled(login("u99@example.com", WRONG, ip="10.5.0.1"))
    assert login("u99@example.com", WRONG, ip="10.5.0.2").status_code == 401


def test_otp_failures_are_throttled(client, db, otp_user, login, clock):
    _usuario, secret, _codes = otp_user(email="ana@example.com")
    for _ in range(2):
        token = login("ana@example.com", ip="10.6.0.1").get_json()["challenge_token"]
        for _ in range(5):
            post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": "000000"}, ip="10.6.0.1")
    token = login("ana@example.com", ip="10.6.0.2").get_json()["challenge_token"]
    blocked = post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)},
                   ip="10.6.0.1")
    assert_throttled(blocked)
    assert db.session.scalar(select(LogAcceso).where(LogAcceso.detalle == "bloqueado")).tipo == "login_otp"
    ok = post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)},
              ip="10.6.0.2")
    assert ok.status_code == 200, ok.get_json()


def test_forgot_is_limited_per_account(client, make_usuario, mailbox):
    make_usuario(email="ana@example.com")
    for n in range(5):
        assert post(client, "/auth/password/forgot", {"email": "ana@example.com"},
                    ip=f"10.7.0.{n}").status_code == 202
    assert_throttled(post(client, "/auth/password/forgot", {"email": "ana@example.com"}, ip="10.7.1.1"))
    assert_throttled(post(client, "/auth/password/forgot", {"email": "ANA@example.com"}, ip="10.7.1.2"))
    assert len(mailbox.to("ana@example.com")) == 5
    assert post(client, "/auth/password/forgot", {"email": "otra@example.com"},
                ip="10.7.1.1").status_code == 202


def test_code_guesses_are_throttled_per_user(client, make_usuario, login, mailbox):
    make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    headers = bearer(pair["access_token"])
    post(client, "/account/password/request-code", headers=headers)
    for n in range(10):
        post(client, "/account/password/verify-code", {"code": "000000"}, headers=headers, ip=f"10.8.0.{n}")
    assert_throttled(post(client, "/account/password/verify-code", {"code": mailbox.code("ana@example.com")},
                          headers=headers, ip="10.8.1.1"))


def test_reset_token_guesses_are_throttled(client, make_usuario, mailbox):
    for n in range(10):
        assert_error(post(client, "/auth/password/reset", {"token": "guess", "password": PASSWORD},
                          ip=f"10.9.0.{n}"), 400)
    assert_throttled(post(client, "/auth/password/reset", {"token": "guess", "password": PASSWORD},
                          ip="10.9.1.1"))
