"""What the tests (and bench/startup.py) that start processes of their own (gunicorn, Celery,
mail sinks) share: a free port, the names of every setting the app reads, to clear from an
inherited environment, an app process's environment, gunicorn started and polled until its
first answer, and what /proc says of a process (memory, CPU, waits for a CPU)."""
from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL, ADMIN_PASSWORD = "startup-admin@example.com", "Startup#Admin-2024"
SAAS_API_KEY = "startup-global-" + secrets.token_hex(8)

# Every setting the app reads (backend/config.py): cleared from the inherited environment so a
# developer's shell cannot change what a test deploys; each test sets its own.
_CONFIG_SOURCE = (ROOT / "backend" / "config.py").read_text(encoding="utf-8")
APP_SETTINGS = set(re.findall(r'_(?:env|bool|int|list)\("([A-Z][A-Z0-9_]+)"', _CONFIG_SOURCE)) | {
    "LOG_DIR", "APP_ENV", "DATABASE_URL"}


def free_port() -> int:
    """A TCP port nothing listens on right now (127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a process the test started: SIGTERM, and SIGKILL if it has not ended in `timeout`
    seconds (nothing when it has ended already)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time spent by `pid` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def runqueue_seconds(pid: int) -> float | None:
    """Time the threads of `pid` spent ready to run but waiting for a CPU (schedstat's second
    field); None when the kernel does not keep it."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return total / 1e9


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def app_env(tmp: Path, database_url: str, **extra: str) -> dict:
    """The environment of an app process: development settings (instance secrets given), its
    own logs, uploads and keys under `tmp`; nothing inherited from the developer's shell."""
    env = {k: v for k, v in os.environ.items() if k not in APP_SETTINGS}
    env.update({
        "APP_ENV": "development", "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_hex(32), "JWT_SECRET_KEY": secrets.token_hex(32),
        "SAAS_API_KEY": SAAS_API_KEY, "ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "LOG_DIR": str(tmp / "logs"), "UPLOAD_FOLDER": str(tmp / "uploads"),
        "LICENSE_SIGNING_KEY_PATH": str(tmp / "license.pem"),
        "LOCATION_DB_PATH": str(tmp / "location.sqlite3"), "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "FLASK_APP": "wsgi",
    })
    env.update(extra)
    return env


def run_flask(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str
    started: float  # time.monotonic() just before the exec
    first_health: float | None = None  # seconds from `started` to the first 200

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        stop(self.process, timeout=15)


def start_gunicorn(env: dict, log: Path, workers: int = 1, threads: int = 1,
                   timeout: float = 30.0, app: str = "wsgi:app") -> Server:
    """gunicorn serving `app` on a free port, polled on /health every 10 ms until the first 200."""
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
            "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", app]
    with open(log, "wb") as out:
        started = time.monotonic()
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", started)
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(server.url("/health"), timeout=1).status_code == 200:
                server.first_health = time.monotonic() - started
                return server
        except requests.RequestException:
            pass
        time.sleep(0.01)
    server.stop()
    raise AssertionError(f"no /health within {timeout}s:\n{log.read_text()[-3000:]}")


def measured_env(env: dict, tmp: Path) -> dict:
    """`env` with a bytecode cache of its own under `tmp`, as a deployed app has its bytecode
    (tests/web/test_startup.py's notes)."""
    env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


@dataclass
class Start:
    wall: float  # exec to the first 200
    cpu: float  # CPU of master + worker until then
    quiet_wall: float  # wall less the time master and worker waited for a CPU


def measure_start(server: Server) -> Start:
    [worker] = children(server.process.pid)
    pids = (server.process.pid, worker)
    cpu = sum(cpu_seconds(pid) for pid in pids)
    waits = [runqueue_seconds(pid) for pid in pids]
    waited = sum(waits) if None not in waits else 0.0
    return Start(server.first_health, cpu, server.first_health - waited)
