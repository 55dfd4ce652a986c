"""POST /auth/registro and /auth/registro/confirmar-otp."""
from __future__ import annotations

import pyotp
from sqlalchemy import select

from backend.core import crypto
from backend.identity.models import CodigoEmail, CodigoRespaldo, LogAcceso, PropositoCodigo, Usuario
from backend.identity.services import registration
from tests.conftest import PASSWORD, assert_error
from tests.identity.conftest import bearer, post, totp_now

USUARIO_KEYS = {"id", "nombre", "email", "rol", "empresa_id", "is_active", "otp_enabled", "telefono",
                "direccion", "ciudad", "pais", "fecha_nacimiento", "email_verificado", "created_at"}
PAIR_KEYS = {"access_token", "refresh_token", "token_type", "expires_in", "usuario"}


def register(client, email="ana@example.com", **extra):
    body = {"nombre": " Ana Gómez ", "email": email, "password": PASSWORD, **extra}
    return post(client, "/auth/registro", body)


def test_register_with_emailed_code(client, db, mailbox, login):
    response = register(client, email="Ana@Example.com", telefono="3001234567")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"usuario", "pendiente_activacion", "registro_token"}
    assert body["pendiente_activacion"] is True
    assert set(body["usuario"]) == USUARIO_KEYS
    assert body["usuario"]["email"] == "ana@example.com"
    assert body["usuario"]["nombre"] == "Ana Gómez"
    assert body["usuario"]["telefono"] == "+573001234567"
    assert body["usuario"]["rol"] == "cliente"

    usuario = db.session.scalar(select(Usuario).where(Usuario.email == "ana@example.com"))
    assert usuario.pendiente_activacion is True and usuario.email_verificado is False
    assert usuario.password_hash.startswith("$argon2id$")

    message = mailbox.last("ana@example.com")
    assert message["Subject"] == "Código de activación de su cuenta"
    code = mailbox.code("ana@example.com")
    assert code in mailbox.html(message)
    row = db.session.scalar(select(CodigoEmail).where(CodigoEmail.usuario_id == usuario.id))
    assert row.proposito == PropositoCodigo.ACTIVACION
    assert row.code_hash != code and code not in row.code_hash

    # Pending: no sign-in yet.
    assert_error(login("ana@example.com"), 403, "cuenta_pendiente_activacion")

    wrong = "000000" if code != "000000" else "111111"
    bad = post(client, "/auth/registro/confirmar-otp",
               {"registro_token": body["registro_token"], "code": wrong})
    assert assert_error(bad, 400, "codigo_invalido")["details"] == {"code": ["Código inválido."]}

    ok = post(client, "/auth/registro/confirmar-otp",
              {"registro_token": body["registro_token"], "code": code})
    assert ok.status_code == 200, ok.get_json()
    pair = ok.get_json()
    assert set(pair) == PAIR_KEYS
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 1800
    assert pair["usuario"]["email_verificado"] is True
    db.session.refresh(usuario)
    assert usuario.pendiente_activacion is False and usuario.email_verificado is True
    assert db.session.get(CodigoEmail, row.id).used_at is not None

    profile = client.get("/account/profile", headers=bearer(pair["access_token"]))
    assert profile.status_code == 200 and profile.get_json()["id"] == usuario.id

    again = post(client, "/auth/registro/confirmar-otp",
                 {"registro_token": body["registro_token"], "code": code})
    assert_error(again, 400, "token_invalido")
    assert login("ana@example.com").status_code == 200


