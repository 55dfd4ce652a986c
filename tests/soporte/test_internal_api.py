"""The internal support API /api/internal/support for the SaaS instances: the key and company
headers on every call, opening tickets through the quota, a company's own tickets only
(another company's is 404 and never leaks), comments without internal notes, status, health."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.core.models import utcnow
from backend.soporte.models import (
    EstadoSoporte,
    EstadoTicket,
    Modalidad,
    Prioridad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTicketArchivo,
    SoporteTicketComentario,
)
from tests.conftest import assert_error, persist
from tests.soporte.conftest import COMENTARIO_KEYS, GLOBAL_KEY, TICKET_KEYS

BASE = "/api/internal/support"
NUEVO = {"titulo": "Error al facturar", "descripcion": "La factura 12 no sale.", "prioridad": "alta"}


def fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def headers_for(empresa_id, key: str = GLOBAL_KEY) -> dict:
    return {"X-API-Key": key, "X-Empresa-Id": str(empresa_id)}


@pytest.fixture
def otra_empresa(make_empresa):
    return make_empresa(nombre="Otra SA")


@pytest.fixture
def ticket(empresa, soporte_activo, make_ticket):
    return make_ticket(empresa, soporte_activo)


@pytest.fixture
def ajeno(otra_empresa, make_ticket):
    """A ticket of another company."""
    return make_ticket(otra_empresa, titulo="Secreto de Otra", descripcion="Solo Otra lo ve.")


# ---------------------------------------------------------------- keys and company header

CALLS = [
    ("POST", "/create_tickets", NUEVO),
    ("GET", "/tickets", None),
    ("GET", "/ticket_id/{id}", None),
    ("POST", "/tickets/{id}/comentarios", {"contenido": "hola"}),
    ("GET", "/status", None),
    ("GET", "/health", None),
]
CALL_IDS = [f"{m} {p}" for m, p, _ in CALLS]


def _state(db, soporte_id) -> tuple:
    return (count(db, SoporteTicket), count(db, SoporteTicketComentario),
            fresh(db, SoporteSuscripcion, soporte_id).tickets_consumidos)


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=CALL_IDS)
def test_every_call_checks_the_key_and_the_company(client, db, method, path, body, empresa,
                                                   otra_empresa, ticket, ajeno, company_key):
    target = BASE + path.format(id=ticket.id)
    before = _state(db, ticket.soporte_suscripcion_id)
    empresa_id = str(empresa.id)
    refusals = [
        ({"X-Empresa-Id": empresa_id}, 401, "no_autenticado"),
        ({"X-API-Key": "", "X-Empresa-Id": empresa_id}, 401, "no_autenticado"),
        ({"X-API-Key": "otra-clave", "X-Empresa-Id": empresa_id}, 401, "no_autenticado"),
        ({"X-API-Key": GLOBAL_KEY + "x", "X-Empresa-Id": empresa_id}, 401, "no_autenticado"),
        ({"X-API-Key": GLOBAL_KEY}, 400, "solicitud_invalida"),
        ({"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": ""}, 400, "solicitud_invalida"),
        ({"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": "acme"}, 400, "solicitud_invalida"),
        ({"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": "1.5"}, 400, "solicitud_invalida"),
        ({"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": "-1"}, 400, "solicitud_invalida"),
        (headers_for(empresa.id, company_key(otra_empresa)), 403, "prohibido"),
        (headers_for(987_654), 404, "no_encontrado"),
        (headers_for(987_654, company_key(empresa)), 403, "prohibido"),
    ]
    for headers, status, code in refusals:
        response = client.open(target, method=method, json=body, headers=headers)
        assert_error(response, status, code)
        assert _state(db, ticket.soporte_suscripcion_id) == before, headers

    own_key = company_key(empresa)
    response = client.open(target, method=method, json=body, headers=headers_for(empresa.id, own_key))
    assert response.status_code in (200, 201), response.get_json()
    # The same company's key is refused for the other company's tickets and status too.
    response = client.open(target.replace(str(ticket.id), str(ajeno.id)) if "{id}" in path
                           else target, method=method, json=body,
                           headers=headers_for(otra_empresa.id, own_key))
    assert_error(response, 403, "prohibido")


@pytest.mark.parametrize("path", ["/create_tickets", "/tickets/{id}/comentarios"])
def test_the_company_is_checked_before_the_body(client, db, path, empresa, otra_empresa, ticket,
                                                company_key):
    target = BASE + path.format(id=ticket.id)
    before = _state(db, ticket.soporte_suscripcion_id)
    for headers, status, code in [
        ({"X-API-Key": GLOBAL_KEY}, 400, "solicitud_invalida"),
        (headers_for(empresa.id, company_key(otra_empresa)), 403, "prohibido"),
        (headers_for(987_654), 404, "no_encontrado"),
    ]:
        for body in ({"campo_raro": 1}, {}):
            assert_error(client.post(target, json=body, headers=headers), status, code)
        response = client.post(target, data="{", headers={**headers,
                                                          "Content-Type": "application/json"})
        assert_error(response, status, code)
    assert _state(db, ticket.soporte_suscripcion_id) == before


# ---------------------------------------------------------------- create_tickets

def test_create_ticket(client, db, empresa, cliente, soporte_activo, internal_headers):
    metadata = {"origen": "saas", "version": 3, "extra": {"modulo": "facturas", "ids": [1, 2]},
                "nulo": None}
    response = client.post(f"{BASE}/create_tickets", headers=internal_headers,
                           json={**NUEVO, "usuario_id": cliente.id, "metadata": metadata})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == TICKET_KEYS
    assert (body["empresa_id"], body["titulo"], body["descripcion"]) == (
        empresa.id, NUEVO["titulo"], NUEVO["descripcion"])
    assert (body["estado"], body["prioridad"], body["usuario_id"]) == ("abierto", "alta", cliente.id)
    assert (body["asignado_a"], body["horas_invertidas"], body["cerrado_at"]) == (None, None, None)
    assert body["metadata"] == metadata
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")

    row = fresh(db, SoporteTicket, body["id"])
    assert (row.empresa_id, row.estado, row.prioridad, row.usuario_id, row.metadata_) == (
        empresa.id, EstadoTicket.ABIERTO, Prioridad.ALTA, cliente.id, metadata)
    assert row.soporte_suscripcion_id == soporte_activo.id
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 1

    detail = client.get(f"{BASE}/ticket_id/{body['id']}", headers=internal_headers).get_json()
    assert detail["metadata"] == metadata


def test_create_ticket_defaults(client, db, soporte_activo, internal_headers):
    response = client.post(f"{BASE}/create_tickets", headers=internal_headers,
                           json={"titulo": "t", "descripcion": "d"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["prioridad"], body["usuario_id"], body["metadata"]) == ("media", None, None)
    assert fresh(db, SoporteTicket, body["id"]).prioridad == Prioridad.MEDIA


def test_the_staff_and_the_internal_api_share_one_quota(client, db, empresa, admin_headers,
                                                        soporte_activo, internal_headers):
    assert client.post(f"{BASE}/create_tickets", headers=internal_headers,
                       json=NUEVO).status_code == 201
    assert client.post("/admin/soporte-tickets", headers=admin_headers,
                       json={"empresa_id": empresa.id, **NUEVO}).status_code == 201
    assert client.post(f"{BASE}/create_tickets", headers=internal_headers,
                       json=NUEVO).status_code == 201
    body = assert_error(client.post(f"{BASE}/create_tickets", headers=internal_headers, json=NUEVO),
                        403, "soporte_no_disponible")
    assert body["details"] == {"motivo": "cupo_tickets_agotado"}
    assert count(db, SoporteTicket) == 3
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 3
    status = client.get(f"{BASE}/status", headers=internal_headers).get_json()
    assert status["puede_crear_ticket"] is False and status["tickets"] == {
        "maximo": 3, "consumidos": 3, "disponibles": 0}


@pytest.mark.parametrize(("setup", "motivo"), [
    ("ninguno", "sin_suscripcion_soporte"),
    ("pendiente_pago", "pago_pendiente"),
    ("cancelado", "cancelado"),
    ("futuro", "fuera_de_vigencia"),
    ("plan_suspendido", "suscripcion_no_vigente"),
    ("empresa_inactiva", "suscripcion_no_vigente"),
])
def test_create_ticket_without_support_is_403_with_the_reason(
        client, db, empresa, plan_vigente, make_suscripcion, make_tipo, make_soporte,
        internal_headers, setup, motivo):
    suscripcion = make_suscripcion(empresa, plan_vigente,
                                   estado="suspendida" if setup == "plan_suspendido" else "activa")
    soporte = None
    if setup == "pendiente_pago":
        soporte = make_soporte(suscripcion, make_tipo(), estado=EstadoSoporte.PENDIENTE_PAGO)
    elif setup == "cancelado":
        soporte = make_soporte(suscripcion, make_tipo(), estado=EstadoSoporte.CANCELADO)
    elif setup == "futuro":
        hoy = utcnow().date()
        soporte = make_soporte(suscripcion, make_tipo(), fecha_inicio=hoy + timedelta(days=3),
                               fecha_fin=hoy + timedelta(days=30))
    elif setup in ("plan_suspendido", "empresa_inactiva"):
        soporte = make_soporte(suscripcion, make_tipo())
    if setup == "empresa_inactiva":
        empresa.estado = "inactiva"
        db.session.commit()
    body = assert_error(client.post(f"{BASE}/create_tickets", headers=internal_headers, json=NUEVO),
                        403, "soporte_no_disponible")
    assert body["details"] == {"motivo": motivo}
    assert count(db, SoporteTicket) == 0
    if soporte is not None:
        assert fresh(db, SoporteSuscripcion, soporte.id).tickets_consumidos == 0
    status = client.get(f"{BASE}/status", headers=internal_headers).get_json()
    assert (status["puede_crear_ticket"], status["motivo"]) == (False, motivo)


def test_create_ticket_for_a_user_of_another_company_is_422(client, db, otra_empresa, make_usuario,
                                                             soporte_activo, internal_headers):
    for usuario_id in (make_usuario(empresa_id=otra_empresa.id).id, make_usuario().id, 987_654):
        body = assert_error(client.post(f"{BASE}/create_tickets", headers=internal_headers,
                                        json={**NUEVO, "usuario_id": usuario_id}), 422, "validacion")
        assert list(body["details"]) == ["usuario_id"]
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"titulo", "descripcion"}),
    ({**NUEVO, "titulo": "  "}, {"titulo"}),
    ({**NUEVO, "titulo": "Asunto\nBcc: x@evil.com"}, {"titulo"}),
    ({**NUEVO, "titulo": "x" * 256}, {"titulo"}),
    ({**NUEVO, "descripcion": " "}, {"descripcion"}),
    ({**NUEVO, "prioridad": "critica"}, {"prioridad"}),
    ({**NUEVO, "metadata": "texto"}, {"metadata"}),
    ({**NUEVO, "usuario_id": "yo"}, {"usuario_id"}),
    ({**NUEVO, "empresa_id": 1}, {"empresa_id"}),  # the company is X-Empresa-Id, nothing else
    ({**NUEVO, "estado": "cerrado"}, {"estado"}),
    ({**NUEVO, "asignado_a": 1}, {"asignado_a"}),
    ({**NUEVO, "soporte_suscripcion_id": 1}, {"soporte_suscripcion_id"}),
])
def test_create_ticket_bad_values_and_unknown_fields_are_422(client, db, soporte_activo,
                                                             internal_headers, body, fields):
    response = client.post(f"{BASE}/create_tickets", headers=internal_headers, json=body)
    assert set(assert_error(response, 422, "validacion")["details"]) == fields
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0


def test_create_ticket_malformed_body_is_400(client, db, soporte_activo, internal_headers):
    for data in ('{"titulo": "t", ', "titulo=t"):
        response = client.post(f"{BASE}/create_tickets", data=data,
                               headers={**internal_headers, "Content-Type": "application/json"})
        assert_error(response, 400, "solicitud_invalida")
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0


# ---------------------------------------------------------------- reading

def test_list_only_the_company_tickets(client, empresa, otra_empresa, make_ticket, internal_headers,
                                       company_key):
    own = [make_ticket(empresa, estado=EstadoTicket.ABIERTO),
           make_ticket(empresa, estado=EstadoTicket.CERRADO, cerrado_at=utcnow()),
           make_ticket(empresa, estado=EstadoTicket.ABIERTO)]
    make_ticket(otra_empresa, estado=EstadoTicket.ABIERTO, titulo="Secreto de Otra")
    response = client.get(f"{BASE}/tickets", headers=internal_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["per_page"]) == (3, 1, 20)
    assert [i["id"] for i in body["items"]] == [t.id for t in reversed(own)]
    assert all(set(i) == TICKET_KEYS and i["empresa_id"] == empresa.id for i in body["items"])
    assert "Secreto de Otra" not in response.get_data(as_text=True)

    abiertos = client.get(f"{BASE}/tickets?estado=abierto", headers=internal_headers).get_json()
    assert [i["id"] for i in abiertos["items"]] == [own[2].id, own[0].id]
    page = client.get(f"{BASE}/tickets?per_page=2&page=2",
                      headers=headers_for(empresa.id, company_key(empresa))).get_json()
    assert [i["id"] for i in page["items"]] == [own[0].id] and page["total"] == 3
    otra = client.get(f"{BASE}/tickets", headers=headers_for(otra_empresa.id)).get_json()
    assert otra["total"] == 1 and otra["items"][0]["titulo"] == "Secreto de Otra"


@pytest.mark.parametrize(("query", "field"), [("estado=resuelto", "estado"), ("per_page=500", "per_page"),
                                              ("page=0", "page")])
def test_list_bad_filters_are_422(client, internal_headers, query, field):
    body = assert_error(client.get(f"{BASE}/tickets?{query}", headers=internal_headers), 422,
                        "validacion")
    assert list(body["details"]) == [field]


def test_ticket_detail_leaves_internal_notes_out(client, db, ticket, cliente, soporte_user,
                                                 internal_headers):
    respuesta = persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=soporte_user.id,
                                                    contenido="Ya lo vemos", es_admin=True))
    persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=soporte_user.id,
                                        contenido="NOTA-INTERNA cliente moroso", es_admin=True,
                                        interno=True))
    suyo = persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=cliente.id,
                                               contenido="Gracias"))
    archivo = persist(db, SoporteTicketArchivo(ticket_id=ticket.id, nombre="captura.png",
                                               storage_key="tickets/xyz", tamano=99,
                                               content_type="image/png", sha256="b" * 64))
    response = client.get(f"{BASE}/ticket_id/{ticket.id}", headers=internal_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == TICKET_KEYS | {"comentarios", "archivos"}
    assert body["id"] == ticket.id and body["titulo"] == ticket.titulo
    assert [c["id"] for c in body["comentarios"]] == [respuesta.id, suyo.id]
    assert all(set(c) == COMENTARIO_KEYS and c["interno"] is False for c in body["comentarios"])
    assert [(c["es_admin"], c["usuario_id"]) for c in body["comentarios"]] == [
        (True, soporte_user.id), (False, cliente.id)]
    assert [(a["id"], a["nombre"], a["tamano"]) for a in body["archivos"]] == [
        (archivo.id, "captura.png", 99)]
    text = response.get_data(as_text=True)
    assert "NOTA-INTERNA" not in text and "tickets/xyz" not in text
    # The staff still see the note.
    assert len(fresh(db, SoporteTicket, ticket.id).comentarios) == 3


def test_another_company_ticket_is_404_like_a_missing_one(client, empresa, ajeno, internal_headers,
                                                          company_key):
    missing = client.get(f"{BASE}/ticket_id/987654", headers=internal_headers)
    expected = assert_error(missing, 404, "no_encontrado")
    for headers in (internal_headers, headers_for(empresa.id, company_key(empresa))):
        response = client.get(f"{BASE}/ticket_id/{ajeno.id}", headers=headers)
        assert assert_error(response, 404, "no_encontrado") == expected
        assert "Secreto" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- comments

def test_company_comment(client, db, ticket, cliente, internal_headers):
    antes = fresh(db, SoporteTicket, ticket.id).updated_at
    response = client.post(f"{BASE}/tickets/{ticket.id}/comentarios", headers=internal_headers,
                           json={"contenido": "Sigue fallando", "usuario_id": cliente.id})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == COMENTARIO_KEYS
    assert (body["ticket_id"], body["contenido"], body["interno"], body["es_admin"],
            body["usuario_id"]) == (ticket.id, "Sigue fallando", False, False, cliente.id)
    anonymous = client.post(f"{BASE}/tickets/{ticket.id}/comentarios", headers=internal_headers,
                            json={"contenido": "Desde la instancia"})
    assert anonymous.status_code == 201 and anonymous.get_json()["usuario_id"] is None

    db.session.expire_all()
    rows = db.session.scalars(select(SoporteTicketComentario)
                              .order_by(SoporteTicketComentario.id)).all()
    assert [(r.ticket_id, r.contenido, r.interno, r.es_admin, r.usuario_id) for r in rows] == [
        (ticket.id, "Sigue fallando", False, False, cliente.id),
        (ticket.id, "Desde la instancia", False, False, None)]
    assert fresh(db, SoporteTicket, ticket.id).updated_at >= antes
    detail = client.get(f"{BASE}/ticket_id/{ticket.id}", headers=internal_headers).get_json()
    assert [c["contenido"] for c in detail["comentarios"]] == ["Sigue fallando", "Desde la instancia"]


def test_comment_on_another_company_ticket_is_404(client, db, ajeno, internal_headers):
    missing = assert_error(client.post(f"{BASE}/tickets/987654/comentarios",
                                       headers=internal_headers, json={"contenido": "x"}), 404)
    response = client.post(f"{BASE}/tickets/{ajeno.id}/comentarios", headers=internal_headers,
                           json={"contenido": "me meto"})
    assert assert_error(response, 404, "no_encontrado") == missing
    assert count(db, SoporteTicketComentario) == 0


@pytest.mark.parametrize(("body", "field"), [
    ({}, "contenido"), ({"contenido": ""}, "contenido"), ({"contenido": "  "}, "contenido"),
    ({"contenido": "x", "interno": True}, "interno"),    # a company never writes internal notes
    ({"contenido": "x", "es_admin": True}, "es_admin"),  # nor passes for staff
    ({"contenido": "x", "usuario_id": 0}, "usuario_id"),
])
def test_comment_bad_values_are_422(client, db, ticket, internal_headers, body, field):
    response = client.post(f"{BASE}/tickets/{ticket.id}/comentarios", headers=internal_headers,
                           json=body)
    assert list(assert_error(response, 422, "validacion")["details"]) == [field]
    assert count(db, SoporteTicketComentario) == 0


def test_comment_by_a_user_of_another_company_is_422(client, db, ticket, otra_empresa,
                                                     make_usuario, internal_headers):
    for usuario_id in (make_usuario(empresa_id=otra_empresa.id).id, 987_654):
        body = assert_error(client.post(f"{BASE}/tickets/{ticket.id}/comentarios",
                                        headers=internal_headers,
                                        json={"contenido": "x", "usuario_id": usuario_id}),
                            422, "validacion")
        assert list(body["details"]) == ["usuario_id"]
    assert count(db, SoporteTicketComentario) == 0


def test_comment_malformed_body_is_400(client, db, ticket, internal_headers):
    response = client.post(f"{BASE}/tickets/{ticket.id}/comentarios", data='{"contenido"',
                           headers={**internal_headers, "Content-Type": "application/json"})
    assert_error(response, 400, "solicitud_invalida")
    assert count(db, SoporteTicketComentario) == 0


# ---------------------------------------------------------------- status and health

def test_status(client, db, empresa, suscripcion_vigente, make_tipo, make_soporte,
                internal_headers):
    soporte = make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=5),
                           tickets_consumidos=2)
    response = client.get(f"{BASE}/status", headers=internal_headers)
    assert response.status_code == 200
    assert response.get_json() == {
        "puede_crear_ticket": True, "motivo": None, "modalidad": "por_tickets",
        "vigencia": {"desde": soporte.fecha_inicio.isoformat(), "hasta": soporte.fecha_fin.isoformat()},
        "tickets": {"maximo": 5, "consumidos": 2, "disponibles": 3},
        "horas": {"maximo": None, "consumidas": 0.0, "disponibles": None},
    }
    assert client.post(f"{BASE}/create_tickets", headers=internal_headers,
                       json=NUEVO).status_code == 201
    after = client.get(f"{BASE}/status", headers=internal_headers).get_json()
    assert after["tickets"] == {"maximo": 5, "consumidos": 3, "disponibles": 2}


def test_status_without_support(client, internal_headers):
    assert client.get(f"{BASE}/status", headers=internal_headers).get_json() == {
        "puede_crear_ticket": False, "motivo": "sin_suscripcion_soporte", "modalidad": None,
        "vigencia": {"desde": None, "hasta": None},
        "tickets": {"maximo": None, "consumidos": 0, "disponibles": None},
        "horas": {"maximo": None, "consumidas": 0.0, "disponibles": None},
    }


def test_health(client, empresa, internal_headers, company_key):
    for headers in (internal_headers, headers_for(empresa.id, company_key(empresa))):
        response = client.get(f"{BASE}/health", headers=headers)
        assert response.status_code == 200 and response.get_json() == {"status": "ok"}
