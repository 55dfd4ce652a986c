"""/admin/soporte-tipos: list with filters and pages, one, create (unique name, the limit each
modality needs), partial update, delete (409 while a support subscription uses the type);
who may call them; the body, the rows and the audit trail after every answer."""
from __future__ import annotations

from decimal import Decimal

import pytest

from backend.soporte.models import Modalidad, SoporteTipo
from tests.conftest import assert_error

URL = "/admin/soporte-tipos"


def _get(db, tipo_id) -> SoporteTipo | None:
    db.session.expire_all()
    return db.session.get(SoporteTipo, tipo_id)


def _count(db) -> int:
    db.session.expire_all()
    return db.session.query(SoporteTipo).count()


def _snapshot(db, tipo_id) -> dict:
    tipo = _get(db, tipo_id)
    return {c.key: getattr(tipo, c.key) for c in SoporteTipo.__mapper__.column_attrs}


def _dump(tipo: SoporteTipo) -> dict:
    return {
        "id": tipo.id, "nombre": tipo.nombre, "descripcion": tipo.descripcion,
        "modalidad": tipo.modalidad.value, "precio": float(tipo.precio),
        "max_tickets": tipo.max_tickets,
        "max_horas": None if tipo.max_horas is None else float(tipo.max_horas),
        "activo": tipo.activo, "created_at": tipo.created_at.replace(microsecond=0).isoformat() + "Z",
    }


@pytest.fixture
def staff_headers(request, admin_headers, soporte_headers):
    """Both staff roles may use every support route."""
    return admin_headers if request.param == "admin" else soporte_headers


STAFF = pytest.mark.parametrize("staff_headers", ["admin", "soporte"], indirect=True)


# ---------------------------------------------------------------- who may call

@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", URL, None),
    ("get", URL + "/{id}", None),
    ("post", URL, {"nombre": "Nuevo", "modalidad": "mensual", "precio": 10}),
    ("put", URL + "/{id}", {"precio": 1}),
    ("delete", URL + "/{id}", None),
])
def test_anonymous_401_and_cliente_403(client, db, make_tipo, cliente_headers, audit_rows,
                                       method, path, body):
    tipo = make_tipo(Modalidad.MENSUAL, nombre="Intocable", precio=Decimal("80.00"))
    before = _snapshot(db, tipo.id)
    url = path.format(id=tipo.id)
    call = getattr(client, method)
    assert_error(call(url, json=body), 401, "no_autenticado")
    assert_error(call(url, json=body, headers=cliente_headers), 403, "prohibido")
    assert _count(db) == 1
    assert _snapshot(db, tipo.id) == before
    assert audit_rows("soporte_tipos") == []


# ---------------------------------------------------------------- list and one

@STAFF
def test_list_filters_and_envelope(client, staff_headers, make_tipo):
    basico = make_tipo(Modalidad.MENSUAL, nombre="Básico mensual")
    anual = make_tipo(Modalidad.ANUAL, nombre="Premium anual", activo=False)
    tickets = make_tipo(Modalidad.POR_TICKETS, nombre="Bolsa de tickets", max_tickets=5)
    horas = make_tipo(Modalidad.POR_HORAS, nombre="Bolsa de horas", max_horas=Decimal("7.50"))

    def ids(**query):
        response = client.get(URL, query_string=query, headers=staff_headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "total", "page", "per_page"}
        return [item["id"] for item in body["items"]], body["total"]

    everything = client.get(URL, headers=staff_headers).get_json()
    assert everything == {"items": [_dump(t) for t in (basico, anual, tickets, horas)],
                          "total": 4, "page": 1, "per_page": 20}
    assert ids(q="bolsa") == ([tickets.id, horas.id], 2)
    assert ids(q="  ANUAL ") == ([anual.id], 1)
    assert ids(activo="false") == ([anual.id], 1)
    assert ids(activo="true") == ([basico.id, tickets.id, horas.id], 3)
    assert ids(modalidad="por_horas") == ([horas.id], 1)
    assert ids(modalidad="mensual", activo="true") == ([basico.id], 1)
    assert ids(q="nada parecido") == ([], 0)
    assert ids(q="   ") == ([basico.id, anual.id, tickets.id, horas.id], 4)
    # `%` and `_` are characters to find, not wildcards.
    assert ids(q="%") == ([], 0)
    assert ids(q="_") == ([], 0)
    assert ids(q="a%s") == ([], 0)
    raro = make_tipo(Modalidad.MENSUAL, nombre="Plan 100%_rápido")
    assert ids(q="100%_") == ([raro.id], 1)
    assert ids(q="PLAN 100") == ([raro.id], 1)
    page = client.get(URL, query_string={"page": 2, "per_page": 3}, headers=staff_headers).get_json()
    assert page == {"items": [_dump(horas), _dump(raro)], "total": 5, "page": 2, "per_page": 3}


