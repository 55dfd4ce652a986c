"""Refresh rotation with reuse detection, logout, and every case that ends earlier tokens."""
from __future__ import annotations

from flask_jwt_extended import decode_token
from sqlalchemy import select

from backend.identity.models import RefreshToken, SesionAuth, Usuario
from backend.identity.services.sessions import revoke_user_sessions
from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import NEW_PASSWORD, bearer, post, totp_now


def profile(client, access):
    return client.get("/account/profile", headers=bearer(access))


def refresh(client, token):
    return post(client, "/auth/refresh", headers=bearer(token))


def test_refresh_rotates_and_reuse_revokes_the_session(client, db, make_usuario, login):
    usuario = make_usuario(email="ana@example.com")
    first = login("ana@example.com").get_json()
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.get_json()
    second = second.get_json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in", "usuario"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["usuario"]["id"] == usuario.id
    old_jti = decode_token(first["refresh_token"])["jti"]
    assert db.session.get(RefreshToken, old_jti).used_at is not None
    assert profile(client, second["access_token"]).status_code == 200

    # The rotated-away token comes back: the whole session ends.
    assert_error(refresh(client, first["refresh_token"]), 401, "no_autenticado")
    sesion = db.session.scalar(select(SesionAuth).where(SesionAuth.usuario_id == usuario.id))
    assert sesion.revoked_at is not None and sesion.revoked_reason == "reuso_refresh"
    assert_error(refresh(client, second["refresh_token"]), 401, "no_autenticado")
    assert_error(profile(client, second["access_token"]), 401, "no_autenticado")
    assert_error(profile(client, first["access_token"]), 401, "no_autenticado")


def test_refresh_needs_a_refresh_token(client, make_usuario, login):
    make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    assert_error(refresh(client, pair["access_token"]), 401, "no_autenticado")
    assert_error(post(client, "/auth/refresh"), 401, "no_autenticado")
    assert_error(profile(client, pair["refresh_token"]), 401, "no_autenticado")


def test_refresh_token_expires(client, make_usuario, login, clock):
    make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    clock.shift(7 * 24 * 3600 + 1)
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")


def test_logout_ends_access_and_refresh(client, db, make_usuario, login):
    make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    other = login("ana@example.com").get_json()
    response = post(client, "/auth/logout", headers=bearer(pair["access_token"]))
    assert response.status_code == 204 and response.data == b""
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")
    assert profile(client, other["access_token"]).status_code == 200  # other sessions stay
    assert_error(post(client, "/auth/logout"), 401, "no_autenticado")
    reasons = db.session.scalars(select(SesionAuth.revoked_reason)).all()
    assert sorted(r or "" for r in reasons) == ["", "logout"]


def test_password_change_keeps_current_session_only(client, make_usuario, login, mailbox):
    make_usuario(email="ana@example.com")
    current = login("ana@example.com").get_json()
    other = login("ana@example.com").get_json()
    post(client, "/account/password/request-code", headers=bearer(current["access_token"]))
    change = post(client, "/account/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "verification_code": mailbox.code("ana@example.com")}, headers=bearer(current["access_token"]))
    assert change.status_code == 200, change.get_json()
    assert profile(client, current["access_token"]).status_code == 200
    assert refresh(client, current["refresh_token"]).status_code == 200
    assert_error(profile(client, other["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, other["refresh_token"]), 401, "no_autenticado")


def test_reset_ends_every_session(client, make_usuario, login, mailbox):
    make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    post(client, "/auth/password/forgot", {"email": "ana@example.com"})
    reset = post(client, "/auth/password/reset", {"token": mailbox.reset_token("ana@example.com"),
                                                  "password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.get_json()
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")


def test_two_factor_changes_end_other_sessions(client, db, make_usuario, login, clock):
    make_usuario(email="ana@example.com")
    current = login("ana@example.com").get_json()
    other = login("ana@example.com").get_json()
    headers = bearer(current["access_token"])
    secret = post(client, "/auth/otp/setup", headers=headers).get_json()["secret"]
    assert post(client, "/auth/otp/activate", {"otp_code": totp_now(secret), "password": PASSWORD},
                headers=headers).status_code == 200
    assert_error(profile(client, other["access_token"]), 401, "no_autenticado")
    assert profile(client, current["access_token"]).status_code == 200

    clock.shift(30)
    token = login("ana@example.com").get_json()["challenge_token"]
    third = post(client, "/auth/login/otp",
                 {"challenge_token": token, "otp_code": totp_now(secret)}).get_json()
    clock.shift(30)
    off = post(client, "/auth/otp/disable", {"password": PASSWORD, "otp_code": totp_now(secret)},
               headers=headers)
    assert off.status_code == 200, off.get_json()
    assert_error(profile(client, third["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, third["refresh_token"]), 401, "no_autenticado")
    assert profile(client, current["access_token"]).status_code == 200


def test_deactivation_ends_tokens(client, db, make_usuario, login):
    usuario = make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    # What the admin area does when staff deactivate a user.
    db.session.get(Usuario, usuario.id).is_active = False
    revoke_user_sessions(usuario.id, "desactivado")
    db.session.commit()
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")
    assert_error(login("ana@example.com"), 403, "cuenta_inactiva")


def test_inactive_user_cannot_refresh_even_without_revocation(client, db, make_usuario, login):
    usuario = make_usuario(email="ana@example.com")
    pair = login("ana@example.com").get_json()
    db.session.get(Usuario, usuario.id).is_active = False
    db.session.commit()
    assert_error(refresh(client, pair["refresh_token"]), 401, "no_autenticado")
    assert_error(profile(client, pair["access_token"]), 401, "no_autenticado")


def test_pending_user_token_is_refused(client, make_usuario, token_for):
    usuario = make_usuario(email="ana@example.com", pendiente_activacion=True)
    response = profile(client, token_for(usuario))
    assert_error(response, 403, "cuenta_pendiente_activacion")
