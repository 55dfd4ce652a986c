"""/admin/soporte-tickets/estadisticas: tickets by state, priority and company, the average
hours to the first staff answer and to closing (times made exact with time-machine), the
filters, and a number of SQL statements that does not grow with the tickets."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from backend.core.models import utcnow
from backend.soporte.models import EstadoTicket, Modalidad, Prioridad, SoporteTicketComentario
from tests.conftest import assert_error, persist

URL = "/admin/soporte-tickets"
STATS = f"{URL}/estadisticas"
CEROS_ESTADO = {"abierto": 0, "en_proceso": 0, "pendiente_respuesta": 0, "cerrado": 0,
                "cancelado": 0}
CEROS_PRIORIDAD = {"baja": 0, "media": 0, "alta": 0, "urgente": 0}
KEYS = {"total", "por_estado", "por_prioridad", "por_empresa", "horas_promedio_primera_respuesta",
        "horas_promedio_cierre"}


@pytest.fixture
def otra_empresa(make_empresa):
    return make_empresa(nombre="Otra SA")


@pytest.fixture
def soportes(empresa, otra_empresa, suscripcion_vigente, plan_vigente, make_suscripcion,
             make_tipo, make_soporte):
    """Both companies may open ten tickets."""
    tipo = make_tipo(Modalidad.POR_TICKETS, max_tickets=10)
    return (make_soporte(suscripcion_vigente, tipo),
            make_soporte(make_suscripcion(otra_empresa, plan_vigente), tipo))


@pytest.fixture
def at(auth_headers, admin):
    """`with at(t0, hours) as headers:` the clock stands still at t0 + hours, and the admin
    signs in then (a token issued at another time would have expired or not yet be valid)."""

    @contextmanager
    def travel(t0: datetime, hours: float = 0):
        with time_machine.travel(t0 + timedelta(hours=hours), tick=False):
            yield auth_headers(admin)

    return travel


def _t0() -> datetime:
    """A whole hour after now (UTC), so every step falls inside the support period."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=1)


def _ok(response, status=200) -> dict:
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_empty(client, admin_headers):
    body = _ok(client.get(STATS, headers=admin_headers))
    assert body == {"total": 0, "por_estado": CEROS_ESTADO, "por_prioridad": CEROS_PRIORIDAD,
                    "por_empresa": [], "horas_promedio_primera_respuesta": None,
                    "horas_promedio_cierre": None}


def test_counts_and_average_times(client, db, at, soporte_headers, empresa, otra_empresa,
                                  soportes, internal_headers):
    t0 = _t0()

    def abrir(headers, empresa_id, prioridad):
        return _ok(client.post(URL, headers=headers, json={
            "empresa_id": empresa_id, "titulo": "t", "descripcion": "d", "prioridad": prioridad}),
            201)["id"]

    def comentar(headers, ticket_id, interno=False):
        _ok(client.post(f"{URL}/{ticket_id}/comentarios", headers=headers,
                        json={"contenido": "r", "interno": interno}), 201)

    with at(t0) as h:
        t1 = abrir(h, empresa.id, "alta")
    with at(t0, 1) as h:
        t2 = abrir(h, empresa.id, "media")
        comentar(h, t1, interno=True)  # an internal note is no answer
    with at(t0, 1.5):
        # nor is the company's own comment
        _ok(client.post(f"/api/internal/support/tickets/{t1}/comentarios",
                        headers=internal_headers, json={"contenido": "¿novedades?"}), 201)
    with at(t0, 2) as h:
        comentar(h, t1)  # first answer to t1: 2 h
    with at(t0, 3) as h:
        t3 = abrir(h, otra_empresa.id, "urgente")
    with at(t0, 4) as h:
        comentar(h, t1)  # a later answer changes nothing
    with at(t0, 4.5) as h:
        comentar(h, t2)  # first answer to t2: 3.5 h
    with at(t0, 5) as h:
        _ok(client.post(f"{URL}/{t1}/cerrar", headers=h))  # closed after 5 h
    with at(t0, 10) as h:
        _ok(client.post(f"{URL}/{t2}/cerrar", headers=h))  # closed after 9 h
        _ok(client.post(f"{URL}/{t3}/cancelar", headers=h))  # cancelled: not a close
    with at(t0, 11) as h:
        t4 = abrir(h, otra_empresa.id, "baja")
        comentar(h, t4, interno=True)

    body = _ok(client.get(STATS, headers=soporte_headers))
    assert set(body) == KEYS
    assert body["total"] == 4
    assert body["por_estado"] == {**CEROS_ESTADO, "abierto": 1, "cerrado": 2, "cancelado": 1}
    assert body["por_prioridad"] == {"baja": 1, "media": 1, "alta": 1, "urgente": 1}
    assert body["por_empresa"] == [
        {"empresa_id": empresa.id, "nombre": "Acme SAS", "total": 2},
        {"empresa_id": otra_empresa.id, "nombre": "Otra SA", "total": 2}]
    assert body["horas_promedio_primera_respuesta"] == 2.75  # (2 + 3.5) / 2
    assert body["horas_promedio_cierre"] == 7.0  # (5 + 9) / 2

    acme = _ok(client.get(f"{STATS}?empresa_id={empresa.id}", headers=soporte_headers))
    assert acme["total"] == 2 and acme["por_empresa"] == [
        {"empresa_id": empresa.id, "nombre": "Acme SAS", "total": 2}]
    assert (acme["horas_promedio_primera_respuesta"], acme["horas_promedio_cierre"]) == (2.75, 7.0)
    otra = _ok(client.get(f"{STATS}?empresa_id={otra_empresa.id}", headers=soporte_headers))
    assert otra["por_estado"] == {**CEROS_ESTADO, "abierto": 1, "cancelado": 1}
    assert otra["por_prioridad"] == {**CEROS_PRIORIDAD, "baja": 1, "urgente": 1}
    assert (otra["horas_promedio_primera_respuesta"], otra["horas_promedio_cierre"]) == (None, None)

    # The comments really are where the figures say (not an artefact of the clock).
    db.session.expire_all()
    firsts = [c.created_at for c in db.session.query(SoporteTicketComentario)
              .filter_by(ticket_id=t1, es_admin=True, interno=False)
              .order_by(SoporteTicketComentario.id)]
    assert firsts == [(t0 + timedelta(hours=2)).replace(tzinfo=None),
                      (t0 + timedelta(hours=4)).replace(tzinfo=None)]