@pytest.mark.parametrize(("query", "field"), [
    ({"modalidad": "semanal"}, "modalidad"),
    ({"activo": "quizas"}, "activo"),
    ({"per_page": 101}, "per_page"),
    ({"page": 0}, "page"),
])
def test_list_bad_filters_are_422(client, admin_headers, make_tipo, query, field):
    make_tipo()
    body = assert_error(client.get(URL, query_string=query, headers=admin_headers), 422, "validacion")
    assert field in body["details"]


@STAFF
def test_get_one_and_unknown(client, staff_headers, make_tipo):
    tipo = make_tipo(Modalidad.POR_HORAS, nombre="Horas", descripcion="Diez horas",
                     max_horas=Decimal("10.25"))
    response = client.get(f"{URL}/{tipo.id}", headers=staff_headers)
    assert response.status_code == 200
    assert response.get_json() == _dump(tipo)
    assert response.get_json()["max_horas"] == 10.25
    assert_error(client.get(f"{URL}/{tipo.id + 1}", headers=staff_headers), 404, "no_encontrado")


# ---------------------------------------------------------------- create

@STAFF
@pytest.mark.parametrize(("body", "esperado"), [
    ({"nombre": "  Mensual  ", "modalidad": "mensual", "precio": 99.9},
     {"nombre": "Mensual", "modalidad": "mensual", "precio": 99.9, "max_tickets": None,
      "max_horas": None, "activo": True, "descripcion": None}),
    ({"nombre": "Anual tope", "modalidad": "anual", "precio": 1200, "max_tickets": 24,
      "max_horas": 40.5, "descripcion": "Con tope", "activo": False},
     {"nombre": "Anual tope", "modalidad": "anual", "precio": 1200.0, "max_tickets": 24,
      "max_horas": 40.5, "activo": False, "descripcion": "Con tope"}),
    ({"nombre": "Tickets", "modalidad": "por_tickets", "precio": "50.00", "max_tickets": 5},
     {"nombre": "Tickets", "modalidad": "por_tickets", "precio": 50.0, "max_tickets": 5,
      "max_horas": None, "activo": True, "descripcion": None}),
    ({"nombre": "Horas", "modalidad": "por_horas", "precio": 0, "max_horas": 12},
     {"nombre": "Horas", "modalidad": "por_horas", "precio": 0.0, "max_tickets": None,
      "max_horas": 12.0, "activo": True, "descripcion": None}),
])
def test_create(client, db, staff_headers, audit_rows, body, esperado):
    response = client.post(URL, json=body, headers=staff_headers)
    assert response.status_code == 201, response.get_json()
    answer = response.get_json()
    assert answer == {**esperado, "id": answer["id"], "created_at": answer["created_at"]}
    assert answer["created_at"].endswith("Z")
    tipo = _get(db, answer["id"])
    assert _dump(tipo) == answer
    assert tipo.precio == Decimal(str(esperado["precio"])).quantize(Decimal("0.01"))
    [row] = audit_rows("soporte_tipos", tipo.id)
    assert row.accion == "crear" and row.valores_anteriores is None
    assert row.valores_nuevos["nombre"] == esperado["nombre"]
    assert row.valores_nuevos["modalidad"] == esperado["modalidad"]
    assert row.usuario_id is not None


