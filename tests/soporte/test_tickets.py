"""Tickets for staff: /admin/soporte-tickets (list and filters, opening through the quota,
detail, PATCH, the lifecycle table through PATCH and the action routes, closing with hours,
comments). Every answer is checked against the database and the audit trail."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.core.models import utcnow
from backend.identity.models import Rol
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
from tests.soporte.conftest import COMENTARIO_KEYS, TICKET_KEYS

URL = "/admin/soporte-tickets"
ESTADOS = ["abierto", "en_proceso", "pendiente_respuesta", "cerrado", "cancelado"]
# The lifecycle of DESIGN/the blueprint, written out here so the code's table is checked.
PERMITIDOS = {
    "abierto": {"en_proceso", "pendiente_respuesta", "cerrado", "cancelado"},
    "en_proceso": {"abierto", "pendiente_respuesta", "cerrado", "cancelado"},
    "pendiente_respuesta": {"abierto", "en_proceso", "cerrado", "cancelado"},
    "cerrado": {"abierto"},
    "cancelado": {"abierto"},
}
HACE_UN_DIA = datetime(2020, 1, 1, 12, 0, 0)


def url(*parts) -> str:
    return "/".join([URL, *(str(p) for p in parts)])


def fresh(db, model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def near_now(value: str | datetime | None) -> bool:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.removesuffix("Z"))
    return value is not None and abs(value - utcnow()) < timedelta(minutes=1)


@pytest.fixture(params=["admin", "soporte"])
def staff(request, admin, soporte_user, auth_headers):
    """(user, headers) of each kind of staff member allowed on these routes."""
    usuario = admin if request.param == "admin" else soporte_user
    return usuario, auth_headers(usuario)


@pytest.fixture
def otra_empresa(make_empresa):
    return make_empresa(nombre="Otra SA", email="contacto@otra.com")


@pytest.fixture
def ticket(empresa, soporte_activo, make_ticket):
    return make_ticket(empresa, soporte_activo)


def snapshot(db, ticket_id) -> tuple:
    """The columns a refused call must leave as they were."""
    t = fresh(db, SoporteTicket, ticket_id)
    return (t.estado, t.prioridad, t.asignado_a, t.cerrado_at, t.horas_invertidas, t.titulo,
            len(t.comentarios))


# ---------------------------------------------------------------- who may call

ROUTES = [("GET", ""), ("POST", ""), ("GET", "{id}"), ("PATCH", "{id}"),
          ("POST", "{id}/comentarios"), ("POST", "{id}/cerrar"), ("POST", "{id}/reabrir"),
          ("POST", "{id}/cancelar"), ("GET", "estadisticas")]
BODIES = {("POST", ""): "crear", ("PATCH", "{id}"): {"prioridad": "urgente"},
          ("POST", "{id}/comentarios"): {"contenido": "hola"}}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_401_and_customer_403_change_nothing(client, db, method, path, ticket, empresa,
                                                        cliente_headers, audit_rows):
    body = BODIES.get((method, path))
    if body == "crear":
        body = {"empresa_id": empresa.id, "titulo": "t", "descripcion": "d"}
    target = url(path.format(id=ticket.id)) if path else URL
    before = snapshot(db, ticket.id)
    anonymous = client.open(target, method=method, json=body)
    assert_error(anonymous, 401, "no_autenticado")
    customer = client.open(target, method=method, json=body, headers=cliente_headers)
    assert_error(customer, 403, "prohibido")
    assert snapshot(db, ticket.id) == before
    assert count(db, SoporteTicket) == 1
    assert fresh(db, SoporteSuscripcion, ticket.soporte_suscripcion_id).tickets_consumidos == 0
    assert audit_rows("soporte_tickets") == []


@pytest.mark.parametrize(("method", "path"), [r for r in ROUTES if "{id}" in r[1]])
def test_unknown_ticket_is_404(client, db, method, path, staff, soporte_activo):
    _, headers = staff
    body = BODIES.get((method, path))
    response = client.open(url(path.format(id=999_999)), method=method, json=body,
                           headers=headers)
    assert_error(response, 404, "no_encontrado")
    assert count(db, SoporteTicketComentario) == 0


# ---------------------------------------------------------------- list

@pytest.fixture
def listado(db, empresa, otra_empresa, soporte_user, make_ticket):
    """Four tickets of two companies, oldest first."""
    return [
        make_ticket(empresa, titulo="Error al facturar", descripcion="Sale un error 500.",
                    estado=EstadoTicket.ABIERTO, prioridad=Prioridad.MEDIA),
        make_ticket(empresa, titulo="Lentitud", descripcion="La FACTURA tarda minutos.",
                    estado=EstadoTicket.EN_PROCESO, prioridad=Prioridad.ALTA,
                    asignado_a=soporte_user.id),
        make_ticket(otra_empresa, titulo="Consulta", descripcion="¿Cómo exporto?",
                    estado=EstadoTicket.CERRADO, prioridad=Prioridad.URGENTE,
                    cerrado_at=HACE_UN_DIA),
        make_ticket(otra_empresa, titulo="Cupón del 50% no aplica", descripcion="Nada.",
                    estado=EstadoTicket.ABIERTO, prioridad=Prioridad.BAJA),
    ]


def _ids(response) -> list[int]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_list_newest_first_with_the_ticket_object(client, staff, listado):
    _, headers = staff
    response = client.get(URL, headers=headers)
    body = response.get_json()
    assert body["total"] == 4 and body["page"] == 1 and body["per_page"] == 20
    assert [i["id"] for i in body["items"]] == [t.id for t in reversed(listado)]
    assert all(set(item) == TICKET_KEYS for item in body["items"])
    cerrado = next(i for i in body["items"] if i["id"] == listado[2].id)
    assert cerrado["estado"] == "cerrado" and cerrado["prioridad"] == "urgente"
    assert cerrado["cerrado_at"] == "2020-01-01T12:00:00Z"


@pytest.mark.parametrize(("query", "expected"), [
    ("estado=abierto", [3, 0]),
    ("estado=cerrado", [2]),
    ("estado=cancelado", []),
    ("prioridad=alta", [1]),
    ("prioridad=urgente", [2]),
    ("empresa_id={otra}", [3, 2]),
    ("empresa_id={acme}&estado=abierto", [0]),
    ("asignado_a={soporte}", [1]),
    ("q=factur", [1, 0]),           # the title of one, the description (another case) of the other
    ("q=EXPORTO", [2]),
    ("q=50%25", [3, 0]),           # % separates words (never a wildcard): "50" begins "50", "500"
    ("q=_", []),                   # no word at all: nothing (never a wildcard)
    ("q=zzz", []),
])
def test_list_filters(client, staff, listado, empresa, otra_empresa, soporte_user, query,
                      expected):
    _, headers = staff
    query = query.format(otra=otra_empresa.id, acme=empresa.id, soporte=soporte_user.id)
    response = client.get(f"{URL}?{query}", headers=headers)
    assert _ids(response) == [listado[i].id for i in expected]
    assert response.get_json()["total"] == len(expected)


def test_list_pagination(client, staff, listado):
    _, headers = staff
    first = client.get(f"{URL}?per_page=3", headers=headers).get_json()
    second = client.get(f"{URL}?per_page=3&page=2", headers=headers).get_json()
    assert [i["id"] for i in first["items"]] == [t.id for t in reversed(listado[1:])]
    assert [i["id"] for i in second["items"]] == [listado[0].id]
    assert (first["total"], first["page"], first["per_page"]) == (4, 1, 3)
    assert (second["total"], second["page"], second["per_page"]) == (4, 2, 3)
    assert client.get(f"{URL}?page=3&per_page=3", headers=headers).get_json()["items"] == []


@pytest.mark.parametrize(("query", "field"), [
    ("estado=resuelto", "estado"), ("prioridad=maxima", "prioridad"), ("empresa_id=abc", "empresa_id"),
    ("empresa_id=0", "empresa_id"), ("asignado_a=-1", "asignado_a"), ("per_page=101", "per_page"),
    ("per_page=0", "per_page"), ("page=0", "page"), (f"q={'x' * 201}", "q"),
])
def test_list_bad_filters_are_422_naming_the_field(client, staff, listado, query, field):
    _, headers = staff
    body = assert_error(client.get(f"{URL}?{query}", headers=headers), 422, "validacion")
    assert field in body["details"]


# ---------------------------------------------------------------- opening

def test_staff_open_a_ticket_through_the_quota(client, db, staff, empresa, cliente, soporte_activo,
                                               audit_rows):
    usuario, headers = staff
    response = client.post(URL, headers=headers, json={
        "empresa_id": empresa.id, "titulo": "  No imprime  ", "descripcion": "La impresora falla.",
        "prioridad": "alta", "usuario_id": cliente.id, "metadata": {"origen": "telefono", "n": 2}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == TICKET_KEYS
    assert body["empresa_id"] == empresa.id and body["titulo"] == "No imprime"
    assert (body["estado"], body["prioridad"], body["usuario_id"]) == ("abierto", "alta", cliente.id)
    assert body["asignado_a"] is None and body["horas_invertidas"] is None
    assert body["cerrado_at"] is None and body["metadata"] == {"origen": "telefono", "n": 2}
    assert near_now(body["created_at"]) and body["created_at"].endswith("Z")

    row = fresh(db, SoporteTicket, body["id"])
    assert (row.empresa_id, row.titulo, row.descripcion, row.estado, row.prioridad) == (
        empresa.id, "No imprime", "La impresora falla.", EstadoTicket.ABIERTO, Prioridad.ALTA)
    assert row.usuario_id == cliente.id and row.metadata_ == {"origen": "telefono", "n": 2}
    assert row.soporte_suscripcion_id == soporte_activo.id
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 1

    rows = audit_rows("soporte_tickets", body["id"])
    assert [r.accion.value for r in rows] == ["crear"]
    assert rows[0].usuario_id == usuario.id
    assert rows[0].valores_nuevos["titulo"] == "No imprime"
    assert rows[0].valores_nuevos["estado"] == "abierto"


def test_open_defaults(client, db, admin_headers, empresa, soporte_activo):
    response = client.post(URL, headers=admin_headers, json={
        "empresa_id": empresa.id, "titulo": "Sin prioridad", "descripcion": "d"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["prioridad"], body["usuario_id"], body["metadata"]) == ("media", None, None)
    row = fresh(db, SoporteTicket, body["id"])
    assert row.prioridad == Prioridad.MEDIA and row.usuario_id is None and row.metadata_ is None


def test_opening_spends_the_quota_until_it_is_gone(client, db, admin_headers, empresa,
                                                   soporte_activo, audit_rows):
    body = {"empresa_id": empresa.id, "titulo": "t", "descripcion": "d"}
    for n in (1, 2, 3):
        assert client.post(URL, headers=admin_headers, json=body).status_code == 201
        assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == n
    refused = assert_error(client.post(URL, headers=admin_headers, json=body), 403,
                           "soporte_no_disponible")
    assert refused["details"] == {"motivo": "cupo_tickets_agotado"}
    assert count(db, SoporteTicket) == 3
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 3
    assert len(audit_rows("soporte_tickets")) == 3


@pytest.mark.parametrize(("setup", "motivo"), [
    ("none", "sin_suscripcion_soporte"),
    ("pendiente_pago", "pago_pendiente"),
    ("cancelado", "cancelado"),
    ("vencido", "vencido"),
])
def test_opening_without_support_is_403(client, db, admin_headers, empresa, suscripcion_vigente,
                                        make_tipo, make_soporte, setup, motivo, audit_rows):
    soporte = None
    if setup == "pendiente_pago":
        soporte = make_soporte(suscripcion_vigente, make_tipo(), estado=EstadoSoporte.PENDIENTE_PAGO)
    elif setup == "cancelado":
        soporte = make_soporte(suscripcion_vigente, make_tipo(), estado=EstadoSoporte.CANCELADO)
    elif setup == "vencido":
        soporte = make_soporte(suscripcion_vigente, make_tipo(),
                               fecha_inicio=utcnow().date() - timedelta(days=40),
                               fecha_fin=utcnow().date() - timedelta(days=10))
    response = client.post(URL, headers=admin_headers, json={
        "empresa_id": empresa.id, "titulo": "t", "descripcion": "d"})
    body = assert_error(response, 403, "soporte_no_disponible")
    assert body["details"]["motivo"] == motivo
    assert count(db, SoporteTicket) == 0
    if soporte is not None:
        assert fresh(db, SoporteSuscripcion, soporte.id).tickets_consumidos == 0
    assert audit_rows("soporte_tickets") == []


def test_open_for_a_user_of_another_company_or_an_unknown_company_is_422(
        client, db, admin_headers, empresa, otra_empresa, make_usuario, soporte_activo, audit_rows):
    ajeno = make_usuario(empresa_id=otra_empresa.id)
    cases = [
        ({"empresa_id": empresa.id, "usuario_id": ajeno.id}, "usuario_id"),
        ({"empresa_id": empresa.id, "usuario_id": 987_654}, "usuario_id"),
        ({"empresa_id": 987_654}, "empresa_id"),
    ]
    for extra, field in cases:
        response = client.post(URL, headers=admin_headers,
                               json={"titulo": "t", "descripcion": "d", **extra})
        body = assert_error(response, 422, "validacion")
        assert field in body["details"], (extra, body)
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0
    assert audit_rows("soporte_tickets") == []


E = "EMPRESA"  # replaced by the company's id


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"empresa_id", "titulo", "descripcion"}),
    ({"titulo": "t", "descripcion": "d"}, {"empresa_id"}),
    ({"empresa_id": "uno", "titulo": "t", "descripcion": "d"}, {"empresa_id"}),
    ({"empresa_id": 0, "titulo": "t", "descripcion": "d"}, {"empresa_id"}),
    ({"empresa_id": E, "titulo": "   ", "descripcion": "d"}, {"titulo"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "  \n "}, {"descripcion"}),
    ({"empresa_id": E, "titulo": "x" * 256, "descripcion": "d"}, {"titulo"}),
    ({"empresa_id": E, "titulo": 5, "descripcion": "d"}, {"titulo"}),
    ({"empresa_id": E, "titulo": "Uno\nBcc: x@evil.com", "descripcion": "d"}, {"titulo"}),
    ({"empresa_id": E, "titulo": "Uno\rDos", "descripcion": "d"}, {"titulo"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "prioridad": "maxima"}, {"prioridad"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "usuario_id": "x"}, {"usuario_id"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "estado": "cerrado"}, {"estado"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "asignado_a": 1}, {"asignado_a"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "horas_invertidas": 2},
     {"horas_invertidas"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "color": "rojo"}, {"color"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d", "metadata": [1, 2]}, {"metadata"}),
    ({"empresa_id": E, "titulo": "t", "descripcion": "d",
      "metadata": {f"k{i}": i for i in range(51)}}, {"metadata"}),
])
def test_open_with_bad_values_is_422_naming_the_fields(client, db, admin_headers, empresa,
                                                        soporte_activo, body, fields, audit_rows):
    body = {k: (empresa.id if v == E else v) for k, v in body.items()}
    response = client.post(URL, headers=admin_headers, json=body)
    details = assert_error(response, 422, "validacion")["details"]
    assert set(details) == fields, details
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0
    assert audit_rows("soporte_tickets") == []


def test_open_with_a_malformed_body_is_400(client, db, admin_headers, soporte_activo):
    for data in ('{"titulo": ', "[1, 2", "{'titulo': 'x'}", ""):
        response = client.post(URL, headers={**admin_headers, "Content-Type": "application/json"},
                               data=data)
        assert_error(response, 400, "solicitud_invalida")
    assert count(db, SoporteTicket) == 0
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0


@pytest.mark.parametrize("numero", ["NaN", "Infinity"])
def test_open_with_nan_is_400(client, db, admin_headers, empresa, soporte_activo, numero):
    data = (f'{{"empresa_id": {empresa.id}, "titulo": "t", "descripcion": "d", '
            f'"metadata": {{"x": {numero}}}}}')
    try:
        assert_error(client.post(URL, data=data, headers={**admin_headers,
                                                          "Content-Type": "application/json"}),
                     400, "solicitud_invalida")
    finally:
        assert count(db, SoporteTicket) == 0


# ---------------------------------------------------------------- detail

def test_detail_has_every_comment_and_file(client, db, staff, ticket, cliente, soporte_user):
    _, headers = staff
    publico = persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=soporte_user.id,
                                                  contenido="Lo revisamos", es_admin=True))
    nota = persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=soporte_user.id,
                                               contenido="Cliente difícil", es_admin=True,
                                               interno=True))
    suyo = persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=cliente.id,
                                               contenido="Gracias"))
    archivo = persist(db, SoporteTicketArchivo(ticket_id=ticket.id, nombre="log.txt",
                                               storage_key="k/abc", tamano=12,
                                               content_type="text/plain", sha256="a" * 64))
    response = client.get(url(ticket.id), headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == TICKET_KEYS | {"comentarios", "archivos"}
    assert body["id"] == ticket.id and body["titulo"] == "No puedo facturar"
    assert [c["id"] for c in body["comentarios"]] == [publico.id, nota.id, suyo.id]
    assert all(set(c) == COMENTARIO_KEYS for c in body["comentarios"])
    assert [(c["interno"], c["es_admin"], c["usuario_id"]) for c in body["comentarios"]] == [
        (False, True, soporte_user.id), (True, True, soporte_user.id), (False, False, cliente.id)]
    assert body["comentarios"][1]["contenido"] == "Cliente difícil"
    assert body["archivos"] == [{"id": archivo.id, "nombre": "log.txt", "tamano": 12,
                                 "content_type": "text/plain", "sha256": "a" * 64,
                                 "created_at": body["archivos"][0]["created_at"]}]
    assert "k/abc" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- PATCH

def test_patch_prioridad(client, db, staff, ticket, audit_rows):
    usuario, headers = staff
    response = client.patch(url(ticket.id), headers=headers, json={"prioridad": "urgente"})
    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) == TICKET_KEYS
    assert response.get_json()["prioridad"] == "urgente"
    assert fresh(db, SoporteTicket, ticket.id).prioridad == Prioridad.URGENTE
    rows = audit_rows("soporte_tickets", ticket.id)
    assert [(r.accion.value, r.valores_anteriores, r.valores_nuevos, r.usuario_id) for r in rows] == [
        ("actualizar", {"prioridad": "media"}, {"prioridad": "urgente"}, usuario.id)]


@pytest.mark.parametrize("rol", [Rol.ADMIN, Rol.SOPORTE])
def test_patch_assigns_to_active_staff_and_null_unassigns(client, db, admin, admin_headers, ticket,
                                                          make_usuario, rol, audit_rows):
    agente = make_usuario(rol=rol)
    response = client.patch(url(ticket.id), headers=admin_headers, json={"asignado_a": agente.id})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["asignado_a"] == agente.id
    assert fresh(db, SoporteTicket, ticket.id).asignado_a == agente.id
    assert client.get(f"{URL}?asignado_a={agente.id}", headers=admin_headers).get_json()["total"] == 1

    response = client.patch(url(ticket.id), headers=admin_headers, json={"asignado_a": None})
    assert response.status_code == 200 and response.get_json()["asignado_a"] is None
    assert fresh(db, SoporteTicket, ticket.id).asignado_a is None
    rows = audit_rows("soporte_tickets", ticket.id)
    assert [(r.valores_anteriores, r.valores_nuevos, r.usuario_id) for r in rows] == [
        ({"asignado_a": None}, {"asignado_a": agente.id}, admin.id),
        ({"asignado_a": agente.id}, {"asignado_a": None}, admin.id)]


@pytest.mark.parametrize("quien", ["cliente", "staff_inactivo", "desconocido", "cero"])
def test_patch_assign_to_anyone_else_is_422(client, db, admin_headers, soporte_activo, soporte_user,
                                            make_usuario, make_ticket, empresa, quien, audit_rows):
    ticket = make_ticket(empresa, soporte_activo, asignado_a=soporte_user.id)
    target = {"cliente": lambda: make_usuario(rol=Rol.CLIENTE, empresa_id=empresa.id).id,
              "staff_inactivo": lambda: make_usuario(rol=Rol.SOPORTE, is_active=False).id,
              "desconocido": lambda: 987_654, "cero": lambda: 0}[quien]()
    before = snapshot(db, ticket.id)
    response = client.patch(url(ticket.id), headers=admin_headers,
                            json={"asignado_a": target, "prioridad": "alta"})
    body = assert_error(response, 422, "validacion")
    assert list(body["details"]) == ["asignado_a"]
    assert snapshot(db, ticket.id) == before  # prioridad not changed either
    assert audit_rows("soporte_tickets") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"prioridad": "maxima"}, "prioridad"), ({"estado": "resuelto"}, "estado"),
    ({"titulo": "otro"}, "titulo"), ({"horas": 2}, "horas"), ({"empresa_id": 2}, "empresa_id"),
    ({"asignado_a": "x"}, "asignado_a"), ({"prioridad": None}, "prioridad"),
])
def test_patch_bad_values_and_unknown_fields_are_422(client, db, admin_headers, ticket, body,
                                                     field, audit_rows):
    before = snapshot(db, ticket.id)
    details = assert_error(client.patch(url(ticket.id), headers=admin_headers, json=body), 422,
                           "validacion")["details"]
    assert list(details) == [field]
    assert snapshot(db, ticket.id) == before
    assert audit_rows("soporte_tickets") == []


def test_patch_malformed_body_is_400(client, db, admin_headers, ticket):
    before = snapshot(db, ticket.id)
    response = client.patch(url(ticket.id), data='{"prioridad": "alta"',
                            headers={**admin_headers, "Content-Type": "application/json"})
    assert_error(response, 400, "solicitud_invalida")
    assert snapshot(db, ticket.id) == before


def test_patch_unknown_ticket_with_a_staff_assignee_is_404(client, db, admin, admin_headers):
    response = client.patch(url(424_242), headers=admin_headers,
                            json={"asignado_a": admin.id, "estado": "en_proceso"})
    assert_error(response, 404, "no_encontrado")


# ---------------------------------------------------------------- lifecycle

def _ticket_en(make_ticket, empresa, soporte, estado: str):
    return make_ticket(empresa, soporte, estado=EstadoTicket(estado),
                       cerrado_at=HACE_UN_DIA if estado == "cerrado" else None)


def _check_move(db, response, ticket_id, desde, hacia, ok, audit_rows, actor_id):
    row = fresh(db, SoporteTicket, ticket_id)
    if not ok:
        body = assert_error(response, 409, "conflicto")
        assert body["details"]["estado"] == desde
        assert (row.estado.value, row.cerrado_at) == (
            desde, HACE_UN_DIA if desde == "cerrado" else None)
        assert audit_rows("soporte_tickets") == []
        return
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == TICKET_KEYS and body["estado"] == hacia == row.estado.value
    if hacia == "cerrado" and desde != "cerrado":
        assert near_now(row.cerrado_at) and body["cerrado_at"].endswith("Z")
    elif hacia == "cerrado":
        assert row.cerrado_at == HACE_UN_DIA  # nothing moved
    else:
        assert row.cerrado_at is None and body["cerrado_at"] is None
    rows = audit_rows("soporte_tickets", ticket_id)
    if desde == hacia:
        assert rows == []
    else:
        assert len(rows) == 1 and rows[0].accion.value == "actualizar"
        assert rows[0].usuario_id == actor_id
        assert (rows[0].valores_anteriores["estado"], rows[0].valores_nuevos["estado"]) == (
            desde, hacia)


@pytest.mark.parametrize("desde", ESTADOS)
@pytest.mark.parametrize("hacia", ESTADOS)
def test_patch_estado_follows_the_table(client, db, soporte_user, soporte_headers, empresa,
                                        soporte_activo, make_ticket, desde, hacia, audit_rows):
    ticket = _ticket_en(make_ticket, empresa, soporte_activo, desde)
    response = client.patch(url(ticket.id), headers=soporte_headers, json={"estado": hacia})
    # Asking for the state it is in changes nothing and is not a move.
    ok = hacia in PERMITIDOS[desde] or hacia == desde
    _check_move(db, response, ticket.id, desde, hacia, ok, audit_rows, soporte_user.id)


ACCIONES = {"cerrar": "cerrado", "reabrir": "abierto", "cancelar": "cancelado"}
# An action always moves; reopening is for a closed or cancelled ticket only.
ACCIONES_DESDE = {"cerrar": {"abierto", "en_proceso", "pendiente_respuesta"},
                  "reabrir": {"cerrado", "cancelado"},
                  "cancelar": {"abierto", "en_proceso", "pendiente_respuesta"}}


@pytest.mark.parametrize("desde", ESTADOS)
@pytest.mark.parametrize("accion", list(ACCIONES))
def test_action_routes_follow_the_table(client, db, admin, admin_headers, empresa, soporte_activo,
                                        make_ticket, desde, accion, audit_rows):
    ticket = _ticket_en(make_ticket, empresa, soporte_activo, desde)
    hacia = ACCIONES[accion]
    response = client.post(url(ticket.id, accion), headers=admin_headers)
    ok = desde in ACCIONES_DESDE[accion]
    assert not ok or hacia in PERMITIDOS[desde]
    _check_move(db, response, ticket.id, desde, hacia, ok, audit_rows, admin.id)


def test_patch_estado_with_other_fields_in_one_change(client, db, admin, admin_headers, ticket,
                                                      audit_rows):
    response = client.patch(url(ticket.id), headers=admin_headers,
                            json={"estado": "en_proceso", "prioridad": "alta",
                                  "asignado_a": admin.id})
    assert response.status_code == 200, response.get_json()
    row = fresh(db, SoporteTicket, ticket.id)
    assert (row.estado, row.prioridad, row.asignado_a) == (EstadoTicket.EN_PROCESO, Prioridad.ALTA,
                                                           admin.id)
    rows = audit_rows("soporte_tickets", ticket.id)
    assert len(rows) == 1 and rows[0].valores_nuevos == {
        "estado": "en_proceso", "prioridad": "alta", "asignado_a": admin.id}


def test_refused_move_keeps_the_other_fields_of_the_patch(client, db, admin_headers, empresa,
                                                          soporte_activo, make_ticket):
    ticket = _ticket_en(make_ticket, empresa, soporte_activo, "cancelado")
    response = client.patch(url(ticket.id), headers=admin_headers,
                            json={"estado": "en_proceso", "prioridad": "urgente"})
    assert_error(response, 409, "conflicto")
    row = fresh(db, SoporteTicket, ticket.id)
    assert (row.estado, row.prioridad) == (EstadoTicket.CANCELADO, Prioridad.MEDIA)


def test_action_routes_refuse_unknown_fields_and_bad_json(client, db, admin_headers, ticket):
    before = snapshot(db, ticket.id)
    body = assert_error(client.post(url(ticket.id, "cerrar"), headers=admin_headers,
                                    json={"horas": 1, "motivo": "x"}), 422, "validacion")
    assert list(body["details"]) == ["motivo"]
    assert_error(client.post(url(ticket.id, "cerrar"), data="{",
                             headers={**admin_headers, "Content-Type": "application/json"}),
                 400, "solicitud_invalida")
    assert snapshot(db, ticket.id) == before


# ---------------------------------------------------------------- closing with hours

@pytest.fixture
def por_horas(suscripcion_vigente, make_tipo, make_soporte):
    return make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_HORAS,
                                                       max_horas=Decimal("10.00")))


def test_closing_por_horas_requires_hours(client, db, admin_headers, empresa, por_horas,
                                          make_ticket, audit_rows):
    ticket = make_ticket(empresa, por_horas, estado=EstadoTicket.EN_PROCESO)
    for call in (lambda: client.post(url(ticket.id, "cerrar"), headers=admin_headers),
                 lambda: client.post(url(ticket.id, "cerrar"), headers=admin_headers, json={}),
                 lambda: client.patch(url(ticket.id), headers=admin_headers,
                                      json={"estado": "cerrado"})):
        body = assert_error(call(), 422, "validacion")
        assert list(body["details"]) == ["horas"]
        row = fresh(db, SoporteTicket, ticket.id)
        assert (row.estado, row.cerrado_at, row.horas_invertidas) == (EstadoTicket.EN_PROCESO,
                                                                      None, None)
        assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("0.00")
    assert audit_rows("soporte_tickets") == []


@pytest.mark.parametrize("horas", [0, -1, "abc", True, 10_001, None, "NaN"])
def test_closing_with_bad_hours_is_422(client, db, admin_headers, empresa, por_horas, make_ticket,
                                       horas):
    ticket = make_ticket(empresa, por_horas)
    body = assert_error(client.post(url(ticket.id, "cerrar"), headers=admin_headers,
                                    json={"horas": horas}), 422, "validacion")
    assert list(body["details"]) == ["horas"]
    assert fresh(db, SoporteTicket, ticket.id).estado == EstadoTicket.ABIERTO
    assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("0.00")


def test_closing_por_horas_adds_the_hours_exactly_once(client, db, soporte_user, soporte_headers,
                                                       empresa, por_horas, make_ticket, audit_rows):
    ticket = make_ticket(empresa, por_horas, estado=EstadoTicket.EN_PROCESO)
    response = client.post(url(ticket.id, "cerrar"), headers=soporte_headers, json={"horas": 1.5})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["estado"] == "cerrado" and body["horas_invertidas"] == 1.5
    row = fresh(db, SoporteTicket, ticket.id)
    assert row.horas_invertidas == Decimal("1.50") and near_now(row.cerrado_at)
    assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("1.50")
    rows = audit_rows("soporte_tickets", ticket.id)
    assert len(rows) == 1 and rows[0].valores_nuevos["horas_invertidas"] == 1.5
    assert rows[0].usuario_id == soporte_user.id

    again = client.post(url(ticket.id, "cerrar"), headers=soporte_headers, json={"horas": 2})
    assert_error(again, 409, "conflicto")
    assert fresh(db, SoporteTicket, ticket.id).horas_invertidas == Decimal("1.50")
    assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("1.50")
    # PATCH to the state it is in is no second close either.
    assert client.patch(url(ticket.id), headers=soporte_headers,
                        json={"estado": "cerrado"}).status_code == 200
    assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("1.50")
    assert len(audit_rows("soporte_tickets", ticket.id)) == 1

    # Reopened and closed again: a new close records its own hours.
    assert client.post(url(ticket.id, "reabrir"), headers=soporte_headers).status_code == 200
    row = fresh(db, SoporteTicket, ticket.id)
    assert row.cerrado_at is None and row.horas_invertidas == Decimal("1.50")
    response = client.post(url(ticket.id, "cerrar"), headers=soporte_headers, json={"horas": "2.25"})
    assert response.status_code == 200 and response.get_json()["horas_invertidas"] == 3.75
    assert fresh(db, SoporteTicket, ticket.id).horas_invertidas == Decimal("3.75")
    assert fresh(db, SoporteSuscripcion, por_horas.id).horas_consumidas == Decimal("3.75")


def test_hours_recorded_spend_the_hours_quota(client, db, admin_headers, empresa, por_horas,
                                              make_ticket):
    ticket = make_ticket(empresa, por_horas)
    assert client.post(url(ticket.id, "cerrar"), headers=admin_headers,
                       json={"horas": 10}).status_code == 200
    status = client.get(f"{URL}/disponibilidad/{empresa.id}", headers=admin_headers).get_json()
    assert status["puede_crear_ticket"] is False and status["motivo"] == "cupo_horas_agotado"
    assert status["horas"] == {"maximo": 10.0, "consumidas": 10.0, "disponibles": 0.0}
    refused = client.post(URL, headers=admin_headers,
                          json={"empresa_id": empresa.id, "titulo": "t", "descripcion": "d"})
    assert assert_error(refused, 403, "soporte_no_disponible")["details"]["motivo"] == \
        "cupo_horas_agotado"
    assert count(db, SoporteTicket) == 1


def test_closing_other_modalities_needs_no_hours_and_records_given_ones(
        client, db, admin_headers, empresa, soporte_activo, make_ticket):
    sin_horas = make_ticket(empresa, soporte_activo)
    response = client.post(url(sin_horas.id, "cerrar"), headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["horas_invertidas"] is None
    con_horas = make_ticket(empresa, soporte_activo)
    response = client.post(url(con_horas.id, "cerrar"), headers=admin_headers, json={"horas": 0.5})
    assert response.status_code == 200 and response.get_json()["horas_invertidas"] == 0.5
    assert fresh(db, SoporteTicket, con_horas.id).horas_invertidas == Decimal("0.50")
    assert fresh(db, SoporteTicket, sin_horas.id).horas_invertidas is None
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 0


def test_reopen_and_cancel_give_no_quota_back(client, db, admin_headers, empresa, soporte_activo):
    created = client.post(URL, headers=admin_headers,
                          json={"empresa_id": empresa.id, "titulo": "t", "descripcion": "d"})
    ticket_id = created.get_json()["id"]
    assert client.post(url(ticket_id, "cancelar"), headers=admin_headers).status_code == 200
    assert client.post(url(ticket_id, "reabrir"), headers=admin_headers).status_code == 200
    assert fresh(db, SoporteSuscripcion, soporte_activo.id).tickets_consumidos == 1
    assert fresh(db, SoporteTicket, ticket_id).estado == EstadoTicket.ABIERTO


# ---------------------------------------------------------------- comments

def test_staff_reply_and_internal_note(client, db, staff, ticket, audit_rows):
    usuario, headers = staff
    antes = fresh(db, SoporteTicket, ticket.id).updated_at
    response = client.post(url(ticket.id, "comentarios"), headers=headers,
                           json={"contenido": "Ya está corregido."})
    assert response.status_code == 201, response.get_json()
    reply = response.get_json()
    assert set(reply) == COMENTARIO_KEYS
    assert (reply["ticket_id"], reply["contenido"], reply["interno"], reply["es_admin"],
            reply["usuario_id"]) == (ticket.id, "Ya está corregido.", False, True, usuario.id)
    assert near_now(reply["created_at"])

    response = client.post(url(ticket.id, "comentarios"), headers=headers,
                           json={"contenido": "Revisar el log", "interno": True})
    assert response.status_code == 201
    note = response.get_json()
    assert (note["interno"], note["es_admin"], note["usuario_id"]) == (True, True, usuario.id)

    db.session.expire_all()
    rows = db.session.scalars(select(SoporteTicketComentario)
                              .order_by(SoporteTicketComentario.id)).all()
    assert [(r.id, r.ticket_id, r.contenido, r.interno, r.es_admin, r.usuario_id) for r in rows] == [
        (reply["id"], ticket.id, "Ya está corregido.", False, True, usuario.id),
        (note["id"], ticket.id, "Revisar el log", True, True, usuario.id)]
    assert fresh(db, SoporteTicket, ticket.id).updated_at >= antes
    assert fresh(db, SoporteTicket, ticket.id).estado == EstadoTicket.ABIERTO


def test_staff_comment_writes_an_audit_row(client, admin, admin_headers, ticket, audit_rows):
    response = client.post(url(ticket.id, "comentarios"), headers=admin_headers,
                           json={"contenido": "Nota", "interno": True})
    assert response.status_code == 201
    rows = audit_rows("soporte_ticket_comentarios", response.get_json()["id"])
    assert [(r.accion.value, r.usuario_id, r.valores_nuevos["contenido"]) for r in rows] == [
        ("crear", admin.id, "Nota")]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "contenido"), ({"contenido": ""}, "contenido"), ({"contenido": "   "}, "contenido"),
    ({"contenido": "x" * 10_001}, "contenido"), ({"contenido": "a", "es_admin": False}, "es_admin"),
    ({"contenido": "a", "usuario_id": 1}, "usuario_id"), ({"contenido": "a", "interno": "tal vez"},
                                                         "interno"),
])
def test_comment_bad_values_are_422(client, db, admin_headers, ticket, body, field):
    details = assert_error(client.post(url(ticket.id, "comentarios"), headers=admin_headers,
                                       json=body), 422, "validacion")["details"]
    assert list(details) == [field]
    assert count(db, SoporteTicketComentario) == 0


def test_comment_malformed_body_is_400(client, db, admin_headers, ticket):
    response = client.post(url(ticket.id, "comentarios"), data="contenido=hola",
                           headers={**admin_headers, "Content-Type": "application/json"})
    assert_error(response, 400, "solicitud_invalida")
    assert count(db, SoporteTicketComentario) == 0
