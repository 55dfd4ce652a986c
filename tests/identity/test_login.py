"""POST /auth/login and /auth/login/otp; the sign-in log and the new-IP email (whose failure
never breaks a sign-in); the login challenge and what ends it (expiry, wrong codes,
deactivation, a password reset or change)."""
from __future__ import annotations

from argon2 import PasswordHasher
from flask_jwt_extended import decode_token
from sqlalchemy import select

from backend.identity.models import CodigoRespaldo, DesafioLogin, LogAcceso, Usuario
from backend.identity.services.passwords import needs_rehash, verify_password
from tests.conftest import PASSWORD, assert_error, persist
from tests.identity.conftest import NEW_PASSWORD, bearer, free_port, post, totp_now


def _closed_port() -> int:
    """A port nobody listens on: mail sent to it fails (an SMTP outage)."""
    return free_port()


def logs(db, **filters):
    stmt = select(LogAcceso).order_by(LogAcceso.id)
    for key, value in filters.items():
        stmt = stmt.where(getattr(LogAcceso, key) == value)
    return db.session.scalars(stmt).all()


def test_login_returns_pair_and_logs(app, db, make_empresa, make_usuario, login, mailbox):
    empresa = make_empresa()
    usuario = make_usuario(empresa_id=empresa.id, email="ana@example.com")
    response = login("ANA@example.com ", ip="10.0.0.5")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert body["usuario"]["id"] == usuario.id and body["usuario"]["empresa_id"] == empresa.id
    assert "password_hash" not in body["usuario"] and "otp_secret_enc" not in body["usuario"]
    claims = decode_token(body["access_token"])
    assert claims["rol"] == "cliente" and claims["usuario_id"] == usuario.id
    assert claims["empresa_id"] == empresa.id and claims["otp_enabled"] is False
    assert decode_token(body["refresh_token"])["type"] == "refresh"

    [row] = logs(db)
    assert (row.tipo, row.exitoso, row.ip, row.email, row.usuario_id, row.empresa_id, row.detalle) == \
        ("login", True, "10.0.0.5", "ana@example.com", usuario.id, empresa.id, "password")
    db.session.refresh(usuario)
    assert usuario.last_login_ip == "10.0.0.5" and usuario.last_login_at is not None
    assert mailbox.messages == []  # a first sign-in is not "from a new IP"


def test_wrong_password_and_unknown_email_answer_the_same(db, make_empresa, make_usuario, login):
    empresa = make_empresa()
    usuario = make_usuario(empresa_id=empresa.id, email="ana@example.com")
    wrong = login("ana@example.com", "Otra#Clave999")
    unknown = login("nadie@example.com", "Otra#Clave999")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_json()["error"] == "credenciales_invalidas"
    first, second = logs(db)
    assert (first.exitoso, first.usuario_id, first.empresa_id, first.email, first.detalle) == \
        (False, usuario.id, empresa.id, "ana@example.com", "credenciales_invalidas")
    assert (second.exitoso, second.usuario_id, second.empresa_id, second.email) == \
        (False, None, None, "nadie@example.com")
    assert second.ip == "127.0.0.1"


def test_inactive_and_pending_accounts(db, make_usuario, login):
    make_usuario(email="off@example.com", is_active=False)
    make_usuario(email="wait@example.com", pendiente_activacion=True)
    assert_error(login("off@example.com"), 403, "cuenta_inactiva")
    assert_error(login("wait@example.com"), 403, "cuenta_pendiente_activacion")
    # The status is only told to someone who knows the password.
    assert_error(login("off@example.com", "Otra#Clave999"), 401, "credenciales_invalidas")
    assert [r.detalle for r in logs(db)] == ["cuenta_inactiva", "cuenta_pendiente_activacion",
                                              "credenciales_invalidas"]


def test_login_validation(client):
    body = assert_error(post(client, "/auth/login", {"email": "a@example.com"}), 422, "validacion")
    assert body["details"] == {"password": ["Missing data for required field."]}
    assert_error(client.post("/auth/login", data="x", content_type="text/plain"), 415)


def test_new_ip_sends_an_email(db, make_usuario, login, mailbox):
    make_usuario(email="ana@example.com")
    assert login("ana@example.com", ip="10.0.0.1").status_code == 200
    assert login("ana@example.com", ip="10.0.0.1").status_code == 200
    assert mailbox.messages == []
    assert login("ana@example.com", ip="10.0.0.2").status_code == 200
    message = mailbox.last("ana@example.com")
    assert message["Subject"] == "Nuevo inicio de sesión en su cuenta"
    assert "10.0.0.2" in mailbox.text(message) and "10.0.0.2" in mailbox.html(message)
    # Back to a known address: no email.
    mailbox.clear()
    assert login("ana@example.com", ip="10.0.0.1").status_code == 200
    assert mailbox.messages == []


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