def test_reopened_ticket_counts_its_last_close(client, at, admin_headers, empresa, soportes):
    t0 = _t0()
    with at(t0) as h:
        ticket_id = _ok(client.post(URL, headers=h, json={
            "empresa_id": empresa.id, "titulo": "t", "descripcion": "d"}), 201)["id"]
    with at(t0, 1) as h:
        _ok(client.post(f"{URL}/{ticket_id}/cerrar", headers=h))
    with at(t0, 2) as h:
        _ok(client.post(f"{URL}/{ticket_id}/reabrir", headers=h))
    body = _ok(client.get(STATS, headers=admin_headers))
    assert body["horas_promedio_cierre"] is None  # open again: no close to count
    with at(t0, 6) as h:
        _ok(client.post(f"{URL}/{ticket_id}/cerrar", headers=h))
    assert _ok(client.get(STATS, headers=admin_headers))["horas_promedio_cierre"] == 6.0


def test_date_filters_are_inclusive_utc_days(client, admin_headers, empresa, make_ticket):
    for when in (datetime(2024, 3, 1, 10), datetime(2024, 3, 2, 0, 0), datetime(2024, 3, 2, 23, 59, 59),
                 datetime(2024, 3, 3, 0, 0)):
        make_ticket(empresa, created_at=when, updated_at=when)

    def total(query):
        return _ok(client.get(f"{STATS}?{query}", headers=admin_headers))["total"]

    assert total("desde=2024-03-02&hasta=2024-03-02") == 2
    assert total("desde=2024-03-02") == 3
    assert total("hasta=2024-03-01") == 1
    assert total("desde=2024-03-01&hasta=2024-03-03") == 4
    assert total("desde=2024-03-04") == 0
    assert total(f"desde=2024-03-01&empresa_id={empresa.id + 1}") == 0


def test_close_times_follow_the_date_filter(client, admin_headers, empresa, make_ticket):
    make_ticket(empresa, created_at=datetime(2024, 3, 1, 10), estado=EstadoTicket.CERRADO,
                cerrado_at=datetime(2024, 3, 1, 12), prioridad=Prioridad.ALTA)
    make_ticket(empresa, created_at=datetime(2024, 3, 5, 10), estado=EstadoTicket.CERRADO,
                cerrado_at=datetime(2024, 3, 5, 20))
    body = _ok(client.get(f"{STATS}?hasta=2024-03-01", headers=admin_headers))
    assert body["horas_promedio_cierre"] == 2.0
    assert body["por_prioridad"] == {**CEROS_PRIORIDAD, "alta": 1}
    assert _ok(client.get(STATS, headers=admin_headers))["horas_promedio_cierre"] == 6.0


@pytest.mark.parametrize(("query", "field"), [
    ("empresa_id=abc", "empresa_id"), ("empresa_id=0", "empresa_id"), ("desde=2024-13-01", "desde"),
    ("hasta=ayer", "hasta"), ("desde=2024-03-05&hasta=2024-03-01", "hasta"),
])
def test_bad_filters_are_422(client, admin_headers, query, field):
    body = assert_error(client.get(f"{STATS}?{query}", headers=admin_headers), 422, "validacion")
    assert list(body["details"]) == [field]


def test_anonymous_and_customers_are_refused(client, cliente_headers):
    assert_error(client.get(STATS), 401, "no_autenticado")
    assert_error(client.get(STATS, headers=cliente_headers), 403, "prohibido")


def _many_tickets(db, make_empresa, make_ticket, admin, n_empresas: int, per_empresa: int):
    base = utcnow() - timedelta(days=2)
    for e in range(n_empresas):
        empresa = make_empresa()
        for i in range(per_empresa):
            cerrado = i % 2 == 0
            ticket = make_ticket(empresa, created_at=base, prioridad=list(Prioridad)[i % 4],
                                 estado=EstadoTicket.CERRADO if cerrado else EstadoTicket.ABIERTO,
                                 cerrado_at=base + timedelta(hours=e + i) if cerrado else None)
            for h in (1, 2):
                persist(db, SoporteTicketComentario(ticket_id=ticket.id, usuario_id=admin.id,
                                                    contenido="r", es_admin=True,
                                                    created_at=base + timedelta(hours=h)))


def test_constant_number_of_statements(client, db, admin, admin_headers, make_empresa,
                                       make_ticket, count_queries):
    def measure() -> int:
        with count_queries() as counter:
            body = _ok(client.get(STATS, headers=admin_headers))
        return counter["n"], body

    measure()  # warm-up: anything done once per session or process
    _many_tickets(db, make_empresa, make_ticket, admin, 1, 1)
    few, body = measure()
    assert body["total"] == 1
    _many_tickets(db, make_empresa, make_ticket, admin, 12, 5)
    many, body = measure()
    assert body["total"] == 61 and len(body["por_empresa"]) == 13
    assert body["horas_promedio_primera_respuesta"] == 1.0
    assert many == few
    assert few <= 12, few
