"""Signing in to the staff panel: its own sign-in page with CSRF, staff only, the 2FA step,
the API's throttling, sign-out, sessions that end with deactivation or a password change,
and the separation from the JSON API (a panel cookie never authenticates an API call and a
bearer token never opens the panel)."""
from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from backend.config import ProductionConfig
from backend.identity.models import LogAcceso, Rol, SesionAuth, Usuario
from backend.identity.services import otp
from backend.identity.services.sessions import revoke_user_sessions
from tests.conftest import PASSWORD, assert_error
from tests.panel.conftest import page_token


def _login(client, email: str, password: str = PASSWORD, next_: str = ""):
    token = page_token(client, "/panel/login")
    return client.post("/panel/login", data={"email": email, "password": password,
                                             "csrf_token": token, "next": next_})


def _panel_sessions(db, usuario) -> list[SesionAuth]:
    db.session.expire_all()
    return list(db.session.scalars(select(SesionAuth).where(SesionAuth.usuario_id == usuario.id)))


def _log(db, usuario) -> list[tuple[bool, str]]:
    db.session.expire_all()
    return [(row.exitoso, row.detalle) for row in db.session.scalars(
        select(LogAcceso).where(LogAcceso.usuario_id == usuario.id).order_by(LogAcceso.id))]


@pytest.fixture
def otp_staff(db, make_usuario):
    """A `soporte` staff member with 2FA on: (usuario, secret, backup codes)."""
    usuario = make_usuario(rol=Rol.SOPORTE, email="otp@staff.co")
    secret = otp.new_secret()
    otp.store_secret(usuario, secret)
    usuario.otp_enabled = True
    codes = otp.issue_backup_codes(usuario)
    db.session.commit()
    return usuario, secret, codes


# ---------------------------------------------------------------- who gets in

def test_anonymous_is_sent_to_the_sign_in_page(client):
    response = client.get("/panel/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/panel/login?next=/panel/")
    page = client.get("/panel/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["admin", "soporte_user"])
def test_staff_sign_in_opens_a_server_side_session(request, app, client, db, who):
    usuario = request.getfixturevalue(who)
    response = _login(client, usuario.email)
    assert response.status_code == 302 and response.headers["Location"] == "/panel/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("panel_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/panel/").status_code == 200
    [sesion] = _panel_sessions(db, usuario)
    assert sesion.revoked_at is None and sesion.expires_at > sesion.created_at
    assert _log(db, usuario) == [(True, "panel:password")]


def test_wrong_password_and_unknown_email_are_401_and_logged(client, db, admin):
    bad = _login(client, admin.email, "Otra#Clave999")
    assert bad.status_code == 401 and "Correo o contraseña incorrectos." in bad.get_data(as_text=True)
    unknown = _login(client, "nadie@staff.co")
    assert unknown.status_code == 401
    assert client.get("/panel/").status_code == 302
    assert _panel_sessions(db, admin) == []
    assert _log(db, admin) == [(False, "credenciales_invalidas")]


def test_a_customer_never_signs_in(client, db, cliente):
    response = _login(client, cliente.email)
    assert response.status_code == 403
    assert "solo para el personal" in response.get_data(as_text=True)
    assert client.get("/panel/").status_code == 302
    assert _panel_sessions(db, cliente) == []
    assert _log(db, cliente) == [(False, "panel_sin_rol")]


def test_an_inactive_staff_member_never_signs_in(client, db, make_usuario):
    usuario = make_usuario(rol=Rol.ADMIN, email="baja@staff.co", is_active=False)
    assert _login(client, usuario.email).status_code == 403
    assert _panel_sessions(db, usuario) == []


# ---------------------------------------------------------------- CSRF

def test_a_sign_in_without_a_valid_csrf_token_is_refused(client, db, admin):
    for token in (None, "forjado"):
        data = {"email": admin.email, "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = client.post("/panel/login", data=data)
        assert response.status_code == 400
    assert _panel_sessions(db, admin) == [] and _log(db, admin) == []


def test_sign_out_needs_its_csrf_token_and_ends_the_session(app, db, admin, panel_login):
    client = panel_login(admin)
    assert client.post("/panel/logout", data={}).status_code == 302
    assert client.get("/panel/").status_code == 200  # no token: still signed in
    token = page_token(client, "/panel/")
    assert client.post("/panel/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/panel/").status_code == 302
    [sesion] = _panel_sessions(db, admin)
    assert sesion.revoked_at is not None and sesion.revoked_reason == "logout_panel"


# ---------------------------------------------------------------- two-factor step

def test_two_factor_staff_answer_a_totp_code(app, client, db, otp_staff):
    usuario, secret, _codes = otp_staff
    step = _login(client, usuario.email)
    assert step.status_code == 200 and 'name="challenge_token"' in step.get_data(as_text=True)
    assert client.get("/panel/").status_code == 302  # not in yet
    html = step.get_data(as_text=True)
    challenge = html.split('name="challenge_token" type="hidden" value="')[1].split('"')[0]
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    wrong = client.post("/panel/login/otp", data={"csrf_token": token, "challenge_token": challenge,
                                                  "otp_code": "000000"})
    assert wrong.status_code == 401 and client.get("/panel/").status_code == 302
    right = client.post("/panel/login/otp", data={"csrf_token": token, "challenge_token": challenge,
                                                  "otp_code": pyotp.TOTP(secret).now()})
    assert right.status_code == 302 and client.get("/panel/").status_code == 200
    assert _log(db, usuario)[-1] == (True, "panel:otp")
    other = app.test_client()  # the same challenge again, from a fresh browser
    again = other.post("/panel/login/otp", data={"csrf_token": page_token(other, "/panel/login"),
                                                 "challenge_token": challenge,
                                                 "backup_code": _codes[0]})
    assert again.status_code == 401  # a challenge works once
    assert "venció o ya se usó" in again.get_data(as_text=True)


def test_two_factor_staff_may_use_a_backup_code_once(app, db, otp_staff):
    usuario, _secret, codes = otp_staff
    for expected in (302, 401):
        client = app.test_client()
        html = _login(client, usuario.email).get_data(as_text=True)
        challenge = html.split('name="challenge_token" type="hidden" value="')[1].split('"')[0]
        token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/panel/login/otp", data={
            "csrf_token": token, "challenge_token": challenge, "backup_code": codes[0]})
        assert response.status_code == expected
    assert len([s for s in _panel_sessions(db, usuario) if s.revoked_at is None]) == 1


