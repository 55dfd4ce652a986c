"""/admin/soporte-suscripciones: list (filters; `vencido` as read today), one, create (defaults,
price snapshot, references checked, one in force per company), update (dates in order),
renew (new period, counters at zero, price taken again), cancel, delete; who may call them;
the body, the rows and the audit trail after every answer."""
from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from backend.soporte.models import (
    EstadoPago,
    EstadoSoporte,
    Modalidad,
    SoportePago,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTipo,
)
from tests.concurrency import run_concurrently
from tests.conftest import assert_error, persist

URL = "/admin/soporte-suscripciones"
HOY = date.today()
AYER = HOY - timedelta(days=1)


def _get(db, soporte_id) -> SoporteSuscripcion | None:
    db.session.expire_all()
    return db.session.get(SoporteSuscripcion, soporte_id)


def _count(db) -> int:
    db.session.expire_all()
    return db.session.query(SoporteSuscripcion).count()


def _snapshot(db, soporte_id) -> dict:
    soporte = _get(db, soporte_id)
    return {c.key: getattr(soporte, c.key) for c in SoporteSuscripcion.__mapper__.column_attrs}


def _fin(inicio: date, anual: bool = False) -> date:
    return inicio + relativedelta(years=1 if anual else 0, months=0 if anual else 1) - timedelta(days=1)


def _dump(soporte: SoporteSuscripcion, estado: str | None = None) -> dict:
    return {
        "id": soporte.id, "empresa_id": soporte.empresa_id, "suscripcion_id": soporte.suscripcion_id,
        "soporte_tipo_id": soporte.soporte_tipo_id, "fecha_inicio": soporte.fecha_inicio.isoformat(),
        "fecha_fin": soporte.fecha_fin.isoformat(), "estado": estado or soporte.estado.value,
        "precio_actual": float(soporte.precio_actual), "tickets_consumidos": soporte.tickets_consumidos,
        "horas_consumidas": float(soporte.horas_consumidas), "notas": soporte.notas,
        "creado_por": soporte.creado_por,
        "created_at": soporte.created_at.replace(microsecond=0).isoformat() + "Z",
    }


@pytest.fixture
def staff_headers(request, admin_headers, soporte_headers):
    return admin_headers if request.param == "admin" else soporte_headers


STAFF = pytest.mark.parametrize("staff_headers", ["admin", "soporte"], indirect=True)


@pytest.fixture
def tipo(make_tipo):
    return make_tipo(Modalidad.POR_TICKETS, nombre="Tickets", precio=Decimal("120.00"), max_tickets=5)


@pytest.fixture
def cuerpo(empresa, suscripcion_vigente, tipo):
    return {"empresa_id": empresa.id, "suscripcion_id": suscripcion_vigente.id,
            "soporte_tipo_id": tipo.id}


@pytest.fixture
def make_pago(db):
    def factory(soporte, estado=EstadoPago.EXITOSO, **values) -> SoportePago:
        values.setdefault("monto", soporte.precio_actual)
        return persist(db, SoportePago(soporte_suscripcion_id=soporte.id, estado=estado, **values))

    return factory


@pytest.fixture
def vencida(suscripcion_vigente, tipo, make_soporte):
    """`activo` in the database, but its period ended yesterday: it reads `vencido`."""
    return make_soporte(suscripcion_vigente, tipo, fecha_inicio=HOY - timedelta(days=31),
                        fecha_fin=AYER, tickets_consumidos=4, horas_consumidas=Decimal("2.50"))


# ---------------------------------------------------------------- who may call

@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", URL, None),
    ("get", URL + "/{id}", None),
    ("post", URL, "cuerpo"),
    ("put", URL + "/{id}", {"notas": "x"}),
    ("post", URL + "/{id}/renovar", None),
    ("post", URL + "/{id}/cancelar", None),
    ("delete", URL + "/{id}", None),
])
def test_anonymous_401_and_cliente_403(client, db, soporte_activo, cuerpo, cliente_headers,
                                       audit_rows, method, path, body):
    before = _snapshot(db, soporte_activo.id)
    url = path.format(id=soporte_activo.id)
    payload = cuerpo if body == "cuerpo" else body
    call = getattr(client, method)
    assert_error(call(url, json=payload), 401, "no_autenticado")
    assert_error(call(url, json=payload, headers=cliente_headers), 403, "prohibido")
    assert _count(db) == 1 and _snapshot(db, soporte_activo.id) == before
    assert audit_rows("soporte_suscripciones") == []


