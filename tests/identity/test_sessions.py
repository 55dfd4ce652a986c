"""A user's sessions: an absolute lifetime (SESSION_MAX_DAYS) however often they are refreshed,
`/account/sessions` to list them, end one and end all the others after the password again, and
tokens that name a session of another user."""
from __future__ import annotations

import time
from datetime import timedelta

from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select

from backend.core.models import utcnow
from backend.identity.models import SesionAuth
from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import bearer, post

DAY = 24 * 3600
SESSION_KEYS = {"id", "created_at", "last_used_at", "ip", "user_agent", "actual"}


def profile(client, access):
    return client.get("/account/profile", headers=bearer(access))


def refresh(client, token):
    return post(client, "/auth/refresh", headers=bearer(token))


def sessions(client, access):
    return client.get("/account/sessions", headers=bearer(access))


def sign_in(client, email="ana@example.com", ip="127.0.0.1", agent="Firefox"):
    response = client.post("/auth/login", json={"email": email, "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": ip}, headers={"User-Agent": agent})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# ---------------------------------------------------------------- absolute lifetime

def test_a_session_no_longer_refreshes_after_its_absolute_lifetime(app, client, make_usuario, clock):
    assert app.config["SESSION_MAX_DAYS"] == 30
    make_usuario(email="ana@example.com")
    signed_in_at = time.time()
    pair = sign_in(client)
    for _ in range(4):  # refreshed every 6 days: day 24
        clock.shift(6 * DAY)
        answer = refresh(client, pair["refresh_token"])
        assert answer.status_code == 200, answer.get_json()
        pair = answer.get_json()
    # The refresh token of day 24 ends with the session, on day 30, not on day 31.
    assert decode_token(pair["refresh_token"])["exp"] <= signed_in_at + 30 * DAY + 1
    clock.shift(5 * DAY + 23 * 3600)  # day 29 and 23 hours: still inside
    answer = refresh(client, pair["refresh_token"])
    assert answer.status_code == 200, answer.get_json()
    pair = answer.get_json()
    assert pair["expires_in"] <= 3600  # the access token ends with the session too
    clock.shift(3601)  # day 30 and a minute
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")
    assert sign_in(client)["access_token"]  # signing in again opens a new session


def test_the_lifetime_is_a_setting_and_applies_to_older_sessions(app, client, db, make_usuario,
                                                                 monkeypatch):
    make_usuario(email="ana@example.com")
    pair = sign_in(client)
    sid = decode_token(pair["access_token"])["sid"]
    monkeypatch.setitem(app.config, "SESSION_MAX_DAYS", 2)
    # A session opened before the setting was lowered (its refresh token still valid for days).
    db.session.get(SesionAuth, sid).created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")


# ---------------------------------------------------------------- /account/sessions