def test_register_with_totp(client, db, mailbox, clock, login):
    response = register(client, activar_otp=True)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    otp = body["otp"]
    assert set(otp) == {"secret", "provisioning_uri", "qr_svg"}
    assert otp["provisioning_uri"].startswith("otpauth://totp/")
    assert "ana%40example.com" in otp["provisioning_uri"] or "ana@example.com" in otp["provisioning_uri"]
    assert pyotp.parse_uri(otp["provisioning_uri"]).secret == otp["secret"]
    assert otp["qr_svg"].lstrip().startswith("<svg") and "</svg>" in otp["qr_svg"]
    # The email is proven with 2FA too: the code is emailed in both cases.
    assert mailbox.last("ana@example.com")["Subject"] == "Código de activación de su cuenta"
    email_code = mailbox.code("ana@example.com")

    usuario = db.session.scalar(select(Usuario).where(Usuario.email == "ana@example.com"))
    assert usuario.otp_secret_enc and usuario.otp_secret_enc != otp["secret"]
    assert otp["secret"] not in usuario.otp_secret_enc
    assert crypto.decrypt(usuario.otp_secret_enc) == otp["secret"]
    assert usuario.otp_enabled is False

    ok = post(client, "/auth/registro/confirmar-otp",
              {"registro_token": body["registro_token"], "code": totp_now(otp["secret"]),
               "email_code": email_code})
    assert ok.status_code == 200, ok.get_json()
    pair = ok.get_json()
    assert set(pair) == PAIR_KEYS | {"backup_codes"}
    codes = pair["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert pair["usuario"]["otp_enabled"] is True and pair["usuario"]["email_verificado"] is True

    db.session.refresh(usuario)
    assert usuario.otp_enabled is True and usuario.pendiente_activacion is False
    assert usuario.email_verificado is True
    hashes = db.session.scalars(select(CodigoRespaldo.code_hash)
                                .where(CodigoRespaldo.usuario_id == usuario.id)).all()
    assert len(hashes) == 10 and not set(hashes) & set(codes)
    assert all(code.replace("-", "") not in h for code in codes for h in hashes)

    challenge = login("ana@example.com")
    assert challenge.status_code == 202
    assert challenge.get_json()["requires_otp"] is True


def test_register_with_totp_needs_the_emailed_code_too(client, db, mailbox, clock):
    """Whoever registers someone else's address with their own authenticator cannot activate it:
    the TOTP code alone, or with a wrong emailed code, activates nothing."""
    body = register(client, activar_otp=True).get_json()
    secret, token = body["otp"]["secret"], body["registro_token"]
    email_code = mailbox.code("ana@example.com")
    wrong_email_code = f"{(int(email_code) + 1) % 1_000_000:06d}"

    alone = post(client, "/auth/registro/confirmar-otp", {"registro_token": token, "code": totp_now(secret)})
    assert "email_code" in assert_error(alone, 422, "validacion")["details"]
    guessed = post(client, "/auth/registro/confirmar-otp",
                   {"registro_token": token, "code": totp_now(secret), "email_code": wrong_email_code})
    assert assert_error(guessed, 400, "codigo_invalido")["details"] == {"email_code": ["Código inválido."]}
    # The emailed code alone (the way of registrations without 2FA) does not do either.
    only_email = post(client, "/auth/registro/confirmar-otp", {"registro_token": token, "code": email_code})
    assert "email_code" in assert_error(only_email, 422, "validacion")["details"]
    usuario = db.session.get(Usuario, body["usuario"]["id"])
    db.session.refresh(usuario)
    assert (usuario.pendiente_activacion, usuario.email_verificado, usuario.otp_enabled) == \
        (True, False, False)

    # A wrong TOTP code with the right emailed code keeps the emailed code usable.
    bad_totp = post(client, "/auth/registro/confirmar-otp",
                    {"registro_token": token, "code": totp_now(secret, offset_steps=3),
                     "email_code": email_code})
    assert assert_error(bad_totp, 400, "codigo_invalido")["details"] == {"code": ["Código inválido."]}
    ok = post(client, "/auth/registro/confirmar-otp",
              {"registro_token": token, "code": totp_now(secret), "email_code": email_code})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["usuario"]["email_verificado"] is True


def test_register_totp_wrong_code_is_logged(client, db, mailbox, clock):
    body = register(client, activar_otp=True).get_json()
    secret = body["otp"]["secret"]
    bad = post(client, "/auth/registro/confirmar-otp",
               {"registro_token": body["registro_token"], "code": totp_now(secret, offset_steps=3),
                "email_code": mailbox.code("ana@example.com")})
    assert_error(bad, 400, "codigo_invalido")
    row = db.session.scalar(select(LogAcceso).where(LogAcceso.tipo == "registro"))
    assert row.exitoso is False and row.email == "ana@example.com"


def test_activation_code_expires_after_ten_minutes(client, mailbox, clock):
    body = register(client).get_json()
    code = mailbox.code("ana@example.com")
    clock.shift(10 * 60 + 1)
    late = post(client, "/auth/registro/confirmar-otp",
                {"registro_token": body["registro_token"], "code": code})
    assert_error(late, 400, "codigo_invalido")


def test_activation_code_burnt_after_five_wrong_guesses(client, db, mailbox):
    body = register(client).get_json()
    code = mailbox.code("ana@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert_error(post(client, "/auth/registro/confirmar-otp",
                          {"registro_token": body["registro_token"], "code": wrong}), 400, "codigo_invalido")
    right = post(client, "/auth/registro/confirmar-otp",
                 {"registro_token": body["registro_token"], "code": code})
    assert_error(right, 400, "codigo_invalido")
    usuario = db.session.get(Usuario, body["usuario"]["id"])
    db.session.refresh(usuario)
    assert usuario.pendiente_activacion is True and usuario.email_verificado is False


