"""POST /auth/registro/reenviar-codigo, and registrations surviving a mail outage
(/auth/registro and /public/suscripcion answer 201 even when the code cannot be emailed)."""
from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.empresas.models import Empresa
from backend.identity.models import CodigoEmail, PropositoCodigo, Usuario
from backend.identity.services.registration import registro_token
from backend.suscripciones.models import EstadoSuscripcion, Suscripcion
from tests.conftest import PASSWORD, assert_error, assert_throttled
from tests.identity.conftest import free_port, post

URL = "/auth/registro/reenviar-codigo"
CONFIRM = "/auth/registro/confirmar-otp"
EMAIL = "ana@example.com"


def register(client, email=EMAIL, ip="127.0.0.1", **extra):
    body = {"nombre": "Ana Gómez", "email": email, "password": PASSWORD, **extra}
    return post(client, "/auth/registro", body, ip=ip)


def resend(client, token, ip="127.0.0.1"):
    return post(client, URL, {"registro_token": token}, ip=ip)


def confirm(client, token, code):
    return post(client, CONFIRM, {"registro_token": token, "code": code})


def resend_for_a_new_code(client, mailbox, token, old_code) -> str:
    """Resend until the emailed code differs from `old_code` (equal only by a 1e-6 chance)."""
    for n in range(3):
        response = resend(client, token, ip=f"10.50.0.{n}")
        assert response.status_code == 202, response.get_json()
        assert response.get_json() == {"enviado": True}
        code = mailbox.code(EMAIL)
        if code != old_code:
            return code
    raise AssertionError("three resends gave the same code")


def live_codes(db, usuario_id) -> list[CodigoEmail]:
    db.session.expire_all()
    return db.session.scalars(
        select(CodigoEmail).where(CodigoEmail.usuario_id == usuario_id,
                                  CodigoEmail.proposito == PropositoCodigo.ACTIVACION,
                                  CodigoEmail.used_at.is_(None))
    ).all()


@pytest.fixture
def smtp_down(app, monkeypatch):
    """Point SMTP at a port nobody listens on; returns a function that restores the sink."""
    sink_port = app.config["SMTP_PORT"]
    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())

    def restore():
        monkeypatch.setitem(app.config, "SMTP_PORT", sink_port)

    return restore


def outage_logged(caplog, usuario_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "backend.auth" and r.levelno >= logging.ERROR
            and f"usuario {usuario_id} " in r.getMessage()]


# ---------------------------------------------------------------- happy path

def test_resend_issues_a_new_code_and_the_old_one_stops_working(client, db, mailbox):
    body = register(client).get_json()
    token = body["registro_token"]
    old_code = mailbox.code(EMAIL)
    assert len(mailbox.to(EMAIL)) == 1

    new_code = resend_for_a_new_code(client, mailbox, token, old_code)
    message = mailbox.last(EMAIL)
    assert message["Subject"] == "Código de activación de su cuenta"
    assert new_code in mailbox.html(message)
    assert len(live_codes(db, body["usuario"]["id"])) == 1  # only the newest is live

    assert_error(confirm(client, token, old_code), 400, "codigo_invalido")
    ok = confirm(client, token, new_code)
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["usuario"]["email_verificado"] is True
    usuario = db.session.get(Usuario, body["usuario"]["id"])
    db.session.refresh(usuario)
    assert usuario.pendiente_activacion is False and usuario.email_verificado is True
    assert live_codes(db, usuario.id) == []