@pytest.mark.parametrize(("method", "path"), [
    ("get", URL + "/{id}"), ("put", URL + "/{id}"), ("post", URL + "/{id}/renovar"),
    ("post", URL + "/{id}/cancelar"), ("delete", URL + "/{id}"),
])
def test_unknown_id_is_404(client, db, admin_headers, soporte_activo, method, path):
    before = _snapshot(db, soporte_activo.id)
    response = getattr(client, method)(path.format(id=soporte_activo.id + 1), json={},
                                       headers=admin_headers)
    assert_error(response, 404, "no_encontrado")
    assert _snapshot(db, soporte_activo.id) == before


# ---------------------------------------------------------------- list and one

@STAFF
def test_list_filters_and_state_as_read_today(client, staff_headers, make_empresa, make_plan,
                                              make_suscripcion, make_tipo, make_soporte,
                                              suscripcion_vigente, tipo):
    otro_tipo = make_tipo(Modalidad.MENSUAL)
    otra = make_empresa()
    plan_otra = make_suscripcion(otra, make_plan())
    cancelada = make_soporte(suscripcion_vigente, tipo, estado=EstadoSoporte.CANCELADO)
    vencida = make_soporte(suscripcion_vigente, tipo, fecha_inicio=HOY - timedelta(days=40),
                           fecha_fin=AYER)
    activa = make_soporte(suscripcion_vigente, otro_tipo, fecha_fin=HOY)  # its last day
    pendiente = make_soporte(plan_otra, tipo, estado=EstadoSoporte.PENDIENTE_PAGO)
    futura = make_soporte(plan_otra, otro_tipo, fecha_inicio=HOY + timedelta(days=5),
                          fecha_fin=HOY + timedelta(days=35))

    def ids(**query):
        response = client.get(URL, query_string=query, headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "total", "page", "per_page"}
        assert body["total"] == len(body["items"])
        return [item["id"] for item in body["items"]]

    todas = client.get(URL, headers=staff_headers).get_json()
    assert todas["total"] == 5 and (todas["page"], todas["per_page"]) == (1, 20)
    assert todas["items"] == [_dump(futura), _dump(pendiente), _dump(activa),
                              _dump(vencida, "vencido"), _dump(cancelada)]
    assert ids(estado="vencido") == [vencida.id]
    assert ids(estado="activo") == [futura.id, activa.id]
    assert ids(estado="cancelado") == [cancelada.id]
    assert ids(estado="pendiente_pago") == [pendiente.id]
    assert ids(empresa_id=otra.id) == [futura.id, pendiente.id]
    assert ids(soporte_tipo_id=otro_tipo.id) == [futura.id, activa.id]
    assert ids(empresa_id=suscripcion_vigente.empresa_id, soporte_tipo_id=tipo.id) == [
        vencida.id, cancelada.id]
    assert ids(empresa_id=suscripcion_vigente.empresa_id, estado="activo") == [activa.id]
    assert ids(empresa_id=otra.id + 100) == []
    page = client.get(URL, query_string={"page": 2, "per_page": 2}, headers=staff_headers).get_json()
    assert isinstance(page.pop("next_cursor"), str)  # a middle page (core.pagination)
    assert page == {"items": [_dump(activa), _dump(vencida, "vencido")], "total": 5, "page": 2,
                    "per_page": 2}


@pytest.mark.parametrize(("query", "field"), [
    ({"estado": "suspendido"}, "estado"), ({"empresa_id": "x"}, "empresa_id"),
    ({"empresa_id": 0}, "empresa_id"), ({"soporte_tipo_id": -1}, "soporte_tipo_id"),
    ({"per_page": 0}, "per_page"),
])
def test_list_bad_filters_are_422(client, admin_headers, query, field):
    body = assert_error(client.get(URL, query_string=query, headers=admin_headers), 422, "validacion")
    assert field in body["details"]


@STAFF
def test_get_one(client, staff_headers, soporte_activo, vencida):
    response = client.get(f"{URL}/{soporte_activo.id}", headers=staff_headers)
    assert response.status_code == 200
    assert response.get_json() == _dump(soporte_activo)
    response = client.get(f"{URL}/{vencida.id}", headers=staff_headers)
    assert response.get_json() == _dump(vencida, "vencido")
    assert response.get_json()["tickets_consumidos"] == 4
    assert response.get_json()["horas_consumidas"] == 2.5


# ---------------------------------------------------------------- create

