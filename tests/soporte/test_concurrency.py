"""Concurrency on MariaDB (the run with DATABASE_URL=mysql...): the check and the consumption of
the support quota are one atomic step, a request that loses a race for the lock is retried by
the server, and closing a ticket records its hours exactly once.

Real threads, each with its own test client (so each request has its own app context, session
and connection); every thread is joined with a timeout and every test asserts on the database.
SQLite serialises writers on its own and has no row locks, so these tests are only defined
(not skipped) when DATABASE_URL names MySQL/MariaDB.
"""
from __future__ import annotations

import os
import threading
import time
from decimal import Decimal
from io import BytesIO

import pytest
from sqlalchemy import event, func, select, text

from backend import create_app
from backend.extensions import db as _db
from backend.soporte.files import MAX_TICKET_BYTES
from backend.soporte.models import (
    EstadoTicket,
    Modalidad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTicketArchivo,
)
from backend.soporte.storage import LocalStorage
from tests.concurrency import Call, run_concurrently, statuses
from tests.conftest import make_config, persist

MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")
THREADS = 20

def internal_create(headers: dict, n: int) -> Call:
    def call(client):
        return client.post("/api/internal/support/create_tickets", headers=headers,
                           json={"titulo": f"Ticket {n}", "descripcion": "Concurrente",
                                 "prioridad": "alta"})
    return call


def admin_create(headers: dict, empresa_id: int, n: int) -> Call:
    def call(client):
        return client.post("/admin/soporte-tickets", headers=headers,
                           json={"empresa_id": empresa_id, "titulo": f"Ticket staff {n}",
                                 "descripcion": "Concurrente"})
    return call


def fresh_counts(db, empresa_id: int, soporte_id: int) -> tuple[int, int]:
    """(ticket rows of the company, tickets_consumidos) read in a new transaction."""
    db.session.rollback()  # never a REPEATABLE READ snapshot taken before the threads ran
    tickets = db.session.scalar(select(func.count()).select_from(SoporteTicket)
                                .where(SoporteTicket.empresa_id == empresa_id))
    consumidos = db.session.scalar(select(SoporteSuscripcion.tickets_consumidos)
                                   .where(SoporteSuscripcion.id == soporte_id))
    return tickets, consumidos


def assert_refused_for_quota(response) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "soporte_no_disponible", body
    assert body["details"]["motivo"] == "cupo_tickets_agotado", body


@pytest.fixture
def ultimo_ticket(suscripcion_vigente, make_tipo, make_soporte):
    """The `empresa` fixture's por_tickets support with exactly one ticket left (5 of 6 spent)."""
    return make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=6),
                        tickets_consumidos=5)


@pytest.fixture
def cupo_amplio(suscripcion_vigente, make_tipo, make_soporte):
    """The `empresa` fixture's por_tickets support with 100 tickets, none spent."""
    return make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=100))


@pytest.fixture
def lock_timeout_app(tmp_path):
    """An app on the same database whose connections give up a row-lock wait after 1 s."""
    config = make_config(UPLOAD_FOLDER=str(tmp_path / "uploads"),
                         MAIL_OUTBOX_DIR=str(tmp_path / "outbox"),
                         LOCATION_DB_PATH=str(tmp_path / "location.sqlite3"),
                         LICENSE_SIGNING_KEY_PATH=str(tmp_path / "license.pem"))
    config.SQLALCHEMY_ENGINE_OPTIONS = {
        **config.SQLALCHEMY_ENGINE_OPTIONS,
        "connect_args": {"init_command": "SET SESSION innodb_lock_wait_timeout=1"},
    }
    app = create_app(config)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


