"""Hostile input on the admin area: out-of-range ids, numbers and texts are 404/422, never a
500 (SQLite overflows on integers above 64 bits; MariaDB refuses INT overflow and TEXT
overflow in strict mode), and nothing is written when they are refused."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.catalogo.models import Plan, PlanServicio, Servicio

from backend.core.audit import Auditoria

from backend.empresas.models import Empresa

from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error

HUGE = 10**30
INT_OVERFLOW = 2**31  # one more than a MySQL INT holds


@pytest.fixture
def plan(make_plan):
    return make_plan(servicios={"Facturas": 3})


@pytest.fixture
def servicio_id(plan):
    return plan.plan_servicios[0].servicio_id


def _audit_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Auditoria))


@pytest.mark.parametrize("ident", [HUGE, 2**63, INT_OVERFLOW])
@pytest.mark.parametrize(("method", "template", "payload"), [
    ("GET", "/admin/empresas/{}", None), ("PUT", "/admin/empresas/{}", {"nombre": "X"}),
    ("DELETE", "/admin/empresas/{}", None), ("POST", "/admin/empresas/{}/activar", None),
    ("GET", "/admin/empresas/{}/api-keys", None), ("DELETE", "/admin/empresas/{empresa}/api-keys/{}", None),
    ("GET", "/admin/usuarios/{}", None), ("PUT", "/admin/usuarios/{}", {"nombre": "X"}),
    ("POST", "/admin/usuarios/{}/toggle-estado", None), ("DELETE", "/admin/usuarios/{}", None),
    ("GET", "/admin/planes/{}", None), ("DELETE", "/admin/planes/{}", None),
    ("GET", "/admin/planes/{}/servicios", None),
    ("PUT", "/admin/planes/{plan}/servicios/{}", {"cantidad": 2}),
    ("GET", "/admin/servicios/{}", None), ("POST", "/admin/servicios/{}/toggle", None),
    ("GET", "/admin/suscripciones/{}", None), ("POST", "/admin/suscripciones/{}/suspender", None),
    ("PATCH", "/account/subscriptions/{}", {"renovacion_automatica": True}),
])
def test_huge_path_ids_are_404(client, db, admin_headers, empresa, plan, method, template, payload,
                               ident):
    path = template.format(ident, empresa=empresa.id, plan=plan.id)
    response = client.open(path, method=method, headers=admin_headers, json=payload)
    assert_error(response, 404, "no_encontrado")
    assert _audit_count(db) == 0  # nothing was changed
    db.session.expire_all()
    assert (db.session.get(Empresa, empresa.id).nombre, db.session.get(Plan, plan.id).activo) == (
        "Acme SAS", True)
    assert [ps.cantidad for ps in db.session.scalars(select(PlanServicio))] == [3]


@pytest.mark.parametrize(("path", "field"), [
    ("/admin/usuarios?empresa_id={}", "empresa_id"),
    ("/admin/suscripciones?empresa_id={}", "empresa_id"),
    ("/admin/suscripciones?plan_id={}", "plan_id"),
    ("/admin/auditoria?usuario_id={}", "usuario_id"),
])
@pytest.mark.parametrize("value", [HUGE, INT_OVERFLOW, 0])
def test_out_of_range_id_filters_are_422(client, admin_headers, path, field, value):
    body = assert_error(client.get(path.format(value), headers=admin_headers), 422, "validacion")
    assert field in body["details"]


def test_out_of_range_ids_in_bodies_are_422(client, db, admin_headers, make_usuario, empresa, plan):
    usuario = make_usuario(email="otro@acme.com")
    before = _audit_count(db)
    cases = [
        ("POST", "/admin/usuarios", {"nombre": "X", "email": "x@acme.com", "password": "Secreta#123",
                                     "empresa_id": HUGE}, "empresa_id"),
        ("PUT", f"/admin/usuarios/{usuario.id}", {"empresa_id": HUGE}, "empresa_id"),
        ("POST", "/admin/suscripciones", {"empresa_id": HUGE, "plan_id": plan.id,
                                          "periodo": "mensual"}, "empresa_id"),
        ("POST", "/admin/suscripciones", {"empresa_id": empresa.id, "plan_id": INT_OVERFLOW,
                                          "periodo": "mensual"}, "plan_id"),
        ("POST", f"/admin/planes/{plan.id}/servicios", {"servicio_ids": [HUGE]}, "servicio_ids"),
        ("POST", f"/admin/planes/{plan.id}/servicios",
         {"servicios": [{"servicio_id": HUGE, "cantidad": 1}]}, "servicios"),
    ]
    for method, path, payload, field in cases:
        response = client.open(path, method=method, json=payload, headers=admin_headers)
        body = assert_error(response, 422, "validacion")
        assert field in body["details"], (path, body)
    assert _audit_count(db) == before
    assert db.session.scalar(select(func.count()).select_from(Suscripcion)) == 0


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


@pytest.mark.parametrize("nit", ["١٢٣٤٥٦٧٨٩", "９００１２３４５６", "90012345-٧"])
def test_nit_with_non_ascii_digits_is_422(client, db, admin_headers, nit):
    body = assert_error(client.post("/admin/empresas", json={"nit": nit, "nombre": "Rara"},
                                    headers=admin_headers), 422, "validacion")
    assert "nit" in body["details"]
    assert db.session.scalar(select(func.count()).select_from(Empresa)) == 0


def test_free_text_longer_than_a_text_column_is_422(client, db, admin_headers, empresa, plan):
    long_text = "ñ" * 10_001
    cases = [
        ("POST", "/admin/planes", {"nombre": "Largo", "precio_mensual": 1, "precio_anual": 1,
                                   "descripcion": long_text}, "descripcion"),
        ("PUT", f"/admin/planes/{plan.id}", {"descripcion": long_text}, "descripcion"),
        ("POST", "/admin/servicios", {"nombre": "Largo", "descripcion": long_text}, "descripcion"),
        ("POST", "/admin/suscripciones", {"empresa_id": empresa.id, "plan_id": plan.id,
                                          "periodo": "mensual", "notas": long_text}, "notas"),
    ]
    for method, path, payload, field in cases:
        body = assert_error(client.open(path, method=method, json=payload, headers=admin_headers),
                            422, "validacion")
        assert list(body["details"]) == [field], (path, body)
    assert db.session.scalar(select(func.count()).select_from(Suscripcion)) == 0


def test_free_text_at_the_limit_is_kept(client, db, admin_headers, empresa, plan):
    text = "ñ" * 10_000
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "mensual", "notas": text})
    assert response.status_code == 201, response.get_json()
    assert db.session.get(Suscripcion, response.get_json()["id"]).notas == text


@pytest.mark.parametrize("fecha", ["9999-12-31", "3000-01-01", "1899-12-31"])
def test_fecha_inicio_out_of_range_is_422(client, db, admin_headers, empresa, plan, fecha):
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "anual", "fecha_inicio": fecha})
    body = assert_error(response, 422, "validacion")
    assert list(body["details"]) == ["fecha_inicio"]
    assert db.session.scalar(select(func.count()).select_from(Suscripcion)) == 0


def test_fecha_inicio_at_the_upper_limit_is_accepted(client, db, admin_headers, empresa, plan):
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "anual", "fecha_inicio": "2999-12-31"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fecha_fin"] == "3000-12-30"
    row = db.session.get(Suscripcion, response.get_json()["id"])
    assert (row.fecha_inicio, row.fecha_fin) == (date(2999, 12, 31), date(3000, 12, 30))