def test_create_records_the_actor(client, db, soporte_user, soporte_headers, audit_rows):
    response = client.post(URL, json={"nombre": "X", "modalidad": "mensual", "precio": 1},
                           headers=soporte_headers)
    assert response.status_code == 201
    [row] = audit_rows("soporte_tipos", response.get_json()["id"])
    assert row.usuario_id == soporte_user.id


@pytest.mark.parametrize("nombre", ["Soporte Oro", "  Soporte Oro ", "soporte oro", "SOPORTE ORO"])
def test_create_duplicate_name_is_409(client, db, admin_headers, make_tipo, audit_rows, nombre):
    existente = make_tipo(Modalidad.MENSUAL, nombre="Soporte Oro")
    body = assert_error(client.post(URL, json={"nombre": nombre, "modalidad": "anual", "precio": 5},
                                    headers=admin_headers), 409, "conflicto")
    assert "nombre" in body["details"]
    assert _count(db) == 1 and _get(db, existente.id).modalidad == Modalidad.MENSUAL
    assert audit_rows("soporte_tipos") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"modalidad": "mensual", "precio": 1}, "nombre"),
    ({"nombre": "   ", "modalidad": "mensual", "precio": 1}, "nombre"),
    ({"nombre": "x" * 121, "modalidad": "mensual", "precio": 1}, "nombre"),
    ({"nombre": "A", "precio": 1}, "modalidad"),
    ({"nombre": "A", "modalidad": "semanal", "precio": 1}, "modalidad"),
    ({"nombre": "A", "modalidad": "mensual"}, "precio"),
    ({"nombre": "A", "modalidad": "mensual", "precio": -1}, "precio"),
    ({"nombre": "A", "modalidad": "mensual", "precio": 1.234}, "precio"),
    ({"nombre": "A", "modalidad": "mensual", "precio": "gratis"}, "precio"),
    ({"nombre": "A", "modalidad": "mensual", "precio": True}, "precio"),
    ({"nombre": "A", "modalidad": "por_tickets", "precio": 1}, "max_tickets"),
    ({"nombre": "A", "modalidad": "por_tickets", "precio": 1, "max_tickets": None}, "max_tickets"),
    ({"nombre": "A", "modalidad": "por_tickets", "precio": 1, "max_horas": 3}, "max_tickets"),
    ({"nombre": "A", "modalidad": "por_horas", "precio": 1}, "max_horas"),
    ({"nombre": "A", "modalidad": "por_horas", "precio": 1, "max_tickets": 3}, "max_horas"),
    ({"nombre": "A", "modalidad": "por_tickets", "precio": 1, "max_tickets": -1}, "max_tickets"),
    ({"nombre": "A", "modalidad": "por_tickets", "precio": 1, "max_tickets": 2.5}, "max_tickets"),
    ({"nombre": "A", "modalidad": "por_horas", "precio": 1, "max_horas": -0.5}, "max_horas"),
    ({"nombre": "A", "modalidad": "por_horas", "precio": 1, "max_horas": "mucho"}, "max_horas"),
    ({"nombre": "A", "modalidad": "mensual", "precio": 1, "activo": "tal vez"}, "activo"),
    ({"nombre": "A", "modalidad": "mensual", "precio": 1, "id": 7}, "id"),
    ({"nombre": "A", "modalidad": "mensual", "precio": 1, "created_at": "2024-01-01T00:00:00Z"},
     "created_at"),
    ({"nombre": "A", "modalidad": "mensual", "precio": 1, "inventado": 1}, "inventado"),
])
def test_create_invalid_is_422_naming_the_field(client, db, admin_headers, audit_rows, body, field):
    answer = assert_error(client.post(URL, json=body, headers=admin_headers), 422, "validacion")
    assert field in answer["details"], answer
    assert _count(db) == 0
    assert audit_rows("soporte_tipos") == []


