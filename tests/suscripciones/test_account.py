"""/account/subscriptions (and the /account/suscripciones alias): the signed-in user's
company only, each with its plan and the plan's services."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error


@pytest.fixture
def mias(empresa, make_plan, make_suscripcion):
    plan = make_plan(nombre="Pro", descripcion="Todo", servicios={"Facturas": 10, "Nomina": 2})
    vieja = make_suscripcion(empresa, plan, estado="cancelada",
                             fecha_inicio=date.today() - timedelta(days=400),
                             fecha_fin=date.today() - timedelta(days=35))
    actual = make_suscripcion(empresa, plan)
    return plan, vieja, actual


@pytest.mark.parametrize("path", ["/account/subscriptions", "/account/suscripciones"])
def test_lists_only_my_company(client, cliente_headers, mias, make_empresa, make_plan,
                               make_suscripcion, path):
    plan, vieja, actual = mias
    make_suscripcion(make_empresa(), make_plan(nombre="Ajeno"))
    response = client.get(path, headers=cliente_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    assert [s["id"] for s in body["items"]] == [actual.id, vieja.id]
    first = body["items"][0]
    assert first["estado"] == "activa" and first["plan_id"] == plan.id
    assert first["plan"]["id"] == plan.id and first["plan"]["nombre"] == "Pro"
    assert first["plan"]["descripcion"] == "Todo"
    assert [(s["nombre"], s["cantidad"]) for s in first["plan"]["servicios"]] == [
        ("Facturas", 10), ("Nomina", 2)]


def test_user_without_company_sees_none(client, admin_headers, mias):
    body = client.get("/account/subscriptions", headers=admin_headers).get_json()
    assert body == {"items": [], "total": 0, "page": 1, "per_page": 20}


def test_pages(client, cliente_headers, mias):
    body = client.get("/account/subscriptions?per_page=1&page=2", headers=cliente_headers).get_json()
    assert [s["id"] for s in body["items"]] == [mias[1].id] and body["total"] == 2
    assert_error(client.get("/account/subscriptions?page=0", headers=cliente_headers), 422)


def test_patch_renovacion_automatica(client, cliente, cliente_headers, mias, db, audit_rows):
    actual = mias[2]
    response = client.patch(f"/account/subscriptions/{actual.id}",
                            json={"renovacion_automatica": True}, headers=cliente_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == actual.id and body["renovacion_automatica"] is True
    assert [s["nombre"] for s in body["plan"]["servicios"]] == ["Facturas", "Nomina"]
    db.session.expire_all()
    assert db.session.get(Suscripcion, actual.id).renovacion_automatica is True
    [row] = audit_rows("suscripciones", actual.id)
    assert row.usuario_id == cliente.id
    assert (row.valores_anteriores, row.valores_nuevos) == (
        {"renovacion_automatica": False}, {"renovacion_automatica": True})


def test_patch_refusals(client, cliente_headers, admin_headers, mias, make_empresa, make_plan,
                        make_suscripcion, db, audit_rows):
    ajena = make_suscripcion(make_empresa(), make_plan(nombre="Ajeno"))
    assert_error(client.patch(f"/account/subscriptions/{ajena.id}",
                              json={"renovacion_automatica": True}, headers=cliente_headers),
                 404, "no_encontrado")
    assert_error(client.patch(f"/account/subscriptions/{ajena.id}",
                              json={"renovacion_automatica": True}, headers=admin_headers),
                 404, "no_encontrado")
    db.session.expire_all()
    assert db.session.get(Suscripcion, ajena.id).renovacion_automatica is False
    assert_error(client.patch("/account/subscriptions/9999", json={"renovacion_automatica": True},
                              headers=cliente_headers), 404, "no_encontrado")
    actual = mias[2]
    for payload, field in (({}, "renovacion_automatica"),
                           ({"renovacion_automatica": "tal vez"}, "renovacion_automatica"),
                           ({"renovacion_automatica": True, "estado": "activa"}, "estado")):
        body = assert_error(client.patch(f"/account/subscriptions/{actual.id}", json=payload,
                                         headers=cliente_headers), 422, "validacion")
        assert field in body["details"]
    assert_error(client.patch(f"/account/subscriptions/{actual.id}", data="{",
                              content_type="application/json", headers=cliente_headers), 400)
    assert_error(client.patch(f"/account/subscriptions/{actual.id}", data="x=1",
                              content_type="text/plain", headers=cliente_headers), 415)
    assert_error(client.patch(f"/account/subscriptions/{mias[1].id}",
                              json={"renovacion_automatica": True}, headers=cliente_headers),
                 409, "conflicto")
    db.session.expire_all()
    assert [s.renovacion_automatica for s in db.session.query(Suscripcion)] == [False] * 3
    assert audit_rows("suscripciones") == []
