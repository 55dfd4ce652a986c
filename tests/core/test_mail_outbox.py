"""A mail that could not be queued is kept and sent later (core.mail_outbox): with the Celery
broker or the mail server down, `/account/password/request-code` answers as before and the
rendered mail is kept encrypted; `flask mail flush` (the Celery beat task, too) delivers it to a
real SMTP server once, retries with backoff, gives up after MAX_ATTEMPTS or when its code is
dead, and two flushes at the same time (MariaDB) send each mail once."""
from __future__ import annotations

import json
import os
import re
import socket
import threading
from datetime import UTC, timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from celery import Celery
from sqlalchemy import select

from backend.core import crypto, mail_outbox
from backend.core.mail import notify
from backend.core.mail_outbox import CorreoPendiente
from backend.core.models import utcnow
from backend.core.tasks import flush_mail_outbox_task
from tests.identity.conftest import Mailbox, SinkHandler, free_port

MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")


@pytest.fixture(scope="module")
def sink():
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield Mailbox(handler, controller.port)
    controller.stop()


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app, sink, monkeypatch):
    """`smtp.up()` points the app at the sink, `smtp.down()` at a port nobody listens on."""
    monkeypatch.setitem(app.config, "SMTP_USE_TLS", False)
    monkeypatch.setitem(app.config, "SMTP_USE_SSL", False)
    monkeypatch.setitem(app.config, "SMTP_SERVER", "127.0.0.1")
    dead = _dead_port()

    class Switch:
        def up(self):
            app.config["SMTP_PORT"] = sink.port

        def down(self):
            app.config["SMTP_PORT"] = dead

    switch = Switch()
    switch.up()
    sink.clear()
    yield switch
    sink.clear()


@pytest.fixture(autouse=True)
def app_celery(app):
    """The app's own (eager) Celery is the current one: a Celery app made by an earlier test
    took that place when it was created."""
    celery_app = app.extensions["celery"]
    celery_app.set_default()
    celery_app.set_current()
    return celery_app


@pytest.fixture
def broker_down(app_celery):
    """A real Celery app (not eager) whose Redis broker is a port nobody listens on."""
    broken = Celery("broker-down", broker="redis://127.0.0.1:1/0")
    broken.conf.update(broker_connection_timeout=1, task_publish_retry=False)
    broken.set_default()
    broken.set_current()

    class Broker:
        def back(self):
            app_celery.set_default()
            app_celery.set_current()

    broker = Broker()
    try:
        yield broker
    finally:
        broker.back()


def _rows(db) -> list[CorreoPendiente]:
    db.session.commit()  # a new snapshot (MariaDB): the rows were written on other connections
    return list(db.session.scalars(select(CorreoPendiente).order_by(CorreoPendiente.id)))


def _code(message) -> str:
    return re.search(r"\b(\d{6})\b", Mailbox.text(message)).group(1)


def _request_code(client, make_usuario, auth_headers, email="ana@example.com"):
    usuario = make_usuario(email=email)
    response = client.post("/account/password/request-code", headers=auth_headers(usuario))
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"message": "Enviamos un código a su correo."}
    return usuario