def test_resend_is_documented_in_openapi(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/auth/registro/reenviar-codigo"]["post"]
    assert operation["summary"].startswith("Email a new activation code")
    assert {"202", "400", "409", "422", "429"} <= set(operation["responses"])


# ---------------------------------------------------------------- mail outage

def test_registro_survives_smtp_down_and_resend_activates(app, client, db, mailbox, smtp_down,
                                                          caplog):
    caplog.set_level(logging.INFO)
    response = register(client)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["pendiente_activacion"] is True and body["registro_token"]
    assert mailbox.to(EMAIL) == []

    usuario = db.session.scalar(select(Usuario).where(Usuario.email == EMAIL))
    assert usuario.id == body["usuario"]["id"] and usuario.pendiente_activacion is True
    assert len(live_codes(db, usuario.id)) == 1
    assert outage_logged(caplog, usuario.id), caplog.text

    # The account is not stuck: registering again is 409, but a new code can be asked for.
    assert_error(register(client, ip="10.51.0.1"), 409, "email_en_uso")
    failed = resend(client, body["registro_token"])
    assert failed.status_code == 202 and failed.get_json() == {"enviado": False}

    smtp_down()  # SMTP back
    again = resend(client, body["registro_token"], ip="10.51.0.2")
    assert again.status_code == 202 and again.get_json() == {"enviado": True}
    code = mailbox.code(EMAIL)
    assert code not in caplog.text  # the log never carries the code
    ok = confirm(client, body["registro_token"], code)
    assert ok.status_code == 200, ok.get_json()
    db.session.refresh(usuario)
    assert usuario.pendiente_activacion is False and usuario.email_verificado is True


def test_outage_log_never_carries_the_code(app, client, db, mailbox, smtp_down, caplog,
                                           monkeypatch):
    from backend.identity.services import registration as auth_registro

    issued = []
    real_issue = auth_registro.issue_activation_code

    def spy(usuario):
        issued.append(real_issue(usuario))
        return issued[-1]

    monkeypatch.setattr(auth_registro, "issue_activation_code", spy)
    caplog.set_level(logging.DEBUG)
    body = register(client).get_json()
    assert resend(client, body["registro_token"]).get_json() == {"enviado": False}
    assert len(issued) == 2 and len(outage_logged(caplog, body["usuario"]["id"])) == 2
    for code in issued:
        assert code not in caplog.text


def test_suscripcion_survives_smtp_down_and_resend_activates(app, client, db, mailbox,
                                                             smtp_down, make_plan, caplog):
    caplog.set_level(logging.INFO)
    plan = make_plan(nombre="Pro", precio_mensual=Decimal("99900.00"))
    db.session.commit()
    payload = {
        "empresa": {"nit": "901234567-8", "nombre": "Nueva S.A.S.", "contacto": "Ana"},
        "usuario": {"nombre": "Ana Pérez", "email": EMAIL, "password": PASSWORD},
        "plan_id": plan.id, "periodo": "mensual",
    }
    response = post(client, "/public/suscripcion", payload)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert mailbox.to(EMAIL) == []

    empresa = db.session.scalar(select(Empresa).where(Empresa.nit == "901234567-8"))
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == EMAIL))
    suscripcion = db.session.scalar(select(Suscripcion).where(Suscripcion.empresa_id == empresa.id))
    assert body["empresa"]["id"] == empresa.id and body["usuario"]["id"] == usuario.id
    assert body["suscripcion"]["id"] == suscripcion.id
    assert usuario.empresa_id == empresa.id and usuario.pendiente_activacion is True
    assert suscripcion.estado == EstadoSuscripcion.INACTIVA and suscripcion.plan_id == plan.id
    assert outage_logged(caplog, usuario.id), caplog.text

    smtp_down()  # SMTP back
    again = resend(client, body["registro_token"])
    assert again.status_code == 202 and again.get_json() == {"enviado": True}
    ok = confirm(client, body["registro_token"], mailbox.code(EMAIL))
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["usuario"]["empresa_id"] == empresa.id
    db.session.refresh(usuario)
    assert usuario.pendiente_activacion is False


# ---------------------------------------------------------------- refusals

@pytest.mark.parametrize("token", ["abc.def", "x"])
def test_forged_token_is_refused_like_confirm(client, db, mailbox, token):
    body = assert_error(resend(client, token), 400, "token_invalido")
    assert body["details"] == {"registro_token": ["Token inválido."]}
    assert_error(confirm(client, token, "123456"), 400, "token_invalido")  # same answer
    assert mailbox.messages == [] and db.session.query(CodigoEmail).count() == 0


def test_expired_token_is_refused(client, db, mailbox, clock):
    body = register(client).get_json()
    clock.shift(24 * 3600 + 1)
    mailbox.clear()
    before = [c.id for c in live_codes(db, body["usuario"]["id"])]
    assert_error(resend(client, body["registro_token"]), 400, "token_invalido")
    assert mailbox.messages == []
    assert [c.id for c in live_codes(db, body["usuario"]["id"])] == before


