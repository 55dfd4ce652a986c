"""Hostile numbers on the catalogue admin (/admin/planes and a plan's services): a quantity
beyond a database INT and a price beyond the money column are 422, never a 500, and nothing is
written; the largest values that fit are accepted and stored."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.catalogo.models import Plan, PlanServicio, Servicio
from tests.conftest import assert_error

HUGE = 10**30
INT_OVERFLOW = 2**31  # one more than a MySQL INT holds


@pytest.fixture
def plan(make_plan):
    return make_plan(servicios={"Facturas": 3})


@pytest.fixture
def servicio_id(plan):
    return plan.plan_servicios[0].servicio_id


@pytest.mark.parametrize("cantidad", [INT_OVERFLOW, 2**40, HUGE])
def test_cantidad_beyond_an_int_is_422(client, db, admin_headers, plan, servicio_id, cantidad):
    otro = Servicio(nombre="Nomina")
    db.session.add(otro)
    db.session.commit()
    cases = [
        ("POST", f"/admin/planes/{plan.id}/servicios",
         {"servicios": [{"servicio_id": servicio_id, "cantidad": cantidad}]}, "servicios"),
        ("PUT", f"/admin/planes/{plan.id}/servicios/{servicio_id}", {"cantidad": cantidad}, "cantidad"),
        ("POST", f"/admin/planes/{plan.id}/servicios/{otro.id}", {"cantidad": cantidad}, "cantidad"),
    ]
    for method, path, payload, field in cases:
        body = assert_error(client.open(path, method=method, json=payload, headers=admin_headers),
                            422, "validacion")
        assert field in body["details"], (path, body)
    db.session.expire_all()
    rows = db.session.execute(select(PlanServicio.servicio_id, PlanServicio.cantidad)).all()
    assert [tuple(r) for r in rows] == [(servicio_id, 3)]


def test_largest_cantidad_is_accepted(client, db, admin_headers, plan, servicio_id):
    response = client.put(f"/admin/planes/{plan.id}/servicios/{servicio_id}",
                          json={"cantidad": INT_OVERFLOW - 1}, headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["cantidad"] == INT_OVERFLOW - 1
    assert db.session.scalar(select(PlanServicio.cantidad).where(
        PlanServicio.plan_id == plan.id, PlanServicio.servicio_id == servicio_id)) == INT_OVERFLOW - 1


@pytest.mark.parametrize("precio", [1e30, "1e400", "1E+30", 10_000_000_000])
def test_huge_money_is_422(client, db, admin_headers, precio):
    response = client.post("/admin/planes", headers=admin_headers,
                           json={"nombre": "Enorme", "precio_mensual": precio, "precio_anual": 1})
    body = assert_error(response, 422, "validacion")
    assert list(body["details"]) == ["precio_mensual"]
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0


def test_largest_money_is_accepted(client, db, admin_headers):
    response = client.post("/admin/planes", headers=admin_headers,
                           json={"nombre": "Tope", "precio_mensual": 9999999999.99, "precio_anual": 0})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["precio_mensual"] == 9999999999.99
    plan = db.session.get(Plan, response.get_json()["id"])
    assert (plan.nombre, plan.precio_mensual, plan.precio_anual) == (
        "Tope", Decimal("9999999999.99"), Decimal("0"))