@STAFF
def test_create_with_defaults(client, db, staff_headers, cuerpo, tipo, audit_rows):
    response = client.post(URL, json=cuerpo, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    soporte = _get(db, body["id"])
    assert body == _dump(soporte)
    assert (body["fecha_inicio"], body["fecha_fin"]) == (HOY.isoformat(), _fin(HOY).isoformat())
    assert (body["estado"], body["precio_actual"], body["tickets_consumidos"],
            body["horas_consumidas"], body["notas"]) == ("activo", 120.0, 0, 0.0, None)
    assert (soporte.estado, soporte.precio_actual, soporte.empresa_id, soporte.soporte_tipo_id) == (
        EstadoSoporte.ACTIVO, Decimal("120.00"), cuerpo["empresa_id"], tipo.id)
    assert soporte.creado_por is not None and body["creado_por"] == soporte.creado_por
    [row] = audit_rows("soporte_suscripciones", soporte.id)
    assert row.accion == "crear" and row.usuario_id == soporte.creado_por
    assert row.valores_nuevos["estado"] == "activo"
    assert row.valores_nuevos["precio_actual"] == 120.0


@pytest.mark.parametrize(("modalidad", "anual"), [
    (Modalidad.MENSUAL, False), (Modalidad.ANUAL, True), (Modalidad.POR_TICKETS, False),
    (Modalidad.POR_HORAS, False),
])
def test_default_period_by_modality(client, db, admin, auth_headers, empresa, suscripcion_vigente,
                                    make_tipo, modalidad, anual):
    tipo = make_tipo(modalidad, precio=Decimal("33.30"))
    with time_machine.travel("2024-01-31 23:30:00+00:00", tick=False):
        response = client.post(URL, json={"empresa_id": empresa.id,
                                          "suscripcion_id": suscripcion_vigente.id,
                                          "soporte_tipo_id": tipo.id}, headers=auth_headers(admin))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    esperado = "2025-01-30" if anual else "2024-02-28"
    assert (body["fecha_inicio"], body["fecha_fin"]) == ("2024-01-31", esperado)
    soporte = _get(db, body["id"])
    assert (soporte.fecha_inicio, soporte.fecha_fin.isoformat()) == (date(2024, 1, 31), esperado)
    assert soporte.precio_actual == Decimal("33.30")


def test_create_explicit_dates_pending_payment_and_notes(client, db, admin, admin_headers, cuerpo,
                                                         make_tipo, audit_rows):
    anual = make_tipo(Modalidad.ANUAL)
    inicio = HOY + timedelta(days=3)
    response = client.post(URL, json={**cuerpo, "soporte_tipo_id": anual.id,
                                      "fecha_inicio": inicio.isoformat(),
                                      "estado": "pendiente_pago", "notas": "Espera transferencia"},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["fecha_inicio"], body["fecha_fin"], body["estado"], body["notas"],
            body["creado_por"]) == (inicio.isoformat(), _fin(inicio, anual=True).isoformat(),
                                    "pendiente_pago", "Espera transferencia", admin.id)
    assert _get(db, body["id"]).estado == EstadoSoporte.PENDIENTE_PAGO
    [row] = audit_rows("soporte_suscripciones", body["id"])
    assert row.valores_nuevos["estado"] == "pendiente_pago"


def test_create_with_both_dates(client, db, admin_headers, cuerpo):
    response = client.post(URL, json={**cuerpo, "fecha_inicio": "2030-05-01",
                                      "fecha_fin": "2030-05-01"}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    soporte = _get(db, response.get_json()["id"])
    assert (soporte.fecha_inicio, soporte.fecha_fin) == (date(2030, 5, 1), date(2030, 5, 1))


def test_created_past_its_end_reads_vencido(client, db, admin_headers, cuerpo):
    response = client.post(URL, json={**cuerpo, "fecha_inicio": (HOY - timedelta(days=60)).isoformat(),
                                      "fecha_fin": (HOY - timedelta(days=30)).isoformat()},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["estado"] == "vencido"
    assert _get(db, response.get_json()["id"]).estado == EstadoSoporte.ACTIVO


@pytest.mark.parametrize("estado", ["vencido", "cancelado"])
def test_create_in_a_final_state_is_422(client, db, admin_headers, cuerpo, audit_rows, estado):
    body = assert_error(client.post(URL, json={**cuerpo, "estado": estado}, headers=admin_headers),
                        422, "validacion")
    assert "estado" in body["details"]
    assert _count(db) == 0 and audit_rows("soporte_suscripciones") == []


@pytest.mark.parametrize(("cambios", "fields"), [
    ({"empresa_id": 999_999}, {"empresa_id"}),
    ({"suscripcion_id": 999_999}, {"suscripcion_id"}),
    ({"soporte_tipo_id": 999_999}, {"soporte_tipo_id"}),
    ({"empresa_id": 999_999, "suscripcion_id": 999_998, "soporte_tipo_id": 999_997},
     {"empresa_id", "suscripcion_id", "soporte_tipo_id"}),
])
def test_create_unknown_references_are_422(client, db, admin_headers, cuerpo, audit_rows, cambios,
                                           fields):
    body = assert_error(client.post(URL, json={**cuerpo, **cambios}, headers=admin_headers),
                        422, "validacion")
    assert set(body["details"]) == fields
    assert _count(db) == 0 and audit_rows("soporte_suscripciones") == []


def test_create_with_another_companys_plan_subscription_is_422(client, db, admin_headers, cuerpo,
                                                               make_empresa, make_plan,
                                                               make_suscripcion):
    ajena = make_suscripcion(make_empresa(), make_plan())
    body = assert_error(client.post(URL, json={**cuerpo, "suscripcion_id": ajena.id},
                                    headers=admin_headers), 422, "validacion")
    assert set(body["details"]) == {"suscripcion_id"}
    assert _count(db) == 0


def test_create_with_an_inactive_type_is_422(client, db, admin_headers, cuerpo, make_tipo):
    inactivo = make_tipo(Modalidad.MENSUAL, activo=False)
    body = assert_error(client.post(URL, json={**cuerpo, "soporte_tipo_id": inactivo.id},
                                    headers=admin_headers), 422, "validacion")
    assert set(body["details"]) == {"soporte_tipo_id"}
    assert _count(db) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"suscripcion_id": 1, "soporte_tipo_id": 1}, "empresa_id"),
    ({"empresa_id": 1, "soporte_tipo_id": 1}, "suscripcion_id"),
    ({"empresa_id": 1, "suscripcion_id": 1}, "soporte_tipo_id"),
])
def test_create_missing_fields_are_422(client, db, admin_headers, body, field):
    answer = assert_error(client.post(URL, json=body, headers=admin_headers), 422, "validacion")
    assert field in answer["details"]
    assert _count(db) == 0


