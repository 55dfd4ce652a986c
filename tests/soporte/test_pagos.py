"""/admin/soporte-pagos: list (filters), one, create (an `exitoso` payment activates a
`pendiente_pago` support subscription; none for a `cancelado` one), update (`exitoso` is
final; `pendiente` → `exitoso` activates), delete (never an `exitoso` one); who may call them;
the body, the rows and the audit trail after every answer."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from backend.soporte.models import EstadoPago, EstadoSoporte, SoportePago, SoporteSuscripcion
from tests.conftest import assert_error, persist

URL = "/admin/soporte-pagos"


def _pago(db, pago_id) -> SoportePago | None:
    db.session.expire_all()
    return db.session.get(SoportePago, pago_id)


def _soporte(db, soporte_id) -> SoporteSuscripcion:
    db.session.expire_all()
    return db.session.get(SoporteSuscripcion, soporte_id)


def _count(db) -> int:
    db.session.expire_all()
    return db.session.query(SoportePago).count()


def _snapshot(db, model, ident) -> dict:
    db.session.expire_all()
    row = db.session.get(model, ident)
    return {c.key: getattr(row, c.key) for c in model.__mapper__.column_attrs}


def _z(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def _dump(pago: SoportePago) -> dict:
    return {
        "id": pago.id, "soporte_suscripcion_id": pago.soporte_suscripcion_id,
        "monto": float(pago.monto), "estado": pago.estado.value, "metodo_pago": pago.metodo_pago,
        "referencia": pago.referencia, "detalle": pago.detalle, "fecha_pago": _z(pago.fecha_pago),
        "creado_por": pago.creado_por, "created_at": _z(pago.created_at),
    }


@pytest.fixture
def staff_headers(request, admin_headers, soporte_headers):
    return admin_headers if request.param == "admin" else soporte_headers


STAFF = pytest.mark.parametrize("staff_headers", ["admin", "soporte"], indirect=True)


@pytest.fixture
def make_pago(db):
    def factory(soporte, estado=EstadoPago.PENDIENTE, **values) -> SoportePago:
        values.setdefault("monto", Decimal("150.00"))
        return persist(db, SoportePago(soporte_suscripcion_id=soporte.id, estado=estado, **values))

    return factory


@pytest.fixture
def pendiente(suscripcion_vigente, make_tipo, make_soporte):
    """A support subscription waiting for its payment."""
    return make_soporte(suscripcion_vigente, make_tipo(), estado=EstadoSoporte.PENDIENTE_PAGO)


# ---------------------------------------------------------------- who may call

@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", URL, None),
    ("get", URL + "/{id}", None),
    ("post", URL, "crear"),
    ("put", URL + "/{id}", {"estado": "exitoso"}),
    ("delete", URL + "/{id}", None),
])
def test_anonymous_401_and_cliente_403(client, db, pendiente, make_pago, cliente_headers,
                                       audit_rows, method, path, body):
    pago = make_pago(pendiente)
    before = _snapshot(db, SoportePago, pago.id)
    payload = ({"soporte_suscripcion_id": pendiente.id, "monto": 150, "estado": "exitoso"}
               if body == "crear" else body)
    call = getattr(client, method)
    url = path.format(id=pago.id)
    assert_error(call(url, json=payload), 401, "no_autenticado")
    assert_error(call(url, json=payload, headers=cliente_headers), 403, "prohibido")
    assert _count(db) == 1 and _snapshot(db, SoportePago, pago.id) == before
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO
    assert audit_rows("soporte_pagos") == [] and audit_rows("soporte_suscripciones") == []


@pytest.mark.parametrize(("method", "path"), [
    ("get", URL + "/{id}"), ("put", URL + "/{id}"), ("delete", URL + "/{id}"),
])
def test_unknown_id_is_404(client, db, admin_headers, pendiente, make_pago, method, path):
    pago = make_pago(pendiente)
    before = _snapshot(db, SoportePago, pago.id)
    response = getattr(client, method)(path.format(id=pago.id + 1), json={"estado": "exitoso"},
                                       headers=admin_headers)
    assert_error(response, 404, "no_encontrado")
    assert _snapshot(db, SoportePago, pago.id) == before
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO


# ---------------------------------------------------------------- list and one

@STAFF
def test_list_filters_and_envelope(client, staff_headers, soporte_activo, pendiente, make_pago,
                                   make_empresa, make_plan, make_suscripcion, make_tipo, make_soporte):
    otra = make_soporte(make_suscripcion(make_empresa(), make_plan()), make_tipo())
    a = make_pago(soporte_activo, EstadoPago.EXITOSO, metodo_pago="tarjeta", referencia="R-1",
                  detalle={"banco": "X"})
    b = make_pago(pendiente, EstadoPago.FALLIDO)
    c = make_pago(pendiente, EstadoPago.PENDIENTE)
    d = make_pago(otra, EstadoPago.EXITOSO)

    def ids(**query):
        response = client.get(URL, query_string=query, headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "total", "page", "per_page"}
        return [item["id"] for item in body["items"]], body["total"]

    todos = client.get(URL, headers=staff_headers).get_json()
    assert todos == {"items": [_dump(p) for p in (d, c, b, a)], "total": 4, "page": 1, "per_page": 20}
    assert ids(soporte_suscripcion_id=pendiente.id) == ([c.id, b.id], 2)
    assert ids(estado="exitoso") == ([d.id, a.id], 2)
    assert ids(estado="fallido", soporte_suscripcion_id=pendiente.id) == ([b.id], 1)
    assert ids(estado="pendiente", soporte_suscripcion_id=soporte_activo.id) == ([], 0)
    page = client.get(URL, query_string={"page": 2, "per_page": 3}, headers=staff_headers).get_json()
    assert page == {"items": [_dump(a)], "total": 4, "page": 2, "per_page": 3}


@pytest.mark.parametrize(("query", "field"), [
    ({"estado": "reembolsado"}, "estado"), ({"soporte_suscripcion_id": "x"}, "soporte_suscripcion_id"),
    ({"per_page": 500}, "per_page"),
])
def test_list_bad_filters_are_422(client, admin_headers, query, field):
    body = assert_error(client.get(URL, query_string=query, headers=admin_headers), 422, "validacion")
    assert field in body["details"]


@STAFF
def test_get_one(client, staff_headers, pendiente, make_pago):
    pago = make_pago(pendiente, EstadoPago.FALLIDO, monto=Decimal("10.50"), detalle={"codigo": 51})
    response = client.get(f"{URL}/{pago.id}", headers=staff_headers)
    assert response.status_code == 200
    assert response.get_json() == _dump(pago)
    assert response.get_json()["monto"] == 10.5 and response.get_json()["detalle"] == {"codigo": 51}


# ---------------------------------------------------------------- create

@STAFF
def test_a_successful_payment_activates_a_pending_subscription(client, db, staff_headers, pendiente,
                                                                audit_rows):
    response = client.post(URL, json={"soporte_suscripcion_id": pendiente.id, "monto": 150,
                                      "estado": "exitoso", "metodo_pago": " transferencia ",
                                      "referencia": "TRX-77", "detalle": {"banco": "Andes"}},
                           headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    pago = _pago(db, body["id"])
    assert body == _dump(pago)
    assert (pago.estado, pago.monto, pago.metodo_pago, pago.referencia, pago.detalle) == (
        EstadoPago.EXITOSO, Decimal("150.00"), "transferencia", "TRX-77", {"banco": "Andes"})
    assert pago.creado_por is not None and body["creado_por"] == pago.creado_por
    assert abs(pago.fecha_pago - datetime.utcnow()) < timedelta(minutes=1)
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.ACTIVO
    [row] = audit_rows("soporte_pagos", pago.id)
    assert row.accion == "crear" and row.valores_nuevos["estado"] == "exitoso"
    [cambio] = audit_rows("soporte_suscripciones", pendiente.id)
    assert cambio.accion == "actualizar" and cambio.usuario_id == pago.creado_por
    assert (cambio.valores_anteriores, cambio.valores_nuevos) == (
        {"estado": "pendiente_pago"}, {"estado": "activo"})


@pytest.mark.parametrize("estado", ["fallido", "pendiente"])
def test_an_unsuccessful_payment_does_not_activate(client, db, admin_headers, pendiente, audit_rows,
                                                   estado):
    response = client.post(URL, json={"soporte_suscripcion_id": pendiente.id, "monto": 150,
                                      "estado": estado}, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert _pago(db, response.get_json()["id"]).estado == EstadoPago(estado)
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO
    assert len(audit_rows("soporte_pagos")) == 1 and audit_rows("soporte_suscripciones") == []


def test_payment_for_an_active_or_expired_one_changes_no_state(client, db, admin_headers,
                                                              soporte_activo, audit_rows):
    before = _snapshot(db, SoporteSuscripcion, soporte_activo.id)
    response = client.post(URL, json={"soporte_suscripcion_id": soporte_activo.id, "monto": 0,
                                      "estado": "exitoso", "fecha_pago": "2024-05-01T10:00:00-05:00"},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fecha_pago"] == "2024-05-01T15:00:00Z"
    assert _pago(db, response.get_json()["id"]).fecha_pago == datetime(2024, 5, 1, 15, 0)
    assert _snapshot(db, SoporteSuscripcion, soporte_activo.id) == before
    assert audit_rows("soporte_suscripciones") == []


def test_default_payment_time_is_now(client, db, admin, auth_headers, pendiente):
    with time_machine.travel(datetime(2026, 1, 2, 3, 4, 5), tick=False):
        response = client.post(URL, json={"soporte_suscripcion_id": pendiente.id, "monto": 1,
                                          "estado": "pendiente"}, headers=auth_headers(admin))
    assert response.get_json()["fecha_pago"] == "2026-01-02T03:04:05Z"


def test_payment_to_a_cancelled_subscription_is_409(client, db, admin_headers, suscripcion_vigente,
                                                    make_tipo, make_soporte, audit_rows):
    cancelada = make_soporte(suscripcion_vigente, make_tipo(), estado=EstadoSoporte.CANCELADO)
    assert_error(client.post(URL, json={"soporte_suscripcion_id": cancelada.id, "monto": 5,
                                        "estado": "exitoso"}, headers=admin_headers), 409, "conflicto")
    assert _count(db) == 0
    assert _soporte(db, cancelada.id).estado == EstadoSoporte.CANCELADO
    assert audit_rows("soporte_pagos") == [] and audit_rows("soporte_suscripciones") == []


def test_payment_to_an_unknown_subscription_is_422(client, db, admin_headers, pendiente, audit_rows):
    body = assert_error(client.post(URL, json={"soporte_suscripcion_id": pendiente.id + 1, "monto": 5,
                                               "estado": "exitoso"}, headers=admin_headers),
                        422, "validacion")
    assert set(body["details"]) == {"soporte_suscripcion_id"}
    assert _count(db) == 0 and audit_rows("soporte_pagos") == []
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO


@pytest.mark.parametrize(("cambios", "field"), [
    ({"soporte_suscripcion_id": None}, "soporte_suscripcion_id"),
    ({"soporte_suscripcion_id": 0}, "soporte_suscripcion_id"),
    ({"monto": None}, "monto"),
    ({"monto": -1}, "monto"),
    ({"monto": 1.001}, "monto"),
    ({"monto": "mucho"}, "monto"),
    ({"monto": 1e12}, "monto"),
    ({"estado": None}, "estado"),
    ({"estado": "reembolsado"}, "estado"),
    ({"metodo_pago": "x" * 51}, "metodo_pago"),
    ({"referencia": "x" * 121}, "referencia"),
    ({"detalle": "texto"}, "detalle"),
    ({"detalle": {f"k{n}": n for n in range(51)}}, "detalle"),
    ({"fecha_pago": "ayer"}, "fecha_pago"),
    ({"creado_por": 1}, "creado_por"),
    ({"id": 1}, "id"),
    ({"created_at": "2024-01-01T00:00:00Z"}, "created_at"),
    ({"inventado": 1}, "inventado"),
])
def test_create_bad_values_and_unknown_fields_are_422(client, db, admin_headers, pendiente,
                                                       audit_rows, cambios, field):
    cuerpo = {"soporte_suscripcion_id": pendiente.id, "monto": 150, "estado": "exitoso", **cambios}
    body = assert_error(client.post(URL, json=cuerpo, headers=admin_headers), 422, "validacion")
    assert field in body["details"], body
    assert _count(db) == 0 and audit_rows("soporte_pagos") == []
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO


@pytest.mark.parametrize("missing", ["soporte_suscripcion_id", "monto", "estado"])
def test_create_missing_fields_are_422(client, db, admin_headers, pendiente, missing):
    cuerpo = {"soporte_suscripcion_id": pendiente.id, "monto": 150, "estado": "exitoso"}
    del cuerpo[missing]
    body = assert_error(client.post(URL, json=cuerpo, headers=admin_headers), 422, "validacion")
    assert set(body["details"]) == {missing}
    assert _count(db) == 0
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO


def test_create_malformed_body_is_400(client, db, admin_headers, pendiente):
    assert_error(client.post(URL, data='{"monto": 1', content_type="application/json",
                             headers=admin_headers), 400, "solicitud_invalida")
    assert _count(db) == 0
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO


# ---------------------------------------------------------------- update

@STAFF
def test_pending_to_successful_activates(client, db, staff_headers, pendiente, make_pago, audit_rows):
    pago = make_pago(pendiente, EstadoPago.PENDIENTE)
    response = client.put(f"{URL}/{pago.id}", json={"estado": "exitoso", "referencia": "OK-1"},
                          headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    stored = _pago(db, pago.id)
    assert response.get_json() == _dump(stored)
    assert (stored.estado, stored.referencia) == (EstadoPago.EXITOSO, "OK-1")
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.ACTIVO
    [row] = audit_rows("soporte_pagos", pago.id)
    assert row.accion == "actualizar"
    assert (row.valores_anteriores, row.valores_nuevos) == (
        {"estado": "pendiente", "referencia": None}, {"estado": "exitoso", "referencia": "OK-1"})
    [cambio] = audit_rows("soporte_suscripciones", pendiente.id)
    assert cambio.valores_nuevos == {"estado": "activo"}


@pytest.mark.parametrize(("desde", "hacia"), [
    (EstadoPago.PENDIENTE, "fallido"), (EstadoPago.FALLIDO, "pendiente"),
    (EstadoPago.PENDIENTE, "pendiente"),
])
def test_unsuccessful_updates_do_not_activate(client, db, admin_headers, pendiente, make_pago,
                                              audit_rows, desde, hacia):
    pago = make_pago(pendiente, desde)
    response = client.put(f"{URL}/{pago.id}", json={"estado": hacia, "metodo_pago": "efectivo"},
                          headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert (_pago(db, pago.id).estado, _pago(db, pago.id).metodo_pago) == (EstadoPago(hacia), "efectivo")
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO
    assert audit_rows("soporte_suscripciones") == []


@pytest.mark.parametrize(("cambio", "campo"), [
    ({"estado": "fallido"}, "estado"),
    ({"estado": "pendiente"}, "estado"),
    ({"monto": 149.99}, "monto"),
    ({"fecha_pago": "2020-01-01T00:00:00Z"}, "fecha_pago"),
    ({"soporte_suscripcion_id": "otra"}, "soporte_suscripcion_id"),
])
def test_a_successful_payment_is_final(client, db, admin_headers, soporte_activo, pendiente,
                                       make_pago, audit_rows, cambio, campo):
    pago = make_pago(soporte_activo, EstadoPago.EXITOSO)
    if cambio.get("soporte_suscripcion_id") == "otra":
        cambio = {"soporte_suscripcion_id": pendiente.id}
    before = _snapshot(db, SoportePago, pago.id)
    body = assert_error(client.put(f"{URL}/{pago.id}", json={**cambio, "referencia": "x"},
                                   headers=admin_headers), 409, "conflicto")
    assert body["details"] == {"estado": "exitoso", "campos": [campo]}
    assert _snapshot(db, SoportePago, pago.id) == before
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO
    assert audit_rows("soporte_pagos") == [] and audit_rows("soporte_suscripciones") == []


def test_a_successful_payment_keeps_its_facts_while_notes_change(client, db, admin_headers,
                                                                 soporte_activo, make_pago,
                                                                 audit_rows):
    pago = make_pago(soporte_activo, EstadoPago.EXITOSO, fecha_pago=datetime(2026, 1, 2, 3, 4, 5))
    response = client.put(f"{URL}/{pago.id}", headers=admin_headers, json={
        "estado": "exitoso", "monto": 150, "soporte_suscripcion_id": soporte_activo.id,
        "fecha_pago": "2026-01-02T03:04:05Z", "referencia": "R-9", "detalle": {"lote": 3}})
    assert response.status_code == 200, response.get_json()
    stored = _pago(db, pago.id)
    assert response.get_json() == _dump(stored)
    assert (stored.estado, stored.monto, stored.referencia, stored.detalle) == (
        EstadoPago.EXITOSO, Decimal("150.00"), "R-9", {"lote": 3})
    [row] = audit_rows("soporte_pagos", pago.id)
    assert row.valores_nuevos == {"referencia": "R-9", "detalle": {"lote": 3}}


def test_a_pending_payment_takes_every_field_of_the_create_body(client, db, admin_headers,
                                                                soporte_activo, pendiente,
                                                                make_pago, audit_rows):
    pago = make_pago(soporte_activo, EstadoPago.PENDIENTE)
    response = client.put(f"{URL}/{pago.id}", headers=admin_headers, json={
        "soporte_suscripcion_id": pendiente.id, "monto": 99.5, "estado": "exitoso",
        "fecha_pago": "2026-02-03T04:05:06Z", "metodo_pago": "PSE"})
    assert response.status_code == 200, response.get_json()
    stored = _pago(db, pago.id)
    assert response.get_json() == _dump(stored)
    assert (stored.soporte_suscripcion_id, stored.monto, stored.estado, stored.fecha_pago,
            stored.metodo_pago) == (pendiente.id, Decimal("99.50"), EstadoPago.EXITOSO,
                                    datetime(2026, 2, 3, 4, 5, 6), "PSE")
    # The payment now belongs to the pending subscription, which it activates.
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.ACTIVO
    [row] = audit_rows("soporte_pagos", pago.id)
    assert row.valores_nuevos["soporte_suscripcion_id"] == pendiente.id


def test_moving_a_payment_to_a_cancelled_or_unknown_subscription(client, db, admin_headers,
                                                                 pendiente, suscripcion_vigente,
                                                                 make_tipo, make_soporte, make_pago):
    cancelada = make_soporte(suscripcion_vigente, make_tipo(), estado=EstadoSoporte.CANCELADO)
    pago = make_pago(pendiente, EstadoPago.PENDIENTE)
    before = _snapshot(db, SoportePago, pago.id)
    assert_error(client.put(f"{URL}/{pago.id}", json={"soporte_suscripcion_id": cancelada.id},
                            headers=admin_headers), 409, "conflicto")
    body = assert_error(client.put(f"{URL}/{pago.id}", headers=admin_headers,
                                   json={"soporte_suscripcion_id": cancelada.id + 100}),
                        422, "validacion")
    assert set(body["details"]) == {"soporte_suscripcion_id"}
    assert _snapshot(db, SoportePago, pago.id) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"estado": "reembolsado"}, "estado"),
    ({"estado": None}, "estado"),
    ({"monto": -3}, "monto"),
    ({"monto": None}, "monto"),
    ({"fecha_pago": "hoy"}, "fecha_pago"),
    ({"soporte_suscripcion_id": 0}, "soporte_suscripcion_id"),
    ({"metodo_pago": "x" * 51}, "metodo_pago"),
    ({"detalle": [1]}, "detalle"),
    ({"creado_por": 5}, "creado_por"),
    ({"id": 5}, "id"),
    ({"inventado": 5}, "inventado"),
])
def test_update_refusals_are_422(client, db, admin_headers, pendiente, make_pago, audit_rows, body,
                                 field):
    pago = make_pago(pendiente)
    before = _snapshot(db, SoportePago, pago.id)
    answer = assert_error(client.put(f"{URL}/{pago.id}", json=body, headers=admin_headers),
                          422, "validacion")
    assert field in answer["details"], answer
    assert _snapshot(db, SoportePago, pago.id) == before
    assert audit_rows("soporte_pagos") == []


def test_update_malformed_body_is_400(client, db, admin_headers, pendiente, make_pago):
    pago = make_pago(pendiente)
    before = _snapshot(db, SoportePago, pago.id)
    assert_error(client.put(f"{URL}/{pago.id}", data="{", content_type="application/json",
                            headers=admin_headers), 400, "solicitud_invalida")
    assert _snapshot(db, SoportePago, pago.id) == before


# ---------------------------------------------------------------- delete

@STAFF
@pytest.mark.parametrize("estado", [EstadoPago.PENDIENTE, EstadoPago.FALLIDO])
def test_delete(client, db, staff_headers, pendiente, make_pago, audit_rows, estado):
    pago = make_pago(pendiente, estado)
    response = client.delete(f"{URL}/{pago.id}", headers=staff_headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert _pago(db, pago.id) is None
    assert _soporte(db, pendiente.id).estado == EstadoSoporte.PENDIENTE_PAGO
    [row] = audit_rows("soporte_pagos", pago.id)
    assert row.accion == "eliminar" and row.valores_anteriores["estado"] == estado.value


def test_delete_a_successful_payment_is_409(client, db, admin_headers, soporte_activo, make_pago,
                                            audit_rows):
    pago = make_pago(soporte_activo, EstadoPago.EXITOSO)
    assert_error(client.delete(f"{URL}/{pago.id}", headers=admin_headers), 409, "conflicto")
    assert _pago(db, pago.id) is not None
    assert audit_rows("soporte_pagos") == []
