"""A mail that cannot be queued never fails the answer: `/account/password/request-code` goes
through the one notify path of core.mail (logged with the user id, answered as usual), whether
the Celery broker is down or the mail server refuses the connection."""
from __future__ import annotations

import logging
import socket

import pytest
from celery import Celery
from sqlalchemy import select

from backend.identity.models import CodigoEmail, PropositoCodigo


@pytest.fixture
def broker_down(app):
    """A real Celery app (not eager) whose Redis broker is a port nobody listens on."""
    broken = Celery("broker-down", broker="redis://127.0.0.1:1/0")
    broken.conf.update(broker_connection_timeout=1, task_publish_retry=False)
    broken.set_default()
    try:
        yield
    finally:
        app.extensions["celery"].set_default()


@pytest.fixture
def smtp_down(app, monkeypatch):
    """Eager Celery delivering to an SMTP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setitem(app.config, "SMTP_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    monkeypatch.setitem(app.config, "SMTP_USE_TLS", False)


@pytest.fixture
def auth_errors():
    """ERROR records of the `backend.auth` log during the test."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = records.append
    logger = logging.getLogger("backend.auth")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@pytest.mark.parametrize("outage", ["broker_down", "smtp_down"])
def test_request_code_answers_202_when_the_mail_cannot_be_queued(request, client, db, make_usuario,
                                                                 auth_headers, auth_errors, outage):
    request.getfixturevalue(outage)
    usuario = make_usuario(email="ana@example.com")
    response = client.post("/account/password/request-code", headers=auth_headers(usuario))
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"message": "Enviamos un código a su correo."}
    db.session.expire_all()
    codes = db.session.scalars(select(CodigoEmail).where(
        CodigoEmail.usuario_id == usuario.id,
        CodigoEmail.proposito == PropositoCodigo.CAMBIO_PASSWORD)).all()
    assert len(codes) == 1 and codes[0].used_at is None  # the user may ask again
    [logged] = [r for r in auth_errors if f"usuario {usuario.id} " in r.getMessage()]
    assert "codigo_password" in logged.getMessage() and "ana@example.com" not in logged.getMessage()