@pytest.mark.parametrize(("cambios", "field"), [
    ({"fecha_inicio": "2024-13-01"}, "fecha_inicio"),
    ({"fecha_fin": "mañana"}, "fecha_fin"),
    ({"fecha_inicio": "2030-02-10", "fecha_fin": "2030-02-09"}, "fecha_fin"),
    ({"fecha_fin": (HOY - timedelta(days=1)).isoformat()}, "fecha_fin"),
    ({"fecha_inicio": None}, "fecha_inicio"),
    ({"fecha_inicio": "1800-01-01"}, "fecha_inicio"),
    ({"estado": "suspendido"}, "estado"),
    ({"estado": None}, "estado"),
    ({"empresa_id": "uno"}, "empresa_id"),
    ({"empresa_id": 0}, "empresa_id"),
    ({"soporte_tipo_id": 2**31}, "soporte_tipo_id"),
    ({"notas": 5}, "notas"),
    ({"precio_actual": 1}, "precio_actual"),
    ({"tickets_consumidos": 0}, "tickets_consumidos"),
    ({"horas_consumidas": 0}, "horas_consumidas"),
    ({"creado_por": 1}, "creado_por"),
    ({"id": 1}, "id"),
    ({"inventado": True}, "inventado"),
])
def test_create_bad_values_and_unknown_fields_are_422(client, db, admin_headers, cuerpo, audit_rows,
                                                       cambios, field):
    body = assert_error(client.post(URL, json={**cuerpo, **cambios}, headers=admin_headers),
                        422, "validacion")
    assert field in body["details"], body
    assert _count(db) == 0 and audit_rows("soporte_suscripciones") == []


def test_create_malformed_body_is_400(client, db, admin_headers):
    assert_error(client.post(URL, data='{"empresa_id": 1,', content_type="application/json",
                             headers=admin_headers), 400, "solicitud_invalida")
    assert _count(db) == 0


