"""Log files: one line per record whatever a client sends (control characters escaped), safe
for many processes (append only; rotation left to logrotate, which the handlers follow)."""
from __future__ import annotations

import logging
import multiprocessing
import re
from pathlib import Path

import pytest

from backend import create_app
from backend.core import logging_setup
from backend.core.http import log_request
from backend.core.logging_setup import configure_logging
from tests.conftest import make_config

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \[")


@pytest.fixture
def logged(app, tmp_path):
    """An app writing its logs under tmp_path; the shared logger tree is restored after."""
    logged = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                    LOG_DIR=str(tmp_path)))
    yield logged
    configure_logging(app)


def _flush() -> None:
    for name in ("backend", "backend.api", "backend.auth"):
        for handler in logging.getLogger(name).handlers:
            handler.flush()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_a_forged_path_stays_on_its_own_line(logged, tmp_path):
    forged = ("/api/x%0a2030-01-01 00:00:00,000 INFO [x] backend.auth: admin signed in"
              "%0d%1b[31m%c2%85%e2%80%a8")
    logged.test_client().get(forged, headers={"X-Request-ID": "forge-1",
                                              "User-Agent": "evil\x1b[2J"})
    _flush()
    for name in ("api.log", "app.log"):
        lines = _lines(tmp_path / name)
        assert all(RECORD_START.match(line) for line in lines), lines
    # The access line is in its category's file (once: not in the general log too).
    [line] = [line for line in _lines(tmp_path / "api.log") if "[forge-1]" in line]
    assert "\\x0a2030-01-01" in line and "\\x0d\\x1b[31m\\x85\\u2028" in line
    assert "[forge-1]" not in (tmp_path / "app.log").read_text(encoding="utf-8")
    assert "admin signed in" not in (tmp_path / "auth.log").read_text(encoding="utf-8")


def test_every_client_field_is_escaped_wherever_it_is_logged(logged, tmp_path):
    with logged.test_request_context():
        logging.getLogger("backend.auth").warning("login from agent %s", "Mozilla\r\nFAKE\x1b[0m\x9b")
    _flush()
    [line] = [line for line in _lines(tmp_path / "auth.log") if "login from agent" in line]
    assert line.endswith("Mozilla\\x0d\\x0aFAKE\\x1b[0m\\x9b")


def test_traceback_lines_are_continuations(logged, tmp_path):
    try:
        raise ValueError("bad\n2030-01-01 00:00:00,000 INFO [x] backend: forged")
    except ValueError:
        logging.getLogger("backend.api").exception("failed on %s", "/api/y\n")
    _flush()
    lines = _lines(tmp_path / "api.log")
    starts = [line for line in lines if RECORD_START.match(line)]
    assert len(starts) == 1 and starts[0].endswith("failed on /api/y\\x0a")
    assert any(line.startswith("  2030-01-01") for line in lines)


def test_escape_control_keeps_ordinary_text():
    escape_control = logging_setup.escape_control
    assert escape_control("Bogotá /api/ñ \"x\" 'y' \\ ok") == "Bogotá /api/ñ \"x\" 'y' \\ ok"
    assert escape_control("\t\x00\x7f") == "\\x09\\x00\\x7f"


def test_logrotate_moves_the_file_and_logging_follows(logged, tmp_path):
    """logrotate renames the file; the next record goes to a new file at the same path, and no
    process ever renames or truncates a file itself."""
    client = logged.test_client()
    client.get("/api/before-rotation")
    _flush()
    (tmp_path / "api.log").rename(tmp_path / "api.log.1")
    client.get("/api/after-rotation")
    _flush()
    assert "/api/after-rotation" in (tmp_path / "api.log").read_text(encoding="utf-8")
    assert "/api/after-rotation" not in (tmp_path / "api.log.1").read_text(encoding="utf-8")
    handlers = logging.getLogger("backend.api").handlers
    assert handlers and not any(hasattr(h, "doRollover") for h in handlers)


def _worker(app_config, worker: int) -> None:
    configure_logging(_ConfigOnly(app_config))
    log = logging.getLogger("backend.soporte")
    for n in range(200):
        log.info("worker %d record %d %s", worker, n, "x" * 300)
    for handler in log.handlers:
        handler.flush()


class _ConfigOnly:
    """What configure_logging reads from an app."""

    testing = True

    def __init__(self, config: dict) -> None:
        self.config = config


def test_many_processes_append_whole_lines(tmp_path):
    config = {"LOG_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(config, worker)) for worker in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    lines = _lines(tmp_path / "soporte.log")
    assert len(lines) == 800 and all(RECORD_START.match(line) for line in lines)
    assert {line.split("worker ")[1].split(" record")[0] for line in lines} == {"0", "1", "2", "3"}


class _Served(_ConfigOnly):
    testing = False  # a served app: the stderr handler is installed


@pytest.mark.parametrize("with_files", [False, True])
def test_stderr_has_the_access_lines_only_without_log_files(app, tmp_path, capsys, with_files):
    config = {"LOG_LEVEL": "INFO", "LOG_DIR": str(tmp_path) if with_files else None}
    configure_logging(_Served(config))
    try:
        log_request("GET", "/api/x", 200, 1.0, "10.0.0.1", request_id="acc-1")
        logging.getLogger("backend.api").warning("an api event")
    finally:
        configure_logging(app)
    err = capsys.readouterr().err
    assert "an api event" in err
    assert ("[acc-1]" in err) is not with_files
    if with_files:
        assert "[acc-1] backend.api: GET /api/x 200 1.0ms ip=10.0.0.1" in (tmp_path / "api.log").read_text()