if MYSQL:

    def test_twenty_concurrent_requests_for_the_last_ticket_open_exactly_one(
            app, db, empresa, ultimo_ticket, internal_headers):
        empresa_id, soporte_id = empresa.id, ultimo_ticket.id
        responses = run_concurrently(app, [internal_create(internal_headers, n) for n in range(THREADS)])

        assert statuses(responses) == [201] + [403] * (THREADS - 1), \
            [(r.status_code, r.get_data(as_text=True)[:200]) for r in responses]
        for response in responses:
            if response.status_code == 403:
                assert_refused_for_quota(response)
        [ganador] = [r.get_json() for r in responses if r.status_code == 201]
        assert ganador["empresa_id"] == empresa_id
        assert fresh_counts(db, empresa_id, soporte_id) == (1, 6)  # the maximum, never past it
        assert db.session.scalar(select(SoporteTicket.id)) == ganador["id"]

    def test_the_last_ticket_raced_by_staff_and_the_internal_api_opens_exactly_one(
            app, db, empresa, ultimo_ticket, internal_headers, admin_headers, soporte_headers):
        empresa_id, soporte_id = empresa.id, ultimo_ticket.id
        calls = []
        for n in range(THREADS):
            if n % 2 == 0:
                calls.append(internal_create(internal_headers, n))
            else:
                calls.append(admin_create(admin_headers if n % 4 == 1 else soporte_headers,
                                          empresa_id, n))
        responses = run_concurrently(app, calls)

        assert statuses(responses) == [201] + [403] * (THREADS - 1), \
            [(r.status_code, r.get_data(as_text=True)[:200]) for r in responses]
        for response in responses:
            if response.status_code == 403:
                assert_refused_for_quota(response)
        assert fresh_counts(db, empresa_id, soporte_id) == (1, 6)

    def test_twenty_concurrent_creations_with_quota_left_all_succeed(
            app, db, empresa, cupo_amplio, internal_headers, admin_headers):
        empresa_id, soporte_id = empresa.id, cupo_amplio.id
        calls = [internal_create(internal_headers, n) if n % 2 else admin_create(admin_headers,
                                                                                   empresa_id, n)
                 for n in range(THREADS)]
        responses = run_concurrently(app, calls)

        assert statuses(responses) == [201] * THREADS, \
            [(r.status_code, r.get_data(as_text=True)[:200]) for r in responses]
        assert len({r.get_json()["id"] for r in responses}) == THREADS
        assert fresh_counts(db, empresa_id, soporte_id) == (THREADS, THREADS)

    def test_a_request_that_loses_the_lock_race_is_retried_by_the_server(
            app, db, empresa, cupo_amplio, internal_headers, lock_timeout_app):
        empresa_id, soporte_id = empresa.id, cupo_amplio.id
        db.session.rollback()
        with lock_timeout_app.app_context():
            engine = _db.engine
            with engine.connect() as conn:
                assert conn.scalar(text("SELECT @@SESSION.innodb_lock_wait_timeout")) == 1
        lock_timeouts = []

        def count_lock_timeouts(context) -> None:
            args = getattr(context.original_exception, "args", ())
            if args and args[0] == 1205:
                lock_timeouts.append(time.monotonic())

        event.listen(engine, "handle_error", count_lock_timeouts)
        holder = _db.engine.connect()  # the suite's app (its context is current): default timeout
        try:
            transaction = holder.begin()
            holder.execute(text("SELECT id FROM soporte_suscripciones WHERE id = :id FOR UPDATE"),
                           {"id": soporte_id})
            result: dict = {}

            def request() -> None:
                started = time.monotonic()
                result["response"] = lock_timeout_app.test_client().post(
                    "/api/internal/support/create_tickets", headers=internal_headers,
                    json={"titulo": "Bloqueado", "descripcion": "Espera el candado"})
                result["seconds"] = time.monotonic() - started

            thread = threading.Thread(target=request, daemon=True)
            thread.start()
            time.sleep(2.5)  # more than two lock waits of 1 s: the first attempts time out
            assert thread.is_alive(), result
            transaction.rollback()
            thread.join(30)
            assert not thread.is_alive(), "the request never finished"
        finally:
            holder.close()
            event.remove(engine, "handle_error", count_lock_timeouts)

        response = result["response"]
        assert response.status_code == 201, response.get_data(as_text=True)
        assert lock_timeouts, "the request never lost a lock wait: the test proved nothing"
        assert result["seconds"] >= 2.4
        assert fresh_counts(db, empresa_id, soporte_id) == (1, 1)

    def test_closing_a_por_horas_ticket_twice_at_once_records_the_hours_once(
            app, db, empresa, suscripcion_vigente, make_tipo, make_soporte, make_ticket,
            admin_headers, soporte_headers):
        soporte = make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_HORAS, max_horas=Decimal("100")),
                               horas_consumidas=Decimal("1.00"))
        soporte_id = soporte.id
        estados = [EstadoTicket.ABIERTO, EstadoTicket.EN_PROCESO, EstadoTicket.PENDIENTE_RESPUESTA,
                   EstadoTicket.ABIERTO, EstadoTicket.EN_PROCESO]
        ticket_ids = [make_ticket(empresa, soporte, estado=estado).id for estado in estados]

        for ticket_id in ticket_ids:
            responses = run_concurrently(app, [
                lambda c, t=ticket_id, h=headers: c.post(f"/admin/soporte-tickets/{t}/cerrar",
                                                         headers=h, json={"horas": 2.5})
                for headers in (admin_headers, soporte_headers)])
            assert statuses(responses) == [200, 409], \
                [(r.status_code, r.get_data(as_text=True)[:300]) for r in responses]
            [cerrado] = [r.get_json() for r in responses if r.status_code == 200]
            assert (cerrado["estado"], cerrado["horas_invertidas"]) == ("cerrado", 2.5)
            [conflicto] = [r.get_json() for r in responses if r.status_code == 409]
            assert conflicto["error"] == "conflicto"

        db.session.rollback()
        horas = db.session.scalar(select(SoporteSuscripcion.horas_consumidas)
                                  .where(SoporteSuscripcion.id == soporte_id))
        assert horas == Decimal("1.00") + Decimal("2.50") * len(ticket_ids)
        filas = db.session.execute(select(SoporteTicket.estado, SoporteTicket.horas_invertidas)
                                   .where(SoporteTicket.id.in_(ticket_ids))).all()
        assert sorted(filas) == [(EstadoTicket.CERRADO, Decimal("2.50"))] * len(ticket_ids)

    def test_concurrent_uploads_never_take_a_ticket_past_fifty_mib(
            app, db, empresa, soporte_activo, make_ticket, internal_headers, admin_headers,
            tmp_path):
        ticket = make_ticket(empresa, soporte_activo)
        ticket_id = ticket.id
        persist(db, SoporteTicketArchivo(
            ticket_id=ticket_id, nombre="previo.zip", tamano=MAX_TICKET_BYTES - 25,
            storage_key=f"tickets/{ticket_id}/{'0' * 32}", sha256="0" * 64,
            content_type="application/zip"))
        previous = app.extensions["storage"]
        root = tmp_path / "uploads"
        app.extensions["storage"] = LocalStorage(str(root))
        try:
            calls = []
            for n in range(THREADS):
                url = (f"/admin/soporte-tickets/{ticket_id}/archivos" if n % 2 else
                       f"/api/internal/support/tickets/{ticket_id}/upload")
                headers = admin_headers if n % 2 else internal_headers
                calls.append(lambda c, u=url, h=headers, n=n: c.post(
                    u, headers=h, content_type="multipart/form-data",
                    data={"file": (BytesIO(b"linea %02d\n" % n), f"parte{n}.log")}))
            responses = run_concurrently(app, calls)
        finally:
            app.extensions["storage"] = previous

        # 25 bytes were left: two files of 9 bytes fit, a third would not.
        assert statuses(responses) == [201] * 2 + [413] * (THREADS - 2), \
            [(r.status_code, r.get_data(as_text=True)[:200]) for r in responses]
        db.session.rollback()
        total = db.session.scalar(select(func.sum(SoporteTicketArchivo.tamano))
                                  .where(SoporteTicketArchivo.ticket_id == ticket_id))
        assert total == MAX_TICKET_BYTES - 25 + 18
        stored = [p for p in root.rglob("*") if p.is_file()]
        assert len(stored) == 2
