"""/public: catalogue, company card and self-service sign-up (one transaction, throttled)."""
from __future__ import annotations

import email
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import assert_error

URL = "/public/suscripcion"


def _payload(plan_id: int, **over) -> dict:
    payload = {
        "empresa": {"nit": "901234567-8", "nombre": "Nueva S.A.S.", "contacto": "Ana"},
        "usuario": {"nombre": "Ana Pérez", "email": "Ana@Example.com", "password": "Segura#2024"},
        "plan_id": plan_id,
        "periodo": "mensual",
    }
    payload.update(over)
    return payload


def _counts(db) -> tuple[int, int, int]:
    from backend.empresas.models import Empresa
    from backend.identity.models import Usuario
    from backend.suscripciones.models import Suscripcion

    return (db.session.query(Empresa).count(), db.session.query(Usuario).count(),
            db.session.query(Suscripcion).count())


@pytest.fixture
def plan(make_plan):
    from decimal import Decimal

    return make_plan(nombre="Pro", precio_mensual=Decimal("99900.00"), precio_anual=Decimal("999000.00"),
                     servicios={"Facturacion": 10})


# ---------------------------------------------------------------- catalogue

def test_planes(client, db, make_plan):
    from backend.catalogo.models import Servicio

    make_plan(nombre="Retirado", activo=False)
    caro = make_plan(nombre="Caro", precio_mensual=500, servicios={"A": 1, "Oculto": 9})
    barato = make_plan(nombre="Barato", precio_mensual=10, seleccionado=True, servicios={"A": 2})
    db.session.query(Servicio).filter_by(nombre="Oculto").one().activo = False
    db.session.commit()

    body = client.get("/public/planes").get_json()
    assert body["total"] == 2 and body["page"] == 1 and body["per_page"] == 20
    assert [p["nombre"] for p in body["items"]] == ["Barato", "Caro"]
    first = body["items"][0]
    assert first == {"id": barato.id, "nombre": "Barato", "descripcion": None, "precio_mensual": 10.0,
                     "precio_anual": 1000.0, "seleccionado": True, "activo": True,
                     "servicios": [{"id": first["servicios"][0]["id"], "nombre": "A", "cantidad": 2}]}
    assert body["items"][1]["id"] == caro.id
    assert [s["nombre"] for s in body["items"][1]["servicios"]] == ["A"]  # inactive service hidden
    assert_error(client.get("/public/planes?page=0"), 422, "validacion")


def test_servicios(client, db, make_plan):
    from backend.catalogo.models import Servicio

    make_plan(servicios={"Activo": 1, "Inactivo": 1})
    db.session.query(Servicio).filter_by(nombre="Inactivo").one().activo = False
    db.session.commit()
    todos = client.get("/public/servicios").get_json()
    assert [s["nombre"] for s in todos["items"]] == ["Activo", "Inactivo"]
    activos = client.get("/public/servicios?activos=1").get_json()
    assert activos["total"] == 1
    assert activos["items"][0] == {"id": activos["items"][0]["id"], "nombre": "Activo",
                                   "descripcion": None, "url_api": "/api/activo", "activo": True}
    body = assert_error(client.get("/public/servicios?activos=quizas"), 422, "validacion")
    assert "activos" in body["details"]


def test_empresa_publica(client, make_empresa):
    empresa = make_empresa(nit="900111222-3", nombre="ACME", email="secreto@acme.co")
    response = client.get(f"/public/empresas/{empresa.id}")
    assert response.get_json() == {"id": empresa.id, "nombre": "ACME", "estado": "activa"}
    assert_error(client.get("/public/empresas/9999"), 404, "no_encontrado")


# ---------------------------------------------------------------- sign-up

