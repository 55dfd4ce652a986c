"""Rate-limit counters live in Redis: two app servers (separate gunicorn processes) share
one budget instead of each granting its own."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.identity.conftest import free_port
from tests.servers import stop

ROOT = Path(__file__).resolve().parents[2]
LIMITER_URL = "redis://127.0.0.1:6379/11"  # the identity tests' own Redis database


def _wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-3000:])
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or slow to answer under load
            time.sleep(0.2)
    raise AssertionError(f"server on {port} did not start: " + log.read_text(errors="replace")[-3000:])


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn app servers on one SQLite file and one Redis limiter store."""
    client = redis.Redis.from_url(LIMITER_URL)
    client.flushdb()
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "RATELIMIT_STORAGE_URI": LIMITER_URL, "AUTH_RATE_IP": "4/minute", "LOG_DIR": "",
           "MAIL_OUTBOX_DIR": str(tmp_path / "outbox")}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    servers = []
    for n in range(2):
        port = free_port()
        log = tmp_path / f"server{n}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        servers.append((port, process, log))
    try:
        for port, process, log in servers:
            _wait_until_up(port, process, log)
        yield [port for port, _, _ in servers]
    finally:
        for _, process, _ in servers:
            stop(process)
        client.flushdb()
        client.close()


@pytest.mark.integration
def test_login_limit_is_shared_by_two_app_servers(two_servers):
    first, second = two_servers
    body = {"email": "nadie@example.com", "password": "Incorrecta#1"}
    statuses = []
    for attempt in range(6):  # alternate servers: each alone would still be under 4/minute
        port = first if attempt % 2 == 0 else second
        response = requests.post(f"http://127.0.0.1:{port}/auth/login", json=body, timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.json()["error"] == "demasiadas_solicitudes"
            assert int(response.headers["Retry-After"]) > 0
    assert statuses == [401, 401, 401, 401, 429, 429]
    keys = redis.Redis.from_url(LIMITER_URL).keys("LIMITS*")
    assert keys, "the counters must be in Redis"