def test_two_factor_login(client, db, otp_user, login, clock):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    challenge = login("ana@example.com")
    assert challenge.status_code == 202
    body = challenge.get_json()
    assert set(body) == {"requires_otp", "challenge_token"} and body["requires_otp"] is True
    assert "access_token" not in body
    code = totp_now(secret)
    ok = post(client, "/auth/login/otp", {"challenge_token": body["challenge_token"], "otp_code": code})
    assert ok.status_code == 200, ok.get_json()
    assert decode_token(ok.get_json()["access_token"])["otp_enabled"] is True
    last = logs(db, usuario_id=usuario.id)
    assert [(r.tipo, r.exitoso, r.detalle) for r in last[-2:]] == \
        [("login_desafio", True, "requiere_otp"), ("login", True, "otp")]

    # The challenge works once.
    reused = post(client, "/auth/login/otp", {"challenge_token": body["challenge_token"],
                                              "otp_code": totp_now(secret, 1)})
    assert_error(reused, 401, "desafio_invalido")
    # The same TOTP code is refused on a new challenge (replay).
    token = login("ana@example.com").get_json()["challenge_token"]
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": code}),
                 401, "otp_invalido")
    db.session.refresh(usuario)
    assert usuario.otp_last_step is not None
    # The next step's code works (clock skew window) on the same challenge.
    assert post(client, "/auth/login/otp", {"challenge_token": token,
                                            "otp_code": totp_now(secret, 1)}).status_code == 200


def test_totp_window_is_one_step(client, otp_user, login, clock):
    _usuario, secret, _codes = otp_user(email="ana@example.com")
    clock.shift(300)
    token = login("ana@example.com").get_json()["challenge_token"]
    for stale in (totp_now(secret, -2), totp_now(secret, 2)):
        assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": stale}),
                     401, "otp_invalido")
    assert post(client, "/auth/login/otp", {"challenge_token": token,
                                            "otp_code": totp_now(secret, -1)}).status_code == 200


def test_backup_code_works_once(client, db, otp_user, login):
    usuario, _secret, codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    ok = post(client, "/auth/login/otp", {"challenge_token": token, "backup_code": codes[0].upper()})
    assert ok.status_code == 200, ok.get_json()
    used = db.session.scalars(select(CodigoRespaldo).where(CodigoRespaldo.usuario_id == usuario.id,
                                                           CodigoRespaldo.used_at.is_not(None))).all()
    assert len(used) == 1
    token = login("ana@example.com").get_json()["challenge_token"]
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "backup_code": codes[0]}),
                 401, "otp_invalido")
    assert logs(db, usuario_id=usuario.id)[-1].detalle == "otp_invalido"


def test_challenge_expires(client, otp_user, login, clock):
    _usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    clock.shift(301)
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)}),
                 401, "desafio_invalido")


def test_challenge_burnt_after_five_wrong_codes(client, db, otp_user, login, clock):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    for _ in range(5):
        assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": "000000"}), 401)
    assert db.session.scalar(select(DesafioLogin).where(DesafioLogin.usuario_id == usuario.id)).used_at
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)}),
                 401, "desafio_invalido")


def test_challenge_of_deactivated_user(client, db, otp_user, login):
    usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    db.session.get(Usuario, usuario.id).is_active = False
    db.session.commit()
    assert_error(post(client, "/auth/login/otp", {"challenge_token": token, "otp_code": totp_now(secret)}),
                 403, "cuenta_inactiva")


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


def test_forged_challenge_and_bad_bodies(client):
    assert_error(post(client, "/auth/login/otp", {"challenge_token": "x.y.z", "otp_code": "123456"}),
                 401, "desafio_invalido")
    both = post(client, "/auth/login/otp", {"challenge_token": "t", "otp_code": "1", "backup_code": "2"})
    assert "otp_code" in assert_error(both, 422, "validacion")["details"]
    neither = post(client, "/auth/login/otp", {"challenge_token": "t"})
    assert_error(neither, 422, "validacion")


def test_access_token_of_2fa_user_works(client, otp_user, login, clock):
    _usuario, secret, _codes = otp_user(email="ana@example.com")
    token = login("ana@example.com").get_json()["challenge_token"]
    pair = post(client, "/auth/login/otp",
                {"challenge_token": token, "otp_code": totp_now(secret)}).get_json()
    profile = client.get("/account/profile", headers=bearer(pair["access_token"]))
    assert profile.get_json()["otp_enabled"] is True


def test_a_hash_of_an_older_cost_is_upgraded_at_sign_in(app, db, make_usuario, login, audit_rows):
    """When ARGON2_* change, each account's hash follows at its next sign-in (never on a wrong
    password), without an audit row (bookkeeping, not a password change) or ending sessions."""
    usuario = make_usuario(email="ana@example.com")
    old_hash = PasswordHasher(time_cost=2, memory_cost=2048).hash(PASSWORD)
    row = db.session.get(Usuario, usuario.id)
    row.password_hash = old_hash
    persist(db, row)
    assert needs_rehash(old_hash)
    assert_error(login("ana@example.com", "Otra#Clave999"), 401)
    db.session.refresh(usuario)
    assert usuario.password_hash == old_hash  # a failed sign-in changes nothing

    first = login("ana@example.com")
    assert first.status_code == 200
    db.session.refresh(usuario)
    assert usuario.password_hash != old_hash and usuario.password_hash.startswith("$argon2id$")
    assert not needs_rehash(usuario.password_hash)
    assert f"m={app.config['ARGON2_MEMORY_COST']},t={app.config['ARGON2_TIME_COST']}" in usuario.password_hash
    assert verify_password(usuario.password_hash, PASSWORD)
    assert audit_rows("usuarios", usuario.id) == []
    assert login("ana@example.com").status_code == 200
    assert client_profile_ok(app, first.get_json()["access_token"])


def client_profile_ok(app, access: str) -> bool:
    return app.test_client().get("/account/profile", headers=bearer(access)).status_code == 200