def test_token_of_a_deactivated_or_deleted_account_is_refused(client, db, mailbox):
    body = register(client).get_json()
    usuario = db.session.get(Usuario, body["usuario"]["id"])
    usuario.is_active = False
    db.session.commit()
    mailbox.clear()
    assert_error(resend(client, body["registro_token"]), 400, "token_invalido")
    ghost = Usuario(id=usuario.id + 1000)  # never stored
    assert_error(resend(client, registro_token(ghost)), 400, "token_invalido")
    assert mailbox.messages == []
    assert db.session.query(CodigoEmail).count() == 1  # only the sign-up's code


def test_active_account_is_409(client, db, mailbox):
    body = register(client).get_json()
    assert confirm(client, body["registro_token"], mailbox.code(EMAIL)).status_code == 200
    mailbox.clear()
    assert_error(resend(client, body["registro_token"]), 409, "cuenta_activa")
    assert mailbox.messages == []
    assert live_codes(db, body["usuario"]["id"]) == []


def test_staff_created_user_is_409(client, db, make_usuario, mailbox):
    usuario = make_usuario(email="staff-made@example.com")
    assert_error(resend(client, registro_token(usuario)), 409, "cuenta_activa")
    assert mailbox.messages == []
    assert db.session.query(CodigoEmail).count() == 0


def test_totp_registration_gets_a_new_emailed_code_too(client, db, mailbox):
    """A 2FA registration is confirmed with the TOTP code AND the emailed code (CONTRACT.md), so
    its emailed code can be sent again like any other."""
    response = register(client, activar_otp=True)
    assert response.status_code == 201 and "otp" in response.get_json()
    first = mailbox.code(EMAIL)
    usuario_id = response.get_json()["usuario"]["id"]
    code = resend_for_a_new_code(client, mailbox, response.get_json()["registro_token"], first)
    [row] = live_codes(db, usuario_id)
    assert row.code_hash != code and code not in row.code_hash


# ---------------------------------------------------------------- throttling

def test_resend_is_limited_per_account(client, db, mailbox):
    ana = register(client).get_json()["registro_token"]
    luis = register(client, email="luis@example.com", ip="10.52.9.9").get_json()["registro_token"]
    for n in range(5):  # AUTH_RATE_EMAIL_REQUESTS: 5 per 15 minutes, from any address
        assert resend(client, ana, ip=f"10.52.0.{n}").status_code == 202
    assert_throttled(resend(client, ana, ip="10.52.1.1"))
    assert len(mailbox.to(EMAIL)) == 1 + 5
    assert resend(client, luis, ip="10.52.1.1").status_code == 202  # another account: free


def test_resend_limit_lifts_after_the_window(client, mailbox, clock):
    token = register(client).get_json()["registro_token"]
    for n in range(5):
        assert resend(client, token, ip=f"10.53.0.{n}").status_code == 202
    assert_throttled(resend(client, token, ip="10.53.1.1"))
    clock.shift(15 * 60 + 1)
    assert resend(client, token, ip="10.53.1.2").status_code == 202


def test_resend_is_limited_per_ip(client, db, mailbox):
    for _ in range(20):  # AUTH_RATE_IP: 20/minute per endpoint, bad tokens included
        assert_error(resend(client, "forged", ip="10.54.0.1"), 400, "token_invalido")
    assert_throttled(resend(client, "forged", ip="10.54.0.1"))
    assert_error(resend(client, "forged", ip="10.54.0.2"), 400, "token_invalido")


# ---------------------------------------------------------------- malformed

def test_missing_or_empty_token_is_422(client):
    body = assert_error(post(client, URL, {}), 422, "validacion")
    assert "registro_token" in body["details"]
    body = assert_error(post(client, URL, {"registro_token": ""}), 422, "validacion")
    assert "registro_token" in body["details"]
    body = assert_error(post(client, URL, {"registro_token": "x" * 513}), 422, "validacion")
    assert "registro_token" in body["details"]
    body = assert_error(post(client, URL, {"registro_token": 123}), 422, "validacion")
    assert "registro_token" in body["details"]
    body = assert_error(post(client, URL, {"registro_token": "abc", "email": EMAIL}), 422,
                        "validacion")
    assert "email" in body["details"]


def test_bad_json_and_media_type(client):
    bad = client.post(URL, data="{not json", content_type="application/json")
    assert_error(bad, 400, "solicitud_invalida")
    form = client.post(URL, data={"registro_token": "abc"})
    assert_error(form, 415, "tipo_no_soportado")
    assert_error(client.get(URL), 405, "metodo_no_permitido")