def test_confirm_with_forged_token(client):
    response = post(client, "/auth/registro/confirmar-otp", {"registro_token": "abc.def", "code": "123456"})
    body = assert_error(response, 400, "token_invalido")
    assert "registro_token" in body["details"]


def test_duplicate_email_is_409(client, db, make_usuario, mailbox):
    existing = make_usuario(email="ana@example.com", nombre="Ana Original")
    old_hash = existing.password_hash
    body = assert_error(register(client, email="ANA@example.com"), 409, "email_en_uso")
    assert "email" in body["details"]
    db.session.expire_all()
    [usuario] = db.session.scalars(select(Usuario)).all()
    assert (usuario.id, usuario.nombre, usuario.password_hash) == (existing.id, "Ana Original", old_hash)
    assert db.session.scalar(select(CodigoEmail.id)) is None and mailbox.messages == []


def test_weak_password_lists_what_is_missing(client, db):
    response = post(client, "/auth/registro", {"nombre": "Ana", "email": "ana@example.com",
                                               "password": "abc"})
    body = assert_error(response, 422, "password_debil")
    assert len(body["details"]["password"]) == 4  # length, upper-case, digit, special
    assert db.session.scalar(select(Usuario.id)) is None


def test_register_validation(client, db):
    missing = assert_error(post(client, "/auth/registro", {}), 422, "validacion")
    assert {"nombre", "email", "password"} <= set(missing["details"])
    unknown = post(client, "/auth/registro", {"nombre": "A", "email": "a@example.com",
                                              "password": PASSWORD, "rol": "admin"})
    assert "rol" in assert_error(unknown, 422, "validacion")["details"]
    bad_email = post(client, "/auth/registro", {"nombre": "A", "email": "nope", "password": PASSWORD})
    assert "email" in assert_error(bad_email, 422, "validacion")["details"]
    not_json = client.post("/auth/registro", data="nombre=A",
                           content_type="application/x-www-form-urlencoded")
    assert_error(not_json, 415, "tipo_no_soportado")
    broken = client.post("/auth/registro", data="{nope", content_type="application/json")
    assert_error(broken, 400, "solicitud_invalida")
    assert db.session.scalar(select(Usuario.id)) is None


def test_the_loser_of_a_registration_race_gets_email_en_uso(client, db, make_usuario, mailbox,
                                                            monkeypatch):
    """Two simultaneous registrations of one email both pass the pre-check; the unique index
    stops the second at the insert, which must still answer 409 `email_en_uso` (the concurrent
    version runs on MariaDB in test_concurrency.py)."""
    make_usuario(email="ana@example.com", nombre="La primera")
    monkeypatch.setattr(registration, "ensure_email_free", lambda email: None)  # the race window
    body = assert_error(register(client), 409, "email_en_uso")
    assert body["details"] == {"email": ["Ya está registrado."]}
    assert db.session.scalars(select(Usuario.nombre)).all() == ["La primera"]
    assert db.session.scalar(select(CodigoEmail.id)) is None and mailbox.messages == []
