"""/admin/planes, /admin/servicios, a plan's services and the plan–service summary."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.catalogo.models import Plan, PlanServicio, Servicio
from tests.conftest import assert_error

PLAN = {"nombre": "Pro", "descripcion": "Plan pro", "precio_mensual": 99.9,
        "precio_anual": 999, "seleccionado": True}


def _servicio(db, nombre, **values) -> Servicio:
    servicio = Servicio(nombre=nombre, **values)
    db.session.add(servicio)
    db.session.commit()
    return servicio


# ---------------------------------------------------------------- planes

def test_create_plan_and_audit(client, admin, admin_headers, db, audit_rows):
    response = client.post("/admin/planes", json=PLAN, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {"id": body["id"], "nombre": "Pro", "descripcion": "Plan pro",
                    "precio_mensual": 99.9, "precio_anual": 999.0, "seleccionado": True,
                    "activo": True, "servicios": [], "created_at": body["created_at"]}
    plan = db.session.get(Plan, body["id"])
    assert str(plan.precio_mensual) == "99.90"
    [row] = audit_rows("planes", plan.id)
    assert row.accion == "crear" and row.valores_nuevos["precio_mensual"] == 99.9
    assert row.usuario_id == admin.id


@pytest.mark.parametrize(("payload", "field"), [
    ({"nombre": "X", "precio_anual": 1}, "precio_mensual"),
    ({"nombre": "X", "precio_mensual": -1, "precio_anual": 1}, "precio_mensual"),
    ({"nombre": "X", "precio_mensual": 1.234, "precio_anual": 1}, "precio_mensual"),
    ({"nombre": "X", "precio_mensual": "diez", "precio_anual": 1}, "precio_mensual"),
    ({"precio_mensual": 1, "precio_anual": 1}, "nombre"),
    ({**PLAN, "servicios": []}, "servicios"),
])
def test_create_plan_invalid(client, admin_headers, db, payload, field):
    body = assert_error(client.post("/admin/planes", json=payload, headers=admin_headers),
                        422, "validacion")
    assert field in body["details"]
    assert db.session.query(Plan).count() == 0


def test_create_plan_duplicate_name(client, admin_headers, make_plan, db, audit_rows):
    existing = make_plan(nombre="Pro")
    body = assert_error(client.post("/admin/planes", json=PLAN, headers=admin_headers),
                        409, "conflicto")
    assert "nombre" in body["details"]
    db.session.expire_all()
    assert [p.id for p in db.session.scalars(select(Plan))] == [existing.id]
    assert db.session.get(Plan, existing.id).descripcion is None
    assert audit_rows("planes") == []


def test_list_plans_with_services_and_filters(client, admin_headers, make_plan):
    make_plan(nombre="Basico", servicios={"Facturas": 100, "Nomina": 5})
    make_plan(nombre="Viejo", activo=False)
    response = client.get("/admin/planes", headers=admin_headers)
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    basico = body["items"][0]
    assert [(s["nombre"], s["cantidad"]) for s in basico["servicios"]] == [
        ("Facturas", 100), ("Nomina", 5)]
    assert all(set(s) == {"id", "nombre", "cantidad"} for s in basico["servicios"])
    inactive = client.get("/admin/planes?activo=false", headers=admin_headers).get_json()
    assert [p["nombre"] for p in inactive["items"]] == ["Viejo"]
    found = client.get("/admin/planes?q=asi", headers=admin_headers).get_json()
    assert [p["nombre"] for p in found["items"]] == ["Basico"]


def test_get_update_plan(client, admin_headers, make_plan, audit_rows):
    plan = make_plan(nombre="Basico", servicios={"Facturas": 10})
    got = client.get(f"/admin/planes/{plan.id}", headers=admin_headers).get_json()
    assert got["servicios"][0]["cantidad"] == 10
    response = client.put(f"/admin/planes/{plan.id}", json={"precio_mensual": 120, "activo": False},
                          headers=admin_headers)
    assert response.status_code == 200
    assert (response.get_json()["precio_mensual"], response.get_json()["activo"]) == (120.0, False)
    assert response.get_json()["nombre"] == "Basico"
    [row] = audit_rows("planes", plan.id)
    assert row.valores_anteriores == {"precio_mensual": 100.0, "activo": True}
    assert row.valores_nuevos == {"precio_mensual": 120.0, "activo": False}
    assert_error(client.get("/admin/planes/9999", headers=admin_headers), 404, "no_encontrado")
    assert_error(client.put("/admin/planes/9999", json={"activo": False}, headers=admin_headers),
                 404, "no_encontrado")


def test_update_keeps_fields_not_sent(client, admin_headers, make_plan, db):
    plan = make_plan(nombre="Destacado", seleccionado=True, activo=False)
    response = client.put(f"/admin/planes/{plan.id}", json={"descripcion": "Nuevo"},
                          headers=admin_headers)
    assert response.status_code == 200
    db.session.expire_all()
    plan = db.session.get(Plan, plan.id)
    assert (plan.descripcion, plan.seleccionado, plan.activo) == ("Nuevo", True, False)


def test_update_plan_to_taken_name(client, admin_headers, make_plan, db, audit_rows):
    make_plan(nombre="A")
    plan = make_plan(nombre="B")
    assert_error(client.put(f"/admin/planes/{plan.id}", json={"nombre": "A"}, headers=admin_headers),
                 409, "conflicto")
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).nombre == "B"
    assert audit_rows("planes", plan.id) == []


def test_delete_plan_refused_while_subscribed(client, admin_headers, make_plan, empresa,
                                              make_suscripcion, db, audit_rows):
    usado = make_plan(nombre="Usado")
    make_suscripcion(empresa, usado, estado="cancelada")
    assert_error(client.delete(f"/admin/planes/{usado.id}", headers=admin_headers), 409, "conflicto")
    assert db.session.get(Plan, usado.id) is not None

    libre = make_plan(nombre="Libre", servicios={"Facturas": 3})
    response = client.delete(f"/admin/planes/{libre.id}", headers=admin_headers)
    assert response.status_code == 204
    db.session.expire_all()
    assert db.session.get(Plan, libre.id) is None
    assert db.session.scalars(select(PlanServicio).where(PlanServicio.plan_id == libre.id)).all() == []
    [row] = audit_rows("planes", libre.id)
    assert row.accion == "eliminar" and row.valores_anteriores["nombre"] == "Libre"
    assert row.valores_anteriores["servicios"][0]["cantidad"] == 3
    assert_error(client.delete("/admin/planes/9999", headers=admin_headers), 404, "no_encontrado")


# ---------------------------------------------------------------- servicios

def test_servicio_crud_toggle_and_audit(client, admin_headers, db, audit_rows):
    response = client.post("/admin/servicios", json={"nombre": "Facturas", "url_api": "/api/fe"},
                           headers=admin_headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body == {"id": body["id"], "nombre": "Facturas", "descripcion": None,
                    "url_api": "/api/fe", "activo": True, "created_at": body["created_at"]}
    sid = body["id"]
    assert client.get(f"/admin/servicios/{sid}", headers=admin_headers).get_json()["nombre"] == "Facturas"
    updated = client.put(f"/admin/servicios/{sid}", json={"descripcion": "FE"}, headers=admin_headers)
    assert updated.get_json()["descripcion"] == "FE"
    toggled = client.post(f"/admin/servicios/{sid}/toggle", headers=admin_headers)
    assert toggled.status_code == 200 and toggled.get_json()["activo"] is False
    assert db.session.get(Servicio, sid).activo is False
    rows = audit_rows("servicios", sid)
    assert [r.accion for r in rows] == ["crear", "actualizar", "actualizar"]
    assert (rows[2].valores_anteriores, rows[2].valores_nuevos) == ({"activo": True}, {"activo": False})

    listed = client.get("/admin/servicios?activo=false", headers=admin_headers).get_json()
    assert [s["id"] for s in listed["items"]] == [sid] and listed["total"] == 1
    assert client.get("/admin/servicios?activo=true", headers=admin_headers).get_json()["total"] == 0

    deleted = client.delete(f"/admin/servicios/{sid}", headers=admin_headers)
    assert deleted.status_code == 204
    assert db.session.get(Servicio, sid) is None
    assert audit_rows("servicios", sid)[-1].accion == "eliminar"


def test_servicio_refusals(client, admin_headers, db, make_plan, audit_rows):
    make_plan(nombre="P", servicios={"Facturas": 1})
    servicio = db.session.scalar(select(Servicio).where(Servicio.nombre == "Facturas"))
    assert_error(client.post("/admin/servicios", json={"nombre": "Facturas"}, headers=admin_headers),
                 409, "conflicto")
    assert db.session.query(Servicio).count() == 1
    assert_error(client.delete(f"/admin/servicios/{servicio.id}", headers=admin_headers),
                 409, "conflicto")
    assert db.session.get(Servicio, servicio.id) is not None
    body = assert_error(client.post("/admin/servicios", json={"url_api": "/x"},
                                    headers=admin_headers), 422, "validacion")
    assert "nombre" in body["details"]
    body = assert_error(client.put(f"/admin/servicios/{servicio.id}", json={"activo": "quizá"},
                                   headers=admin_headers), 422, "validacion")
    assert "activo" in body["details"]
    db.session.expire_all()
    assert db.session.get(Servicio, servicio.id).activo is True
    assert audit_rows("servicios") == []
    for call in (client.get, client.put, client.delete):
        assert_error(call("/admin/servicios/9999", json={}, headers=admin_headers), 404)
    assert_error(client.post("/admin/servicios/9999/toggle", headers=admin_headers), 404)


# ---------------------------------------------------------------- a plan's services

@pytest.fixture
def catalogo(db, make_plan):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10, "Nomina": 2})
    facturas, nomina = db.session.scalars(select(Servicio).order_by(Servicio.id)).all()
    inventario = _servicio(db, "Inventario")
    return plan, facturas, nomina, inventario


def _set(db, plan_id) -> dict:
    db.session.expire_all()
    return {ps.servicio_id: ps.cantidad
            for ps in db.session.scalars(select(PlanServicio).where(PlanServicio.plan_id == plan_id))}


def test_list_plan_services(client, admin_headers, catalogo):
    plan, facturas, nomina, _ = catalogo
    body = client.get(f"/admin/planes/{plan.id}/servicios", headers=admin_headers).get_json()
    assert body == {"items": [{"id": facturas.id, "nombre": "Facturas", "cantidad": 10},
                              {"id": nomina.id, "nombre": "Nomina", "cantidad": 2}],
                    "total": 2, "page": 1, "per_page": 20}
    assert_error(client.get("/admin/planes/9999/servicios", headers=admin_headers), 404)


def test_replace_plan_services_audits_each_change(client, admin_headers, db, catalogo, audit_rows):
    plan, facturas, nomina, inventario = catalogo
    payload = {"servicios": [{"servicio_id": facturas.id, "cantidad": 50},
                             {"servicio_id": inventario.id, "cantidad": 3}]}
    response = client.post(f"/admin/planes/{plan.id}/servicios", json=payload, headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert [(s["nombre"], s["cantidad"]) for s in response.get_json()["servicios"]] == [
        ("Facturas", 50), ("Inventario", 3)]
    assert _set(db, plan.id) == {facturas.id: 50, inventario.id: 3}
    rows = audit_rows("plan_servicios")
    by_record = {(r.registro_id, str(r.accion)): r for r in rows}
    assert len(rows) == 3
    changed = by_record[(f"{plan.id}:{facturas.id}", "actualizar")]
    assert (changed.valores_anteriores, changed.valores_nuevos) == ({"cantidad": 10}, {"cantidad": 50})
    removed = by_record[(f"{plan.id}:{nomina.id}", "eliminar")]
    assert removed.valores_anteriores["cantidad"] == 2 and removed.valores_nuevos is None
    added = by_record[(f"{plan.id}:{inventario.id}", "crear")]
    assert added.valores_nuevos == {"plan_id": plan.id, "servicio_id": inventario.id, "cantidad": 3}


def test_replace_with_legacy_ids_means_cantidad_one(client, admin_headers, db, catalogo):
    plan, facturas, _, inventario = catalogo
    response = client.post(f"/admin/planes/{plan.id}/servicios",
                           json={"servicio_ids": [inventario.id, facturas.id]}, headers=admin_headers)
    assert response.status_code == 200
    assert _set(db, plan.id) == {facturas.id: 1, inventario.id: 1}
    empty = client.post(f"/admin/planes/{plan.id}/servicios", json={"servicios": []},
                        headers=admin_headers)
    assert empty.get_json()["servicios"] == [] and _set(db, plan.id) == {}


@pytest.mark.parametrize(("payload", "field"), [
    ({}, "servicios"),
    ({"servicios": [], "servicio_ids": []}, "servicios"),
    ({"servicio_ids": [1, 1]}, "servicio_ids"),
    ({"servicios": [{"servicio_id": 1, "cantidad": 0}]}, "servicios"),
    ({"servicios": [{"cantidad": 2}]}, "servicios"),
    ({"servicios": "todos"}, "servicios"),
    ({"servicio_ids": [9999]}, "servicios"),
])
def test_replace_invalid(client, admin_headers, db, catalogo, payload, field):
    plan = catalogo[0]
    before = _set(db, plan.id)
    body = assert_error(client.post(f"/admin/planes/{plan.id}/servicios", json=payload,
                                    headers=admin_headers), 422, "validacion")
    assert field in body["details"]
    assert _set(db, plan.id) == before


def test_replace_unknown_plan(client, admin_headers):
    assert_error(client.post("/admin/planes/9999/servicios", json={"servicio_ids": []},
                             headers=admin_headers), 404, "no_encontrado")


def test_add_change_remove_one_service(client, admin_headers, db, catalogo, audit_rows):
    plan, _facturas, _, inventario = catalogo
    url = f"/admin/planes/{plan.id}/servicios/{inventario.id}"
    added = client.post(url, json={"cantidad": 7}, headers=admin_headers)
    assert added.status_code == 201
    assert added.get_json() == {"id": inventario.id, "nombre": "Inventario", "cantidad": 7}
    assert_error(client.post(url, json={"cantidad": 1}, headers=admin_headers), 409, "conflicto")
    changed = client.put(url, json={"cantidad": 9}, headers=admin_headers)
    assert changed.status_code == 200 and changed.get_json()["cantidad"] == 9
    assert _set(db, plan.id)[inventario.id] == 9
    removed = client.delete(url, headers=admin_headers)
    assert removed.status_code == 204 and inventario.id not in _set(db, plan.id)
    rows = audit_rows("plan_servicios", f"{plan.id}:{inventario.id}")
    assert [str(r.accion) for r in rows] == ["crear", "actualizar", "eliminar"]
    assert (rows[1].valores_anteriores, rows[1].valores_nuevos) == ({"cantidad": 7}, {"cantidad": 9})
    assert_error(client.put(url, json={"cantidad": 2}, headers=admin_headers), 404, "no_encontrado")
    assert_error(client.delete(url, headers=admin_headers), 404, "no_encontrado")


def test_one_service_refusals(client, admin_headers, catalogo):
    plan, facturas, _, _ = catalogo
    assert_error(client.post(f"/admin/planes/{plan.id}/servicios/9999", json={},
                             headers=admin_headers), 404, "no_encontrado")
    assert_error(client.post(f"/admin/planes/9999/servicios/{facturas.id}", json={},
                             headers=admin_headers), 404, "no_encontrado")
    body = assert_error(client.put(f"/admin/planes/{plan.id}/servicios/{facturas.id}",
                                   json={"cantidad": -1}, headers=admin_headers), 422, "validacion")
    assert "cantidad" in body["details"]
    assert_error(client.put(f"/admin/planes/{plan.id}/servicios/{facturas.id}",
                            data="cantidad=2", headers=admin_headers), 415, "tipo_no_soportado")


def test_resumen(client, admin_headers, db, catalogo, make_plan, empresa, make_empresa,
                 make_suscripcion):
    plan, facturas, nomina, _ = catalogo
    vacio = make_plan(nombre="Vacio")
    make_suscripcion(empresa, plan)
    make_suscripcion(make_empresa(), plan, estado="cancelada")
    body = client.get("/admin/planes-servicios/resumen", headers=admin_headers).get_json()
    assert (body["total"], body["page"], body["per_page"]) == (2, 1, 20)
    pro, empty = body["items"]
    assert pro == {"id": plan.id, "nombre": "Pro", "activo": True, "precio_mensual": 100.0,
                   "precio_anual": 1000.0,
                   "servicios": [{"id": facturas.id, "nombre": "Facturas", "cantidad": 10},
                                 {"id": nomina.id, "nombre": "Nomina", "cantidad": 2}],
                   "total_servicios": 2, "suscripciones_activas": 1, "suscripciones_total": 2}
    assert (empty["id"], empty["servicios"], empty["total_servicios"],
            empty["suscripciones_activas"], empty["suscripciones_total"]) == (vacio.id, [], 0, 0, 0)
    second = client.get("/admin/planes-servicios/resumen?per_page=1&page=2",
                        headers=admin_headers).get_json()
    assert [p["id"] for p in second["items"]] == [vacio.id] and second["total"] == 2
