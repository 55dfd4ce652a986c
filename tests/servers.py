"""What the tests that start processes of their own (gunicorn, Celery, mail sinks) share: a free
port, and the names of every setting the app reads, to clear from an inherited environment."""
from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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