def test_create_malformed_and_non_json_bodies(client, db, admin_headers):
    assert_error(client.post(URL, data='{"nombre": ', content_type="application/json",
                             headers=admin_headers), 400, "solicitud_invalida")
    assert_error(client.post(URL, json=["nombre"], headers=admin_headers), 422, "validacion")
    assert_error(client.post(URL, data={"nombre": "A"}, headers=admin_headers), 415,
                 "tipo_no_soportado")
    assert _count(db) == 0


@pytest.mark.parametrize("numero", ["NaN", "Infinity", "-Infinity"])
def test_create_nan_and_infinity_are_malformed(client, db, admin_headers, numero):
    body = '{"nombre": "A", "modalidad": "mensual", "precio": ' + numero + "}"
    try:
        assert_error(client.post(URL, data=body, content_type="application/json",
                                 headers=admin_headers), 400, "solicitud_invalida")
    finally:
        assert _count(db) == 0


# ---------------------------------------------------------------- update

@STAFF
def test_update_is_partial(client, db, staff_headers, make_tipo, audit_rows):
    tipo = make_tipo(Modalidad.POR_TICKETS, nombre="Tickets", descripcion="Cinco", max_tickets=5,
                     precio=Decimal("50.00"))
    response = client.put(f"{URL}/{tipo.id}", json={"precio": 75.5, "max_tickets": 8},
                          headers=staff_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, tipo.id)
    assert response.get_json() == _dump(stored)
    assert (stored.nombre, stored.descripcion, stored.modalidad, stored.precio, stored.max_tickets,
            stored.activo) == ("Tickets", "Cinco", Modalidad.POR_TICKETS, Decimal("75.50"), 8, True)
    [row] = audit_rows("soporte_tipos", tipo.id)
    assert row.accion == "actualizar"
    assert row.valores_anteriores == {"precio": 50.0, "max_tickets": 5}
    assert row.valores_nuevos == {"precio": 75.5, "max_tickets": 8}


def test_update_deactivate_rename_and_same_name(client, db, admin_headers, make_tipo, audit_rows):
    tipo = make_tipo(Modalidad.MENSUAL, nombre="Mensual")
    response = client.put(f"{URL}/{tipo.id}", json={"activo": False, "nombre": " Mensual "},
                          headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["activo"], response.get_json()["nombre"]) == (False, "Mensual")
    assert _get(db, tipo.id).activo is False
    response = client.put(f"{URL}/{tipo.id}", json={"nombre": "Mensual plus", "descripcion": None},
                          headers=admin_headers)
    assert response.status_code == 200
    assert _get(db, tipo.id).nombre == "Mensual plus"
    rows = audit_rows("soporte_tipos", tipo.id)
    assert [r.valores_nuevos for r in rows] == [{"activo": False}, {"nombre": "Mensual plus"}]