def test_list_the_live_sessions(client, db, make_usuario, clock):
    make_usuario(email="ana@example.com")
    make_usuario(email="otra@example.com")
    first = sign_in(client, ip="10.0.0.1", agent="Firefox")
    clock.shift(60)
    second = sign_in(client, ip="10.0.0.2", agent="Chrome")
    ended = sign_in(client, ip="10.0.0.3", agent="Safari")
    post(client, "/auth/logout", headers=bearer(ended["access_token"]))
    sign_in(client, email="otra@example.com", ip="10.0.0.9")

    response = sessions(client, first["access_token"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [s["ip"] for s in body] == ["10.0.0.2", "10.0.0.1"]  # newest first; no ended, no others'
    assert all(set(s) == SESSION_KEYS for s in body)
    newer, older = body
    assert (older["actual"], newer["actual"]) == (True, False)
    assert (older["user_agent"], newer["user_agent"]) == ("Firefox", "Chrome")
    assert older["id"] == decode_token(first["access_token"])["sid"]
    assert older["created_at"].endswith("Z") and older["last_used_at"] == older["created_at"]

    clock.shift(120)
    refresh(client, second["refresh_token"])
    again = {s["ip"]: s for s in sessions(client, first["access_token"]).get_json()}
    assert again["10.0.0.2"]["last_used_at"] > again["10.0.0.2"]["created_at"]
    assert again["10.0.0.1"]["last_used_at"] == again["10.0.0.1"]["created_at"]


def test_end_one_session(client, db, make_usuario):
    make_usuario(email="ana@example.com")
    make_usuario(email="otra@example.com")
    mine = sign_in(client)
    other_device = sign_in(client)
    someone_else = sign_in(client, email="otra@example.com")
    other_sid = decode_token(other_device["access_token"])["sid"]
    foreign_sid = decode_token(someone_else["access_token"])["sid"]

    assert_error(client.delete(f"/account/sessions/{foreign_sid}", headers=bearer(mine["access_token"])),
                 404, "no_encontrado")
    assert profile(client, someone_else["access_token"]).status_code == 200
    assert_error(client.delete("/account/sessions/nope", headers=bearer(mine["access_token"])), 404)

    response = client.delete(f"/account/sessions/{other_sid}", headers=bearer(mine["access_token"]))
    assert response.status_code == 204 and response.data == b""
    assert_error(profile(client, other_device["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, other_device["refresh_token"]), 401, "no_autenticado")
    assert profile(client, mine["access_token"]).status_code == 200
    # Already ended: not a live session any more.
    assert_error(client.delete(f"/account/sessions/{other_sid}", headers=bearer(mine["access_token"])), 404)
    assert_error(client.delete(f"/account/sessions/{other_sid}"), 401, "no_autenticado")


def test_end_the_other_sessions_after_the_password(client, db, make_usuario):
    usuario = make_usuario(email="ana@example.com")
    make_usuario(email="otra@example.com")
    mine = sign_in(client)
    others = [sign_in(client), sign_in(client)]
    someone_else = sign_in(client, email="otra@example.com")
    url = "/account/sessions/revoke-others"

    assert "password" in assert_error(post(client, url, {}, headers=bearer(mine["access_token"])),
                                      422, "validacion")["details"]
    wrong = post(client, url, {"password": "Otra#Clave999"}, headers=bearer(mine["access_token"]))
    assert "password" in assert_error(wrong, 401, "credenciales_invalidas")["details"]
    assert all(profile(client, o["access_token"]).status_code == 200 for o in others)

    ok = post(client, url, {"password": PASSWORD}, headers=bearer(mine["access_token"]))
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json() == {"revocadas": 2}
    for other in others:
        assert_error(profile(client, other["access_token"]), 401, "no_autenticado")
        assert_error(refresh(client, other["refresh_token"]), 401, "no_autenticado")
    assert profile(client, mine["access_token"]).status_code == 200
    assert profile(client, someone_else["access_token"]).status_code == 200
    assert [s["actual"] for s in sessions(client, mine["access_token"]).get_json()] == [True]
    reasons = db.session.scalars(select(SesionAuth.revoked_reason)
                                 .where(SesionAuth.usuario_id == usuario.id)).all()
    assert sorted(r or "" for r in reasons) == ["", "cerradas_por_usuario", "cerradas_por_usuario"]
    again = post(client, url, {"password": PASSWORD}, headers=bearer(mine["access_token"]))
    assert again.get_json() == {"revocadas": 0}


def test_session_routes_need_a_token(client):
    assert_error(client.get("/account/sessions"), 401, "no_autenticado")
    assert_error(post(client, "/account/sessions/revoke-others", {"password": PASSWORD}), 401)


def test_session_routes_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "get" in paths["/account/sessions"]
    assert "delete" in paths["/account/sessions/{sesion_id}"]
    assert "post" in paths["/account/sessions/revoke-others"]


# ---------------------------------------------------------------- a session of another user

def test_a_token_naming_another_users_session_is_refused(app, client, make_usuario):
    """The session id (`sid`) must be the token's user's own."""
    victim = make_usuario(email="ana@example.com")
    other = make_usuario(email="otra@example.com")
    victim_pair = sign_in(client)
    claims = {**decode_token(victim_pair["access_token"]), "usuario_id": other.id}
    extra = {k: claims[k] for k in ("rol", "usuario_id", "empresa_id", "otp_enabled", "sid")}
    with app.test_request_context():
        access = create_access_token(identity=str(other.id), additional_claims=extra)
        forged_refresh = create_refresh_token(identity=str(other.id),
                                              additional_claims={**extra, "jti": "x" * 36})
    assert_error(profile(client, access), 401, "no_autenticado")
    assert_error(refresh(client, forged_refresh), 401, "no_autenticado")
    assert profile(client, victim_pair["access_token"]).status_code == 200
    assert victim.id != other.id
