"""/admin/suscripciones: creation (dates, price snapshot, one active per company), the
lifecycle table, renewal dates, discount, lists; the audit rows of each change."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy.exc import IntegrityError

from backend.empresas.models import EstadoEmpresa
from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error


@pytest.fixture
def plan(make_plan):
    return make_plan(nombre="Pro", precio_mensual=Decimal("100.00"), precio_anual=Decimal("1000.00"),
                     servicios={"Facturas": 10})


def _crear(client, headers, **body):
    return client.post("/admin/suscripciones", json=body, headers=headers)


def _get(db, suscripcion_id) -> Suscripcion:
    db.session.expire_all()
    return db.session.get(Suscripcion, suscripcion_id)


# ---------------------------------------------------------------- creation

def test_create_monthly_with_discount(client, admin, admin_headers, empresa, plan, db, audit_rows):
    response = _crear(client, admin_headers, empresa_id=empresa.id, plan_id=plan.id,
                      periodo="mensual", fecha_inicio="2024-01-15", porcentaje_descuento=15,
                      notas="cliente piloto")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {
        "id": body["id"], "empresa_id": empresa.id, "plan_id": plan.id,
        "plan": {"id": plan.id, "nombre": "Pro"}, "periodo": "mensual",
        "fecha_inicio": "2024-01-15", "fecha_fin": "2024-02-14", "estado": "activa",
        "precio_pagado": 85.0, "porcentaje_descuento": 15.0, "renovacion_automatica": False,
        "motivo_cancelacion": None, "notas": "cliente piloto", "creado_por": admin.id,
        "created_at": body["created_at"],
    }
    suscripcion = _get(db, body["id"])
    assert suscripcion.empresa_activa_id == empresa.id
    assert suscripcion.precio_pagado == Decimal("85.00")
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.accion == "crear" and row.usuario_id == admin.id
    assert row.valores_nuevos["estado"] == "activa" and row.valores_nuevos["fecha_fin"] == "2024-02-14"


@pytest.mark.parametrize(("periodo", "inicio", "fin", "precio", "descuento"), [
    ("anual", "2024-01-15", "2025-01-14", 875.0, 12.5),
    ("anual", "2024-02-29", "2025-02-27", 1000.0, 0),
    ("mensual", "2024-01-31", "2024-02-28", 66.67, 33.33),
    ("mensual", "2024-12-01", "2024-12-31", 0.0, 100),
])
def test_create_dates_and_prices(client, admin_headers, empresa, plan, db, periodo, inicio, fin,
                                 precio, descuento):
    response = _crear(client, admin_headers, empresa_id=empresa.id, plan_id=plan.id, periodo=periodo,
                      fecha_inicio=inicio, porcentaje_descuento=descuento)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["fecha_inicio"], body["fecha_fin"], body["precio_pagado"]) == (inicio, fin, precio)
    row = _get(db, body["id"])
    assert (row.fecha_inicio.isoformat(), row.fecha_fin.isoformat(), row.precio_pagado) == (
        inicio, fin, Decimal(str(precio)).quantize(Decimal("0.01")))


def test_create_defaults_to_today(client, admin, auth_headers, empresa, plan):
    with time_machine.travel("2024-03-10 23:30:00+00:00", tick=False):
        body = _crear(client, auth_headers(admin), empresa_id=empresa.id, plan_id=plan.id,
                      periodo="mensual").get_json()
    assert (body["fecha_inicio"], body["fecha_fin"]) == ("2024-03-10", "2024-04-09")
    assert body["porcentaje_descuento"] == 0.0 and body["precio_pagado"] == 100.0


def test_second_active_subscription_is_409(client, admin_headers, empresa, plan, make_suscripcion,
                                           db):
    actual = make_suscripcion(empresa, plan)
    response = _crear(client, admin_headers, empresa_id=empresa.id, plan_id=plan.id,
                      periodo="mensual")
    body = assert_error(response, 409, "conflicto")
    assert str(actual.id) in body["message"]
    assert body["details"] == {"suscripcion_activa_id": actual.id}
    assert db.session.query(Suscripcion).count() == 1


def test_database_enforces_one_active_subscription(db, empresa, plan, make_suscripcion):
    make_suscripcion(empresa, plan)
    with pytest.raises(IntegrityError):
        make_suscripcion(empresa, plan)
    db.session.rollback()


def test_other_companies_and_inactive_ones_do_not_block(client, admin_headers, empresa, plan,
                                                        make_empresa, make_suscripcion, db):
    make_suscripcion(make_empresa(), plan)
    suspendida = make_suscripcion(empresa, plan, estado="suspendida")
    cancelada = make_suscripcion(empresa, plan, estado="cancelada")
    response = _crear(client, admin_headers, empresa_id=empresa.id, plan_id=plan.id,
                      periodo="anual")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["empresa_id"], body["estado"], body["periodo"]) == (empresa.id, "activa", "anual")
    created = _get(db, body["id"])
    assert created.empresa_activa_id == empresa.id and created.estado == "activa"
    assert db.session.query(Suscripcion).count() == 4
    assert (_get(db, suspendida.id).estado, _get(db, cancelada.id).estado) == (
        "suspendida", "cancelada")


def test_create_refusals(client, admin_headers, empresa, plan, make_empresa, make_plan, db):
    inactiva = make_empresa(estado=EstadoEmpresa.INACTIVA)
    body = assert_error(_crear(client, admin_headers, empresa_id=inactiva.id, plan_id=plan.id,
                               periodo="mensual"), 409, "conflicto")
    assert "inactiva" in body["message"]
    viejo = make_plan(activo=False)
    assert_error(_crear(client, admin_headers, empresa_id=empresa.id, plan_id=viejo.id,
                        periodo="mensual"), 409, "conflicto")
    body = assert_error(_crear(client, admin_headers, empresa_id=9999, plan_id=9998,
                               periodo="mensual"), 422, "validacion")
    assert set(body["details"]) == {"empresa_id", "plan_id"}
    for extra, field in (({"periodo": "semanal"}, "periodo"),
                         ({"periodo": "mensual", "porcentaje_descuento": 101}, "porcentaje_descuento"),
                         ({"periodo": "mensual", "porcentaje_descuento": -1}, "porcentaje_descuento"),
                         ({"periodo": "mensual", "estado": "activa"}, "estado"),
                         ({"periodo": "mensual", "precio_pagado": 1}, "precio_pagado"),
                         ({"periodo": "mensual", "fecha_fin": "2030-01-01"}, "fecha_fin"),
                         ({"periodo": "mensual", "fecha_inicio": "ayer"}, "fecha_inicio"),
                         ({}, "periodo")):
        body = assert_error(_crear(client, admin_headers, empresa_id=empresa.id, plan_id=plan.id,
                                   **extra), 422, "validacion")
        assert field in body["details"], (extra, body)
    assert db.session.query(Suscripcion).count() == 0


# ---------------------------------------------------------------- lifecycle

ACTIONS = {
    "renovar": None,
    "cancelar": {"motivo_cancelacion": "no paga"},
    "suspender": None,
    "reactivar": None,
    "descuento": {"porcentaje_descuento": 10},
}
# (state, action) -> state after, or 409 when refused.
TABLE = {
    ("activa", "renovar"): "activa", ("activa", "cancelar"): "cancelada",
    ("activa", "suspender"): "suspendida", ("activa", "reactivar"): 409,
    ("activa", "descuento"): "activa",
    ("inactiva", "renovar"): 409, ("inactiva", "cancelar"): "cancelada",
    ("inactiva", "suspender"): 409, ("inactiva", "reactivar"): "activa",
    ("inactiva", "descuento"): "inactiva",
    ("suspendida", "renovar"): 409, ("suspendida", "cancelar"): "cancelada",
    ("suspendida", "suspender"): 409, ("suspendida", "reactivar"): "activa",
    ("suspendida", "descuento"): "suspendida",
    ("cancelada", "renovar"): 409, ("cancelada", "cancelar"): 409,
    ("cancelada", "suspender"): 409, ("cancelada", "reactivar"): 409,
    ("cancelada", "descuento"): 409,
}


def test_the_table_covers_every_pair():
    estados = {"activa", "inactiva", "suspendida", "cancelada"}
    assert set(TABLE) == {(e, a) for e in estados for a in ACTIONS}


@pytest.mark.parametrize(("estado", "accion"), sorted(TABLE))
def test_lifecycle(client, admin, admin_headers, empresa, plan, make_suscripcion, db, audit_rows,
                   estado, accion):
    suscripcion = make_suscripcion(empresa, plan, estado=estado)
    response = client.post(f"/admin/suscripciones/{suscripcion.id}/{accion}",
                           json=ACTIONS[accion], headers=admin_headers)
    expected = TABLE[(estado, accion)]
    after = _get(db, suscripcion.id)
    rows = audit_rows("suscripciones", suscripcion.id)
    if expected == 409:
        body = assert_error(response, 409, "conflicto")
        assert estado in body["message"] and body["details"]["estado"] == estado
        assert after.estado == estado and rows == []
        return
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["estado"] == expected == after.estado
    assert after.empresa_activa_id == (empresa.id if expected == "activa" else None)
    [row] = rows
    assert row.accion == "actualizar" and row.usuario_id == admin.id
    if expected != estado:
        assert (row.valores_anteriores["estado"], row.valores_nuevos["estado"]) == (estado, expected)
    if accion == "cancelar":
        assert after.motivo_cancelacion == "no paga"
        assert row.valores_nuevos["motivo_cancelacion"] == "no paga"


@pytest.mark.parametrize("estado", ["suspendida", "inactiva"])
def test_reactivar_refused_when_another_is_active(client, admin_headers, empresa, plan,
                                                  make_suscripcion, db, estado):
    activa = make_suscripcion(empresa, plan)
    otra = make_suscripcion(empresa, plan, estado=estado)
    body = assert_error(client.post(f"/admin/suscripciones/{otra.id}/reactivar",
                                    headers=admin_headers), 409, "conflicto")
    assert str(activa.id) in body["message"]
    assert _get(db, otra.id).estado == estado


def test_reactivar_refused_for_inactive_company(client, admin_headers, empresa, plan,
                                                make_suscripcion, db):
    suscripcion = make_suscripcion(empresa, plan, estado="suspendida")
    empresa.estado = EstadoEmpresa.INACTIVA
    db.session.commit()
    body = assert_error(client.post(f"/admin/suscripciones/{suscripcion.id}/reactivar",
                                    headers=admin_headers), 409, "conflicto")
    assert "inactiva" in body["message"]
    assert _get(db, suscripcion.id).estado == "suspendida"


@pytest.mark.parametrize("accion", sorted(ACTIONS))
def test_actions_on_unknown_subscription(client, admin_headers, accion):
    assert_error(client.post(f"/admin/suscripciones/9999/{accion}", json=ACTIONS[accion],
                             headers=admin_headers), 404, "no_encontrado")


# ---------------------------------------------------------------- renewal and discount

def test_renovar_adds_one_period_after_fecha_fin(client, admin, auth_headers, empresa, plan,
                                                 make_suscripcion, db, audit_rows):
    suscripcion = make_suscripcion(empresa, plan, fecha_inicio=date(2024, 1, 1),
                                   fecha_fin=date(2024, 1, 31), porcentaje_descuento=Decimal("50"),
                                   precio_pagado=Decimal("1.00"))
    with time_machine.travel("2024-01-20 12:00:00+00:00", tick=False):
        body = client.post(f"/admin/suscripciones/{suscripcion.id}/renovar",
                           headers=auth_headers(admin)).get_json()
    assert (body["fecha_inicio"], body["fecha_fin"], body["precio_pagado"]) == (
        "2024-01-01", "2024-02-29", 50.0)
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.valores_anteriores == {"fecha_fin": "2024-01-31", "precio_pagado": 1.0}
    assert row.valores_nuevos == {"fecha_fin": "2024-02-29", "precio_pagado": 50.0}


def test_renovar_after_expiry_starts_today(client, admin, auth_headers, empresa, plan,
                                           make_suscripcion, db):
    suscripcion = make_suscripcion(empresa, plan, periodo="anual", fecha_inicio=date(2023, 1, 1),
                                   fecha_fin=date(2023, 12, 31))
    with time_machine.travel("2024-06-10 12:00:00+00:00", tick=False):
        body = client.post(f"/admin/suscripciones/{suscripcion.id}/renovar",
                           headers=auth_headers(admin)).get_json()
    assert (body["fecha_fin"], body["precio_pagado"]) == ("2025-06-09", 1000.0)
    row = _get(db, suscripcion.id)
    assert (row.fecha_fin, row.precio_pagado, row.estado) == (date(2025, 6, 9), Decimal("1000.00"),
                                                              "activa")


def test_descuento_recomputes_price(client, admin_headers, empresa, plan, make_suscripcion, db,
                                    audit_rows):
    suscripcion = make_suscripcion(empresa, plan, periodo="anual", precio_pagado=Decimal("1000"))
    response = client.post(f"/admin/suscripciones/{suscripcion.id}/descuento",
                           json={"porcentaje_descuento": 25.5}, headers=admin_headers)
    assert response.status_code == 200
    assert (response.get_json()["porcentaje_descuento"], response.get_json()["precio_pagado"]) == (
        25.5, 745.0)
    assert _get(db, suscripcion.id).precio_pagado == Decimal("745.00")
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.valores_anteriores == {"porcentaje_descuento": 0.0, "precio_pagado": 1000.0}
    assert row.valores_nuevos == {"porcentaje_descuento": 25.5, "precio_pagado": 745.0}
    for payload in ({}, {"porcentaje_descuento": 100.01}, {"porcentaje_descuento": "mucho"},
                    {"porcentaje_descuento": 5, "precio_pagado": 1}):
        body = assert_error(client.post(f"/admin/suscripciones/{suscripcion.id}/descuento",
                                        json=payload, headers=admin_headers), 422, "validacion")
        assert body["details"]
    after = _get(db, suscripcion.id)
    assert (after.porcentaje_descuento, after.precio_pagado) == (Decimal("25.5"), Decimal("745.00"))
    assert len(audit_rows("suscripciones", suscripcion.id)) == 1


def test_cancelar_refuses_unknown_fields(client, admin_headers, empresa, plan, make_suscripcion, db):
    suscripcion = make_suscripcion(empresa, plan)
    body = assert_error(client.post(f"/admin/suscripciones/{suscripcion.id}/cancelar",
                                    json={"motivo": "x"}, headers=admin_headers), 422, "validacion")
    assert "motivo" in body["details"]
    assert _get(db, suscripcion.id).estado == "activa"


# ---------------------------------------------------------------- reading

def test_list_filters_and_pages(client, admin_headers, empresa, plan, make_empresa, make_plan,
                                make_suscripcion):
    otra_empresa, otro_plan = make_empresa(), make_plan(nombre="Basico")
    a = make_suscripcion(empresa, plan)
    b = make_suscripcion(empresa, otro_plan, estado="cancelada")
    c = make_suscripcion(otra_empresa, otro_plan, estado="suspendida")

    def ids(query):
        response = client.get(f"/admin/suscripciones{query}", headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        return [s["id"] for s in response.get_json()["items"]]

    assert ids("") == [a.id, b.id, c.id]
    assert ids(f"?empresa_id={empresa.id}") == [a.id, b.id]
    assert ids("?estado=suspendida") == [c.id]
    assert ids(f"?plan_id={otro_plan.id}&estado=cancelada") == [b.id]
    page = client.get("/admin/suscripciones?per_page=2&page=2", headers=admin_headers).get_json()
    assert (page["total"], page["page"], page["per_page"], [s["id"] for s in page["items"]]) == (
        3, 2, 2, [c.id])
    assert page["items"][0]["plan"] == {"id": otro_plan.id, "nombre": "Basico"}
    assert_error(client.get("/admin/suscripciones?estado=vencida", headers=admin_headers), 422)


def test_get_one(client, admin_headers, empresa, plan, make_suscripcion):
    suscripcion = make_suscripcion(empresa, plan)
    body = client.get(f"/admin/suscripciones/{suscripcion.id}", headers=admin_headers).get_json()
    assert body["id"] == suscripcion.id and body["plan"] == {"id": plan.id, "nombre": "Pro"}
    assert_error(client.get("/admin/suscripciones/9999", headers=admin_headers), 404, "no_encontrado")
