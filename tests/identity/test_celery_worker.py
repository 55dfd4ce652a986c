"""An email sent through the API travels through Redis to a real Celery worker, which
delivers it over SMTP to the sink."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from celery import current_app as current_celery_app

from tests.conftest import PASSWORD
from tests.identity.conftest import post

BROKER_URL = "redis://127.0.0.1:6379/11"
# A queue of this run only: a worker left over from another run on the same Redis database
# must not take (and deliver elsewhere) the task this test waits for.
QUEUE = f"auth-tests-{os.getpid()}-{uuid.uuid4().hex[:8]}"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def celery_over_redis(app):
    """The app's Celery publishes to Redis (not eager) for this test only. It is made the
    current Celery app too: `send_email` queues through the current one, and every app an
    earlier test created (create_app) took that place with its own, eager, Celery."""
    client = redis.Redis.from_url(BROKER_URL)
    client.flushdb()  # db 11 belongs to these tests; drop leftovers of an aborted run
    client.close()
    celery_app = app.extensions["celery"]
    previous = current_celery_app._get_current_object()
    before = {key: celery_app.conf[key]
              for key in ("broker_url", "task_always_eager", "task_default_queue")}
    celery_app.conf.update(broker_url=BROKER_URL, task_always_eager=False, task_default_queue=QUEUE)
    _forget_connections(celery_app)
    celery_app.set_current()
    yield
    celery_app.conf.update(before)
    _forget_connections(celery_app)
    previous.set_current()


def _forget_connections(celery_app) -> None:
    """Drop the connection and producer pools Celery built for the broker it had before (an
    eager call builds them too): they would keep publishing to the old broker."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(smtp_sink, tmp_path, app):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'worker.db'}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"],
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER_URL,
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp_sink.port),
        "SMTP_USE_TLS": "false",
        "SMTP_USE_SSL": "false",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    with open(tmp_path / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend.worker", "worker", "--pool=solo",
             "--concurrency=1", "--loglevel=info", "-Q", QUEUE, "-n", f"auth-tests-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        yield process
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.integration
def test_activation_email_delivered_by_a_real_worker(client, mailbox, celery_over_redis, worker, tmp_path):
    response = post(client, "/auth/registro", {"nombre": "Ana", "email": "ana@example.com",
                                               "password": PASSWORD})
    assert response.status_code == 201, response.get_json()
    assert mailbox.messages == []  # queued, not sent in-process
    try:
        message = mailbox.wait_for("ana@example.com", timeout=45)
    except AssertionError:
        raise AssertionError((tmp_path / "worker.log").read_text(errors="replace")[-3000:]) from None
    assert worker.poll() is None  # the worker is the one that delivered it
    assert message["Subject"] == "Código de activación de su cuenta"
    code = mailbox.code("ana@example.com")
    confirm = post(client, "/auth/registro/confirmar-otp",
                   {"registro_token": response.get_json()["registro_token"], "code": code})
    assert confirm.status_code == 200, confirm.get_json()
    assert confirm.get_json()["usuario"]["email_verificado"] is True