# ---------------------------------------------------------------- sessions that end

def test_deactivation_and_password_change_end_the_panel_session(app, db, make_usuario, panel_login):
    for change in ("desactivar", "password", "rol"):
        usuario = make_usuario(rol=Rol.ADMIN, email=f"{change}@staff.co")
        client = panel_login(usuario)
        assert client.get("/panel/").status_code == 200
        fresh = db.session.get(Usuario, usuario.id)
        if change == "desactivar":
            fresh.is_active = False
        elif change == "password":
            revoke_user_sessions(fresh.id, "cambio_password")
        else:
            fresh.rol = Rol.CLIENTE
        db.session.commit()
        response = client.get("/panel/")
        assert response.status_code == 302, change
        assert response.headers["Location"].startswith("/panel/login")


# ---------------------------------------------------------------- panel and API stay apart

def test_a_panel_cookie_never_authenticates_the_api(admin_panel):
    assert admin_panel.get("/panel/").status_code == 200
    assert_error(admin_panel.get("/admin/empresas"), 401, "no_autenticado")
    assert_error(admin_panel.get("/account/profile"), 401, "no_autenticado")


def test_a_bearer_token_never_opens_the_panel(client, admin_headers):
    response = client.get("/panel/", headers=admin_headers)
    assert response.status_code == 302 and response.headers["Location"].startswith("/panel/login")


# ---------------------------------------------------------------- throttling and redirects

def test_sign_in_is_throttled_like_the_api(app, client, db, admin, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_ACCOUNT_IP_FAILURES", "3/15 minutes")
    statuses = [_login(client, admin.email, "Mala#Clave000").status_code for _ in range(3)]
    blocked = _login(client, admin.email)  # even the right password, once blocked
    assert statuses == [401, 401, 401]
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "Demasiados intentos" in blocked.get_data(as_text=True)
    assert _panel_sessions(db, admin) == []
    assert (False, "bloqueado") in _log(db, admin)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/auth/login",
                                    "/panel/login"])
def test_next_never_leaves_the_panel(client, admin, target):
    response = _login(client, admin.email, next_=target)
    assert response.status_code == 302 and response.headers["Location"] == "/panel/"


def test_next_inside_the_panel_is_kept(client, admin):
    response = _login(client, admin.email, next_="/panel/?x=1")
    assert response.headers["Location"] == "/panel/?x=1"


def test_production_cookies_are_secure_by_default(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert ProductionConfig().SESSION_COOKIE_SECURE is True
