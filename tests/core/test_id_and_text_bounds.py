"""Bounds every admin area shares (backend/core: the `int` URL converter, the `Id` schema
field, the TEXT limit): a path id beyond a database INT is 404, an out-of-range id in a query
filter or a body is 422, a free text longer than a TEXT column is 422; never a 500 (SQLite
overflows on integers above 64 bits; MariaDB refuses INT overflow and TEXT overflow in strict
mode), and nothing is written when they are refused."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.catalogo.models import Plan, PlanServicio
from backend.core.audit import Auditoria
from backend.empresas.models import Empresa
from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error

HUGE = 10**30
INT_OVERFLOW = 2**31  # one more than a MySQL INT holds


@pytest.fixture
def plan(make_plan):
    return make_plan(servicios={"Facturas": 3})


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
