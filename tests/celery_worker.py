"""A real Celery worker for the tests that must see a mail leave through Redis: the app's
Celery switched to a Redis broker on a queue of this run only (so no other worker on the
same Redis takes the task), and `celery -A backend.worker worker` started against the same
database and the SMTP sink."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery import current_app as current_celery_app

from tests.servers import stop

ROOT = Path(__file__).resolve().parents[1]
_REDIS_BASE = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]


def broker_url(db: int) -> str:
    return f"{_REDIS_BASE}/{db}"


def queue_name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _forget_connections(celery_app) -> None:
    """Drop the connection and producer pools Celery built for the broker it had before (an
    eager call builds them too): they would keep publishing to the old broker."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def publishing_to_redis(app, broker: str, queue: str) -> Iterator[None]:
    """The app's Celery publishes to `broker`/`queue` (not eager) meanwhile, as the current
    Celery app (every app an earlier test created took that place with its own, eager one)."""
    client = redis.Redis.from_url(broker)
    client.delete(queue)
    client.close()
    celery_app = app.extensions["celery"]
    previous = current_celery_app._get_current_object()
    before = {key: celery_app.conf[key]
              for key in ("broker_url", "task_always_eager", "task_default_queue")}
    celery_app.conf.update(broker_url=broker, task_always_eager=False, task_default_queue=queue)
    _forget_connections(celery_app)
    celery_app.set_current()
    try:
        yield
    finally:
        celery_app.conf.update(before)
        _forget_connections(celery_app)
        previous.set_current()
        client = redis.Redis.from_url(broker)
        client.delete(queue)
        client.close()


@contextmanager
def running_worker(app, smtp_port: int, tmp_path: Path, broker: str, queue: str,
                   name: str) -> Iterator[subprocess.Popen]:
    """A worker process on `queue`, delivering over SMTP to `smtp_port`; its output goes to
    tmp_path/worker.log. Stopped (then killed) at the end."""
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'worker.db'}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "JWT_SECRET_KEY": app.config["JWT_SECRET_KEY"],
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_USE_TLS": "false",
        "SMTP_USE_SSL": "false",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "LOG_DIR": str(tmp_path / "logs"),
    }
    with open(tmp_path / "worker.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend.worker", "worker", "--pool=solo",
             "--concurrency=1", "--loglevel=info", "-Q", queue, "-n", f"{name}-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            stop(process)


def fixtures(db: int, prefix: str):
    """The `celery_over_redis` and `worker` fixtures of a test module: its own Redis database
    `db` and a queue named after `prefix` (assign both names in the module)."""
    broker, queue = broker_url(db), queue_name(prefix)

    @pytest.fixture
    def celery_over_redis(app):
        with publishing_to_redis(app, broker, queue):
            yield

    @pytest.fixture
    def worker(smtp_sink, tmp_path, app):
        with running_worker(app, smtp_sink.port, tmp_path, broker, queue, prefix) as process:
            yield process

    return celery_over_redis, worker
