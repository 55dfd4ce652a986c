"""A live deployment for the end-to-end tests: `flask db upgrade` + `flask seed` on a fresh
database, then gunicorn with two workers, real SMTP (an aiosmtpd sink), Redis for the rate
limits and the licence cache, eager Celery. Everything is driven over HTTP only.

Database: a fresh SQLite file under tmp_path; when DATABASE_URL is MySQL/MariaDB (the CI
MariaDB pass), a throwaway database `<name>_e2e_<random>` next to it, created by
`flask db upgrade` itself and dropped at the end.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.servers import APP_SETTINGS, free_port, stop

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/10"
ADMIN_EMAIL = "e2e-admin@example.com"
ADMIN_PASSWORD = "E2e#Admin-2024"
DEMO_NIT = "800555111-2"
SAAS_API_KEY = "e2e-global-" + secrets.token_hex(8)
START_TIMEOUT = 30.0



@pytest.fixture(autouse=True)
def _clean_tables():
    """Overrides tests/conftest.py's: these tests never touch the in-process app or its tables."""
    yield




# ---------------------------------------------------------------- SMTP sink

class _Sink:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted"


class Mailbox:
    def __init__(self, sink: _Sink):
        self._sink = sink

    def to(self, address: str) -> list[EmailMessage]:
        with self._sink.lock:
            return [m for m in self._sink.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> EmailMessage:
        """The `count`-th email to `address`, polling (bounded) while it is on its way."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.to(address)
            if len(found) >= count:
                return found[count - 1]
            assert time.monotonic() < deadline, f"no email #{count} to {address} within {timeout}s"
            time.sleep(0.05)

    @staticmethod
    def text(message: EmailMessage) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture(scope="module")
def mailbox():
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield Mailbox(sink), controller.port
    finally:
        controller.stop()


# ---------------------------------------------------------------- database

def _database(tmp: Path):
    """The URL of a fresh database, a function that drops it and one that says it exists."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("mysql"):
        path = tmp / "e2e.db"
        return f"sqlite:///{path}", lambda: None, path.exists
    parsed = make_url(base)
    name = f"{parsed.database}_e2e_{secrets.token_hex(4)}"
    url = parsed.set(database=name).render_as_string(hide_password=False)

    def drop():
        engine = create_engine(parsed._replace(database=None), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        finally:
            engine.dispose()

    def exists() -> bool:
        engine = create_engine(parsed._replace(database=None))
        try:
            with engine.connect() as conn:
                return conn.execute(text("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"),
                                    {"n": name}).first() is not None
        finally:
            engine.dispose()

    assert not exists()
    return url, drop, exists


# ---------------------------------------------------------------- the live server

@dataclass
class Live:
    base_url: str
    log_dir: Path
    mailbox: Mailbox
    database_url: str
    redis: redis.Redis
    access_log: Path | None = None
    responses: list = field(default_factory=list, repr=False)

    def session(self) -> requests.Session:
        """A client session; every response is checked for X-Request-ID and, when it is an
        error, for the JSON envelope."""
        session = requests.Session()
        session.hooks["response"].append(self._check)
        return session

    def _check(self, response, *args, **kwargs):
        self.responses.append(response)
        where = f"{response.request.method} {response.request.url}"
        assert response.headers.get("X-Request-ID"), f"no X-Request-ID on {where}"
        if response.status_code >= 400:
            body = response.json()
            assert isinstance(body.get("error"), str) and isinstance(body.get("message"), str), (
                f"{where} {response.status_code}: not the error envelope: {body}")

    def url(self, path: str) -> str:
        return self.base_url + path

    def workers_that_served(self, marker: str, expected: int, timeout: float = 5.0) -> set[str]:
        """The gunicorn worker pids whose access-log lines contain `marker`, once `expected`
        such lines are written (gunicorn logs just after sending the response)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [line for line in self.access_log.read_text().splitlines() if marker in line]
            if len(lines) >= expected or time.monotonic() > deadline:
                assert len(lines) >= expected, f"{len(lines)}/{expected} access-log lines for {marker}"
                return {line.split()[0] for line in lines}
            time.sleep(0.05)


def _run(args: list[str], env: dict) -> str:
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _wait_healthy(url: str, process: subprocess.Popen, stderr_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{stderr_path.read_text()}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or workers still booting
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn not healthy within {START_TIMEOUT}s:\n{stderr_path.read_text()}")


@pytest.fixture(scope="module")
def live(tmp_path_factory, mailbox):
    tmp = tmp_path_factory.mktemp("e2e")
    database_url, drop_database, database_exists = _database(tmp)
    box, smtp_port = mailbox
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS and not k.startswith("DB_")}
    env.update({
        "APP_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "SAAS_API_KEY": SAAS_API_KEY,
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DEMO_EMPRESA_NIT": DEMO_NIT,
        "LOG_DIR": str(tmp / "logs"),
        "UPLOAD_FOLDER": str(tmp / "uploads"),
        "LICENSE_SIGNING_KEY_PATH": str(tmp / "keys" / "license_ed25519.pem"),
        "LOCATION_DB_PATH": str(tmp / "location.sqlite3"),
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "SMTP_SERVER": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_USE_TLS": "false",
        "SENDER_EMAIL": "no-reply@e2e.example.com",
        "REDIS_URL": REDIS_URL,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "LICENSE_CACHE_SECONDS": "30",
        "FLASK_APP": "wsgi",
        # The browser reaches this server over plain HTTP on loopback: a Secure cookie (the
        # production default) would never be sent back.
        "SESSION_COOKIE_SECURE": "false",
    })
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    server = None
    try:
        _run(["flask", "--app", "wsgi", "db", "upgrade"], env)
        assert database_exists(), f"`flask db upgrade` did not create {database_url}"
        assert "admin creado" in _run(["flask", "--app", "wsgi", "seed"], env)
        # Production refuses to serve without the licence signing key: made once, as a deploy step.
        assert "Clave de firma creada" in _run(["flask", "--app", "wsgi", "licence-key", "create"], env)
        stderr_path, access_log = tmp / "gunicorn.stderr", tmp / "access.log"
        with open(stderr_path, "wb") as stderr:
            server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                 # the worker pid on each line tells which process answered
                 "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(q)s %(s)s",
                 "wsgi:app"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        base_url = f"http://127.0.0.1:{port}"
        _wait_healthy(base_url, server, stderr_path)
        yield Live(base_url=base_url, log_dir=tmp / "logs", mailbox=box,
                   database_url=database_url, redis=store, access_log=access_log)
    finally:
        if server is not None:
            stop(server, timeout=15)
        store.flushdb()
        store.close()
        drop_database()