def test_update_an_empty_body_changes_nothing(client, db, admin_headers, make_tipo, audit_rows):
    tipo = make_tipo(Modalidad.MENSUAL)
    before = _snapshot(db, tipo.id)
    response = client.put(f"{URL}/{tipo.id}", json={}, headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json() == _dump(_get(db, tipo.id))
    assert _snapshot(db, tipo.id) == before
    assert audit_rows("soporte_tipos") == []


def test_update_to_a_taken_name_is_409(client, db, admin_headers, make_tipo, audit_rows):
    make_tipo(Modalidad.MENSUAL, nombre="Oro")
    plata = make_tipo(Modalidad.MENSUAL, nombre="Plata")
    for nombre in ("Oro", "oro"):
        body = assert_error(client.put(f"{URL}/{plata.id}", json={"nombre": nombre},
                                       headers=admin_headers), 409, "conflicto")
        assert "nombre" in body["details"]
    assert _get(db, plata.id).nombre == "Plata"
    assert audit_rows("soporte_tipos") == []


@pytest.mark.parametrize(("modalidad", "body", "field"), [
    # A type must keep the limit its modality counts: after the update, not only on create.
    (Modalidad.MENSUAL, {"modalidad": "por_tickets"}, "max_tickets"),
    (Modalidad.MENSUAL, {"modalidad": "por_horas"}, "max_horas"),
    (Modalidad.POR_TICKETS, {"max_tickets": None}, "max_tickets"),
    (Modalidad.POR_HORAS, {"max_horas": None}, "max_horas"),
    (Modalidad.POR_TICKETS, {"modalidad": "por_horas", "max_tickets": 4}, "max_horas"),
    (Modalidad.MENSUAL, {"precio": -5}, "precio"),
    (Modalidad.MENSUAL, {"nombre": ""}, "nombre"),
    (Modalidad.MENSUAL, {"modalidad": "diaria"}, "modalidad"),
    (Modalidad.MENSUAL, {"activo": None}, "activo"),
    (Modalidad.MENSUAL, {"id": 99}, "id"),
    (Modalidad.MENSUAL, {"inventado": "x"}, "inventado"),
])
def test_update_invalid_is_422(client, db, admin_headers, make_tipo, audit_rows, modalidad, body,
                               field):
    tipo = make_tipo(modalidad)
    before = _snapshot(db, tipo.id)
    answer = assert_error(client.put(f"{URL}/{tipo.id}", json=body, headers=admin_headers),
                          422, "validacion")
    assert field in answer["details"], answer
    assert _snapshot(db, tipo.id) == before
    assert audit_rows("soporte_tipos") == []


def test_update_changing_modality_with_its_limit(client, db, admin_headers, make_tipo):
    tipo = make_tipo(Modalidad.MENSUAL)
    response = client.put(f"{URL}/{tipo.id}", json={"modalidad": "por_horas", "max_horas": 6},
                          headers=admin_headers)
    assert response.status_code == 200, response.get_json()
    stored = _get(db, tipo.id)
    assert (stored.modalidad, stored.max_horas) == (Modalidad.POR_HORAS, Decimal("6.00"))


def test_update_unknown_and_malformed(client, db, admin_headers, make_tipo):
    tipo = make_tipo(Modalidad.MENSUAL)
    before = _snapshot(db, tipo.id)
    assert_error(client.put(f"{URL}/{tipo.id + 1}", json={"precio": 1}, headers=admin_headers),
                 404, "no_encontrado")
    assert_error(client.put(f"{URL}/{tipo.id}", data="{precio", content_type="application/json",
                            headers=admin_headers), 400, "solicitud_invalida")
    assert _snapshot(db, tipo.id) == before


# ---------------------------------------------------------------- delete

@STAFF
def test_delete(client, db, staff_headers, make_tipo, audit_rows):
    tipo = make_tipo(Modalidad.ANUAL, nombre="Anual")
    otro = make_tipo(Modalidad.MENSUAL)
    response = client.delete(f"{URL}/{tipo.id}", headers=staff_headers)
    assert response.status_code == 204 and response.get_data() == b""
    assert _get(db, tipo.id) is None and _get(db, otro.id) is not None
    [row] = audit_rows("soporte_tipos", tipo.id)
    assert row.accion == "eliminar" and row.valores_nuevos is None
    assert row.valores_anteriores["nombre"] == "Anual"
    assert_error(client.delete(f"{URL}/{tipo.id}", headers=staff_headers), 404, "no_encontrado")


@pytest.mark.parametrize("estado", ["activo", "cancelado", "pendiente_pago"])
def test_delete_a_type_in_use_is_409(client, db, admin_headers, make_tipo, make_soporte,
                                     suscripcion_vigente, audit_rows, estado):
    tipo = make_tipo(Modalidad.MENSUAL)
    make_soporte(suscripcion_vigente, tipo, estado=estado)
    before = _snapshot(db, tipo.id)
    body = assert_error(client.delete(f"{URL}/{tipo.id}", headers=admin_headers), 409, "conflicto")
    assert "desactívelo" in body["message"]
    assert _snapshot(db, tipo.id) == before
    assert audit_rows("soporte_tipos") == []
    # Deactivating it instead is allowed.
    response = client.put(f"{URL}/{tipo.id}", json={"activo": False}, headers=admin_headers)
    assert response.status_code == 200 and _get(db, tipo.id).activo is False