@pytest.mark.parametrize("estado", [EstadoSoporte.ACTIVO, EstadoSoporte.PENDIENTE_PAGO])
def test_a_second_one_in_force_is_409(client, db, admin_headers, cuerpo, suscripcion_vigente,
                                      make_tipo, make_soporte, audit_rows, estado):
    vigente = make_soporte(suscripcion_vigente, make_tipo(Modalidad.MENSUAL), estado=estado)
    body = assert_error(client.post(URL, json=cuerpo, headers=admin_headers), 409, "conflicto")
    assert body["details"] == {"soporte_suscripcion_id": vigente.id}
    assert _count(db) == 1 and audit_rows("soporte_suscripciones") == []


def test_one_starting_later_is_in_force_too(client, db, admin_headers, cuerpo, suscripcion_vigente,
                                           tipo, make_soporte):
    futura = make_soporte(suscripcion_vigente, tipo, fecha_inicio=HOY + timedelta(days=10),
                          fecha_fin=HOY + timedelta(days=40))
    body = assert_error(client.post(URL, json=cuerpo, headers=admin_headers), 409, "conflicto")
    assert body["details"] == {"soporte_suscripcion_id": futura.id}
    assert _count(db) == 1


def test_cancelled_expired_and_other_companies_do_not_block(client, db, admin_headers, cuerpo,
                                                            suscripcion_vigente, tipo, make_soporte,
                                                            vencida, make_empresa, make_plan,
                                                            make_suscripcion):
    make_soporte(suscripcion_vigente, tipo, estado=EstadoSoporte.CANCELADO)
    make_soporte(make_suscripcion(make_empresa(), make_plan()), tipo)
    response = client.post(URL, json=cuerpo, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert _count(db) == 4
    assert _get(db, vencida.id).estado == EstadoSoporte.ACTIVO  # untouched


def test_sold_price_is_a_snapshot(client, db, admin_headers, cuerpo, tipo):
    soporte_id = client.post(URL, json=cuerpo, headers=admin_headers).get_json()["id"]
    response = client.put(f"/admin/soporte-tipos/{tipo.id}", json={"precio": 999},
                          headers=admin_headers)
    assert response.status_code == 200
    assert _get(db, soporte_id).precio_actual == Decimal("120.00")
    assert client.get(f"{URL}/{soporte_id}", headers=admin_headers).get_json()["precio_actual"] == 120.0


# ---------------------------------------------------------------- update

@STAFF
def test_update_dates_and_notes(client, db, staff_headers, soporte_activo, audit_rows):
    nuevo_fin = HOY + timedelta(days=60)
    response = client.put(f"{URL}/{soporte_activo.id}",
                          json={"fecha_fin": nuevo_fin.isoformat(), "notas": "Ampliada"},
                          headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, soporte_activo.id)
    assert response.get_json() == _dump(stored)
    assert (stored.fecha_inicio, stored.fecha_fin, stored.notas) == (AYER, nuevo_fin, "Ampliada")
    [row] = audit_rows("soporte_suscripciones", soporte_activo.id)
    assert row.accion == "actualizar"
    assert row.valores_anteriores == {"fecha_fin": (HOY + timedelta(days=29)).isoformat(),
                                      "notas": None}
    assert row.valores_nuevos == {"fecha_fin": nuevo_fin.isoformat(), "notas": "Ampliada"}


def test_update_an_expired_one_reads_vencido(client, db, admin_headers, vencida):
    response = client.put(f"{URL}/{vencida.id}", json={"notas": "Llamar"}, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == _dump(_get(db, vencida.id), "vencido")
    assert _get(db, vencida.id).notas == "Llamar"


def test_update_can_bring_an_expired_one_back_into_force(client, db, admin_headers, vencida):
    fin = HOY + timedelta(days=5)
    response = client.put(f"{URL}/{vencida.id}", json={"fecha_fin": fin.isoformat()},
                          headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["estado"] == "activo" and _get(db, vencida.id).fecha_fin == fin


def test_update_may_not_make_a_second_one_in_force(client, db, admin_headers, vencida,
                                                   suscripcion_vigente, make_tipo, make_soporte,
                                                   audit_rows):
    """At most one in force per company: extending an expired one over a live one is 409."""
    vigente = make_soporte(suscripcion_vigente, make_tipo(Modalidad.MENSUAL))
    before = _snapshot(db, vencida.id)
    body = assert_error(client.put(f"{URL}/{vencida.id}",
                                   json={"fecha_fin": (HOY + timedelta(days=5)).isoformat()},
                                   headers=admin_headers), 409, "conflicto")
    assert body["details"] == {"soporte_suscripcion_id": vigente.id}
    assert _snapshot(db, vencida.id) == before
    assert audit_rows("soporte_suscripciones") == []
    # Changing only the notes of the expired one stays allowed.
    assert client.put(f"{URL}/{vencida.id}", json={"notas": "x"},
                      headers=admin_headers).status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"fecha_fin": (AYER - timedelta(days=1)).isoformat()}, "fecha_fin"),
    ({"fecha_inicio": (HOY + timedelta(days=30)).isoformat()}, "fecha_fin"),
    ({"fecha_inicio": "2031-01-02", "fecha_fin": "2031-01-01"}, "fecha_fin"),
    ({"fecha_fin": "2031-02-30"}, "fecha_fin"),
    ({"fecha_inicio": None}, "fecha_inicio"),
    ({"notas": ["a"]}, "notas"),
    ({"estado": "cancelado"}, "estado"),
    ({"precio_actual": 1}, "precio_actual"),
    ({"empresa_id": 1}, "empresa_id"),
    ({"soporte_tipo_id": 1}, "soporte_tipo_id"),
    ({"tickets_consumidos": 0}, "tickets_consumidos"),
    ({"inventado": 1}, "inventado"),
])
def test_update_refusals_are_422(client, db, admin_headers, soporte_activo, audit_rows, body, field):
    before = _snapshot(db, soporte_activo.id)
    answer = assert_error(client.put(f"{URL}/{soporte_activo.id}", json=body, headers=admin_headers),
                          422, "validacion")
    assert field in answer["details"], answer
    assert _snapshot(db, soporte_activo.id) == before
    assert audit_rows("soporte_suscripciones") == []