def _flush(runner) -> str:
    result = runner.invoke(args=["mail", "flush"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("outage", ["broker", "smtp"])
def test_mail_kept_encrypted_while_down_and_sent_once_when_back(request, client, db, runner, sink,
                                                                smtp, make_usuario, auth_headers,
                                                                caplog, outage):
    broker = request.getfixturevalue("broker_down") if outage == "broker" else None
    if broker is None:
        smtp.down()
    usuario = _request_code(client, make_usuario, auth_headers)
    assert sink.messages == []

    [row] = _rows(db)
    assert (row.plantilla, row.ref, row.intentos) == ("codigo_password", f"usuario {usuario.id}", 0)
    assert "ana@example.com" not in row.mensaje_enc and "Subject" not in row.mensaje_enc
    kept = json.loads(crypto.decrypt(row.mensaje_enc))
    assert kept["to"] == "ana@example.com" and kept["text"] and kept["html"]
    # A code mail is worth sending only while the code lives (10 minutes).
    assert timedelta(minutes=9) < row.expires_at - row.created_at <= timedelta(minutes=10)
    assert row.created_at <= utcnow()
    code = re.search(r"\b(\d{6})\b", kept["text"]).group(1)
    assert code not in caplog.text and "ana@example.com" not in caplog.text

    if broker is not None:
        broker.back()
    smtp.up()
    assert "1 enviados" in _flush(runner)
    [message] = sink.to("ana@example.com")
    assert _code(message) == code and message["Subject"] == kept["subject"]
    assert _rows(db) == []
    assert "0 enviados" in _flush(runner)
    assert len(sink.messages) == 1
    # The code kept is the live one: it authorises the change.
    response = client.post("/account/password/verify-code", json={"code": code},
                           headers=auth_headers(usuario))
    assert response.status_code == 200, response.get_json()


def test_failed_flush_backs_off_then_gives_up(app, db, smtp, sink, caplog):
    smtp.down()
    with app.test_request_context():
        assert notify("bo@example.com", "otp_activado", ref="usuario 99", nombre="Bo") is False
    [row] = _rows(db)
    # No code in it: kept a day.
    assert abs(row.expires_at - row.created_at - mail_outbox.MAX_AGE) < timedelta(seconds=5)

    result = mail_outbox.flush()
    assert (result.sent, result.retried) == (0, 1)
    [row] = _rows(db)
    assert row.intentos == 1 and row.ultimo_error == "ConnectionRefusedError"
    assert row.claimed_until is None
    assert timedelta(seconds=55) < row.next_attempt_at - utcnow() <= timedelta(minutes=1)
    assert mail_outbox.flush().retried == 0  # not due yet

    for attempt in range(2, mail_outbox.MAX_ATTEMPTS + 1):
        now = row.next_attempt_at + timedelta(seconds=1)
        with time_machine.travel(now.replace(tzinfo=UTC), tick=False):
            result = mail_outbox.flush()
        [row] = _rows(db) or [None]
        if attempt < mail_outbox.MAX_ATTEMPTS:
            assert result.retried == 1 and row.intentos == attempt
            # 1, 2, 4... minutes, at most an hour
            assert row.next_attempt_at - now == mail_outbox.backoff(attempt)
        else:
            assert result.dropped == 1 and row is None
    assert "given up" in caplog.text and "usuario 99" in caplog.text
    smtp.up()
    assert mail_outbox.flush().sent == 0 and sink.messages == []


def test_code_mail_past_its_code_life_is_dropped_unsent(client, db, runner, smtp, sink,
                                                        make_usuario, auth_headers, broker_down):
    _request_code(client, make_usuario, auth_headers)
    [row] = _rows(db)
    with time_machine.travel((row.expires_at + timedelta(seconds=1)).replace(tzinfo=UTC),
                             tick=False):
        assert "1 descartados" in _flush(runner)
    assert _rows(db) == [] and sink.messages == []


def test_unreadable_row_is_dropped(app, db, smtp, sink):
    with app.test_request_context():
        mail_outbox.keep({"to": "x@example.com", "subject": "s", "text": "t"}, "otp_activado",
                         "usuario 1")
    db.session.execute(CorreoPendiente.__table__.update().values(mensaje_enc="not-a-token"))
    db.session.commit()
    assert mail_outbox.flush().dropped == 1
    assert _rows(db) == [] and sink.messages == []


def test_beat_runs_the_flush_every_minute(app, db, smtp, sink):
    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["flush-mail-outbox"] == {"task": "backend.flush_mail_outbox", "schedule": 60.0}
    mail_outbox.keep({"to": "beat@example.com", "subject": "s", "text": "t", "html": None},
                     "otp_activado", "usuario 2")
    flush_mail_outbox_task.delay()  # eager here: the worker runs the same function
    assert len(sink.to("beat@example.com")) == 1 and _rows(db) == []


if MYSQL:
    def test_concurrent_flushes_send_each_mail_once(app, db, smtp, sink):
        count, flushers = 12, 4
        for n in range(count):
            mail_outbox.keep({"to": f"c{n}@example.com", "subject": f"s{n}", "text": "t",
                              "html": None}, "otp_activado", f"usuario {n}")
        barrier = threading.Barrier(flushers, timeout=30)
        results, errors = [], []

        def run():
            with app.app_context():
                try:
                    barrier.wait()
                    results.append(mail_outbox.flush())
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run, daemon=True) for _ in range(flushers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors and len(results) == flushers
        assert sum(r.sent for r in results) == count
        assert sorted(m["To"] for m in sink.messages) == sorted(f"c{n}@example.com"
                                                                 for n in range(count))
        assert _rows(db) == []