def test_signup_creates_everything(app, client, db, plan):
    from backend.empresas.models import Empresa
    from backend.identity.models import CodigoEmail, Usuario
    from backend.identity.services.registration import usuario_id_from_registro_token
    from backend.suscripciones.models import Suscripcion

    response = client.post(URL, json=_payload(plan.id))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()

    empresa = db.session.query(Empresa).one()
    usuario = db.session.query(Usuario).one()
    suscripcion = db.session.query(Suscripcion).one()
    assert (empresa.nit, empresa.nombre, empresa.contacto, empresa.estado.value) == (
        "901234567-8", "Nueva S.A.S.", "Ana", "activa")
    assert usuario.email == "ana@example.com" and usuario.rol.value == "cliente"
    assert usuario.empresa_id == empresa.id and usuario.pendiente_activacion is True
    assert usuario.email_verificado is False and usuario.password_hash != "Segura#2024"
    assert suscripcion.estado.value == "inactiva" and suscripcion.plan_id == plan.id
    assert suscripcion.fecha_inicio == date.today()
    assert suscripcion.fecha_fin > date.today() and float(suscripcion.precio_pagado) == 99900.0
    assert db.session.query(CodigoEmail).filter_by(usuario_id=usuario.id).count() == 1

    assert body["empresa"]["id"] == empresa.id and body["empresa"]["nit"] == "901234567-8"
    assert body["usuario"]["id"] == usuario.id and body["usuario"]["email"] == "ana@example.com"
    assert "password" not in body["usuario"] and "password_hash" not in body["usuario"]
    assert body["suscripcion"]["estado"] == "inactiva"
    assert body["suscripcion"]["plan"] == {"id": plan.id, "nombre": "Pro"}
    assert body["suscripcion"]["precio_pagado"] == 99900.0
    assert body["pendiente_activacion"] is True
    assert usuario_id_from_registro_token(body["registro_token"]) == usuario.id

    outbox = list(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    messages = [email.message_from_bytes(p.read_bytes()) for p in outbox]
    assert any(m["To"] == "ana@example.com" for m in messages)


def test_signup_annual_price(client, db, plan):
    from backend.suscripciones.models import Suscripcion

    response = client.post(URL, json=_payload(plan.id, periodo="anual"))
    assert response.status_code == 201
    sus = db.session.query(Suscripcion).one()
    assert sus.periodo.value == "anual" and float(sus.precio_pagado) == 999000.0
    assert (sus.fecha_fin - sus.fecha_inicio).days in (364, 365)


def test_signup_then_licence_is_not_valid(client, plan):
    client.post(URL, json=_payload(plan.id))
    body = client.get("/api/suscripcion-activa/901234567-8",
                      headers={"X-API-Key": "test-global-api-key"}).get_json()
    assert body["codigo"] == "SIN_SUSCRIPCION" and body["suscripcion"]["estado"] == "inactiva"


def test_duplicate_nit_is_409(client, db, plan, make_empresa):
    make_empresa(nit="901234567-8")
    body = assert_error(client.post(URL, json=_payload(plan.id)), 409, "conflicto")
    assert "empresa.nit" in body["details"]
    assert _counts(db) == (1, 0, 0)


def test_duplicate_email_after_company_insert_rolls_back(client, db, plan, make_usuario):
    """The email check runs after the company row was flushed: the 409 must undo it."""
    make_usuario(email="ana@example.com")
    assert_error(client.post(URL, json=_payload(plan.id)), 409, "email_en_uso")
    assert _counts(db) == (0, 1, 0)


def test_failure_late_in_the_transaction_keeps_nothing(app, client, db, plan, monkeypatch):
    """An error after company, user and subscription were flushed leaves no row behind."""
    from backend.identity.services import registration as registro

    def boom(_usuario):
        raise RuntimeError("mail subsystem down")

    monkeypatch.setattr(registro, "issue_activation_code", boom)
    assert_error(client.post(URL, json=_payload(plan.id)), 500, "error_interno")
    assert _counts(db) == (0, 0, 0)


def test_integrity_race_on_email_is_409(client, db, plan, make_usuario, monkeypatch):
    """If another sign-up wins the race after our check, the unique index answers 409."""
    from backend.suscripciones import signup as public_signup

    make_usuario(email="ana@example.com")
    real_scalar = db.session.scalar
    calls = {"n": 0}

    def blind_scalar(stmt, *args, **kwargs):  # the pre-checks see nothing
        calls["n"] += 1
        if calls["n"] <= 2:
            return None
        return real_scalar(stmt, *args, **kwargs)

    monkeypatch.setattr(public_signup.db.session, "scalar", blind_scalar)
    assert_error(client.post(URL, json=_payload(plan.id)), 409, "email_en_uso")
    monkeypatch.undo()
    assert _counts(db) == (0, 1, 0)


def test_weak_password_is_422(client, db, plan):
    payload = _payload(plan.id)
    payload["usuario"]["password"] = "corta"
    body = assert_error(client.post(URL, json=payload), 422, "password_debil")
    assert body["details"]["usuario.password"]
    assert _counts(db) == (0, 0, 0)


@pytest.mark.parametrize("activo", [None, False])
def test_unknown_or_inactive_plan_is_422(client, db, make_plan, activo):
    plan_id = 9999 if activo is None else make_plan(activo=False).id
    body = assert_error(client.post(URL, json=_payload(plan_id)), 422, "validacion")
    assert "plan_id" in body["details"]
    assert _counts(db)[0] == 0


@pytest.mark.parametrize("mutate,field", [
    (lambda p: p.pop("empresa"), "empresa"),
    (lambda p: p.pop("plan_id"), "plan_id"),
    (lambda p: p.update(periodo="semanal"), "periodo"),
    (lambda p: p.update(plan_id="1"), "plan_id"),
    (lambda p: p["empresa"].update(nit="abc"), "empresa"),
    (lambda p: p["usuario"].update(email="no-es-correo"), "usuario"),
    (lambda p: p["usuario"].update(rol="admin"), "usuario"),
    (lambda p: p.update(estado="activa"), "estado"),
])
def test_invalid_bodies_are_422(client, db, plan, mutate, field):
    payload = _payload(plan.id)
    mutate(payload)
    body = assert_error(client.post(URL, json=payload), 422, "validacion")
    assert field in body["details"], body
    assert _counts(db) == (0, 0, 0)


def test_malformed_and_wrong_media_type(client, db, plan):
    assert_error(client.post(URL, data="{", content_type="application/json"), 400, "solicitud_invalida")
    assert_error(client.post(URL, data="a=b", content_type="application/x-www-form-urlencoded"),
                 415, "tipo_no_soportado")
    assert _counts(db) == (0, 0, 0)


def test_signup_is_throttled_per_ip(client, db, plan):
    statuses = []
    for n in range(6):
        payload = _payload(plan.id)
        payload["empresa"]["nit"] = f"90123456{n}"
        payload["usuario"]["email"] = f"u{n}@example.com"
        statuses.append(client.post(URL, json=payload).status_code)
    assert statuses[:5] == [201] * 5
    response = client.post(URL, json=_payload(plan.id))
    body = assert_error(response, 429, "demasiadas_solicitudes")
    assert int(response.headers["Retry-After"]) >= 1 and body["message"]
    assert _counts(db) == (5, 5, 5)  # the throttled sign-up wrote nothing
    # Another IP is not affected.
    other = client.post(URL, json=_payload(plan.id), environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 201
    assert other.get_json()["empresa"]["nit"] == "901234567-8"
    assert _counts(db) == (6, 6, 6)