def test_update_malformed_body_is_400(client, db, admin_headers, soporte_activo):
    before = _snapshot(db, soporte_activo.id)
    assert_error(client.put(f"{URL}/{soporte_activo.id}", data="{notas", headers=admin_headers,
                            content_type="application/json"), 400, "solicitud_invalida")
    assert _snapshot(db, soporte_activo.id) == before


# ---------------------------------------------------------------- renew

@STAFF
def test_renew_an_expired_one(client, db, staff_headers, vencida, tipo, audit_rows):
    tipo_row = db.session.get(SoporteTipo, tipo.id)
    tipo_row.precio = Decimal("130.00")
    persist(db, tipo_row)
    response = client.post(f"{URL}/{vencida.id}/renovar", headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, vencida.id)
    assert response.get_json() == _dump(stored)
    assert (stored.fecha_inicio, stored.fecha_fin, stored.estado, stored.tickets_consumidos,
            stored.horas_consumidas, stored.precio_actual) == (
        HOY, _fin(HOY), EstadoSoporte.ACTIVO, 0, Decimal("0.00"), Decimal("130.00"))
    assert response.get_json()["estado"] == "activo"
    [row] = audit_rows("soporte_suscripciones", vencida.id)
    assert row.accion == "actualizar"
    assert row.valores_nuevos == {"fecha_inicio": HOY.isoformat(), "fecha_fin": _fin(HOY).isoformat(),
                                  "precio_actual": 130.0}


def test_renew_an_active_one_early_starts_today(client, db, admin_headers, suscripcion_vigente,
                                                make_tipo, make_soporte):
    anual = make_tipo(Modalidad.ANUAL, max_tickets=10, precio=Decimal("900.00"))
    soporte = make_soporte(suscripcion_vigente, anual, fecha_inicio=HOY - timedelta(days=100),
                           fecha_fin=HOY + timedelta(days=265), tickets_consumidos=10,
                           precio_actual=Decimal("800.00"))
    response = client.post(f"{URL}/{soporte.id}/renovar", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, soporte.id)
    assert (stored.fecha_inicio, stored.fecha_fin, stored.tickets_consumidos, stored.precio_actual) == (
        HOY, _fin(HOY, anual=True), 0, Decimal("900.00"))


def test_renew_on_a_fixed_date(client, db, admin, auth_headers, suscripcion_vigente, tipo,
                               make_soporte):
    soporte = make_soporte(suscripcion_vigente, tipo, fecha_inicio=date(2024, 1, 1),
                           fecha_fin=date(2024, 1, 31), tickets_consumidos=5)
    with time_machine.travel(datetime(2024, 3, 31, 12, 0), tick=False):
        body = client.post(f"{URL}/{soporte.id}/renovar", headers=auth_headers(admin)).get_json()
    # One month less a day, as plan subscriptions count it: 03-31 + 1 month is 04-30.
    assert (body["fecha_inicio"], body["fecha_fin"], body["tickets_consumidos"]) == (
        "2024-03-31", "2024-04-29", 0)


@pytest.mark.parametrize("estado", [EstadoSoporte.CANCELADO, EstadoSoporte.PENDIENTE_PAGO])
def test_renew_from_cancelled_or_pending_is_409(client, db, admin_headers, suscripcion_vigente,
                                                tipo, make_soporte, audit_rows, estado):
    soporte = make_soporte(suscripcion_vigente, tipo, estado=estado, tickets_consumidos=2)
    before = _snapshot(db, soporte.id)
    body = assert_error(client.post(f"{URL}/{soporte.id}/renovar", headers=admin_headers),
                        409, "conflicto")
    assert body["details"]["estado"] == estado.value
    assert _snapshot(db, soporte.id) == before
    assert audit_rows("soporte_suscripciones") == []


def test_renew_an_expired_one_while_another_is_in_force_is_409(client, db, admin_headers, vencida,
                                                               suscripcion_vigente, make_tipo,
                                                               make_soporte):
    vigente = make_soporte(suscripcion_vigente, make_tipo(Modalidad.MENSUAL))
    before = _snapshot(db, vencida.id)
    body = assert_error(client.post(f"{URL}/{vencida.id}/renovar", headers=admin_headers),
                        409, "conflicto")
    assert body["details"] == {"soporte_suscripcion_id": vigente.id}
    assert _snapshot(db, vencida.id) == before


def test_renew_takes_no_body_fields(client, db, admin_headers, soporte_activo):
    response = client.post(f"{URL}/{soporte_activo.id}/renovar", json={}, headers=admin_headers)
    assert response.status_code == 200


# ---------------------------------------------------------------- cancel

@STAFF
@pytest.mark.parametrize("body", [None, {}, {"notas": "Cliente se retira"}])
def test_cancel(client, db, staff_headers, soporte_activo, audit_rows, body):
    response = client.post(f"{URL}/{soporte_activo.id}/cancelar", json=body, headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, soporte_activo.id)
    assert response.get_json() == _dump(stored)
    assert stored.estado == EstadoSoporte.CANCELADO and response.get_json()["estado"] == "cancelado"
    notas = (body or {}).get("notas")
    assert stored.notas == notas
    [row] = audit_rows("soporte_suscripciones", soporte_activo.id)
    assert row.accion == "actualizar"
    assert row.valores_nuevos == {"estado": "cancelado", **({"notas": notas} if notas else {})}
    # Twice is a conflict, and changes nothing.
    body = assert_error(client.post(f"{URL}/{soporte_activo.id}/cancelar", headers=staff_headers),
                        409, "conflicto")
    assert body["details"]["estado"] == "cancelado"
    assert len(audit_rows("soporte_suscripciones", soporte_activo.id)) == 1


@pytest.mark.parametrize("fixture", ["vencida", "pendiente"])
def test_cancel_an_expired_or_pending_one(client, db, admin_headers, request, suscripcion_vigente,
                                          tipo, make_soporte, fixture):
    soporte = (request.getfixturevalue("vencida") if fixture == "vencida" else
               make_soporte(suscripcion_vigente, tipo, estado=EstadoSoporte.PENDIENTE_PAGO))
    response = client.post(f"{URL}/{soporte.id}/cancelar", headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert _get(db, soporte.id).estado == EstadoSoporte.CANCELADO


@pytest.mark.parametrize(("body", "field"), [({"motivo": "x"}, "motivo"), ({"notas": 3}, "notas")])
def test_cancel_bad_body_is_422(client, db, admin_headers, soporte_activo, body, field):
    answer = assert_error(client.post(f"{URL}/{soporte_activo.id}/cancelar", json=body,
                                      headers=admin_headers), 422, "validacion")
    assert field in answer["details"]
    assert _get(db, soporte_activo.id).estado == EstadoSoporte.ACTIVO


def test_cancelled_frees_the_company_for_a_new_one(client, db, admin_headers, soporte_activo, cuerpo):
    assert client.post(f"{URL}/{soporte_activo.id}/cancelar", headers=admin_headers).status_code == 200
    response = client.post(URL, json=cuerpo, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert _count(db) == 2


# ---------------------------------------------------------------- delete

@STAFF
def test_delete(client, db, staff_headers, soporte_activo, audit_rows):
    response = client.delete(f"{URL}/{soporte_activo.id}", headers=staff_headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert _get(db, soporte_activo.id) is None
    [row] = audit_rows("soporte_suscripciones", soporte_activo.id)
    assert row.accion == "eliminar" and row.valores_nuevos is None
    assert row.valores_anteriores["estado"] == "activo"


def test_delete_with_tickets_is_409(client, db, admin_headers, empresa, soporte_activo, make_ticket,
                                    audit_rows):
    make_ticket(empresa, soporte_activo)
    body = assert_error(client.delete(f"{URL}/{soporte_activo.id}", headers=admin_headers),
                        409, "conflicto")
    assert body["details"] == {"tickets": 1, "pagos": 0}
    assert _get(db, soporte_activo.id) is not None
    assert audit_rows("soporte_suscripciones") == []


@pytest.mark.parametrize("estado", list(EstadoPago))
def test_delete_with_payments_is_409(client, db, admin_headers, soporte_activo, make_pago,
                                     audit_rows, estado):
    make_pago(soporte_activo, estado)
    body = assert_error(client.delete(f"{URL}/{soporte_activo.id}", headers=admin_headers),
                        409, "conflicto")
    assert body["details"] == {"tickets": 0, "pagos": 1}
    assert _get(db, soporte_activo.id) is not None
    assert db.session.query(SoportePago).count() == 1
    assert audit_rows("soporte_suscripciones") == []


# ---------------------------------------------------------------- concurrent creation (MariaDB)

if os.environ.get("DATABASE_URL", "").startswith("mysql"):

    @pytest.mark.parametrize("estado", ["activo", "pendiente_pago"])
    def test_concurrent_creates_leave_one_in_force(app, db, admin_headers, cuerpo, estado):
        def create(client):
            return client.post(URL, json={**cuerpo, "estado": estado}, headers=admin_headers)

        db.session.rollback()  # no snapshot of this thread's older than the requests
        responses = run_concurrently(app, [create] * 10)
        assert sorted(r.status_code for r in responses) == [201] + [409] * 9, [
            r.get_json() for r in responses]
        db.session.rollback()
        assert _count(db) == 1

    def test_concurrent_renewals_of_two_expired_ones_leave_one_in_force(
            app, db, admin_headers, suscripcion_vigente, tipo, make_soporte):
        viejas = [make_soporte(suscripcion_vigente, tipo, fecha_inicio=HOY - timedelta(days=60),
                               fecha_fin=HOY - timedelta(days=n)) for n in range(1, 11)]

        def renew(soporte_id):
            return lambda client: client.post(f"{URL}/{soporte_id}/renovar", headers=admin_headers)

        ids = [v.id for v in viejas]
        db.session.rollback()
        responses = run_concurrently(app, [renew(i) for i in ids])
        assert sorted(r.status_code for r in responses) == [200] + [409] * 9, [
            r.get_json() for r in responses]
        db.session.rollback()
        en_vigor = db.session.query(SoporteSuscripcion).filter(
            SoporteSuscripcion.fecha_fin >= HOY).count()
        assert en_vigor == 1

    def test_renewal_racing_ticket_openings(app, db, admin_headers, empresa, suscripcion_vigente,
                                            make_tipo, make_soporte):
        """A renewal and openings of tickets lock the same rows in the same order: no 5xx, and
        every ticket opened after the renewal counts in the fresh quota."""
        soporte = make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=5),
                               tickets_consumidos=5)
        soporte_id, empresa_id = soporte.id, empresa.id

        def renew(client):
            return client.post(f"{URL}/{soporte_id}/renovar", headers=admin_headers)

        def open_ticket(client):
            return client.post("/admin/soporte-tickets", headers=admin_headers, json={
                "empresa_id": empresa_id, "titulo": "Carrera", "descripcion": "x"})

        db.session.rollback()
        responses = run_concurrently(app, [renew] + [open_ticket] * 12)
        assert responses[0].status_code == 200, responses[0].get_json()
        opened = [r for r in responses[1:] if r.status_code == 201]
        refused = [r for r in responses[1:] if r.status_code != 201]
        assert all(r.status_code == 403 and r.get_json()["details"]["motivo"] == "cupo_tickets_agotado"
                   for r in refused), [r.get_json() for r in refused]
        db.session.rollback()
        stored = _get(db, soporte_id)
        assert stored.tickets_consumidos == len(opened) <= 5
        assert db.session.query(SoporteTicket).count() == len(opened)
