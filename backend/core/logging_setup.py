"""Logging: a general log plus one file per category (auth, api, admin, soporte) under
LOG_DIR, every line carrying the request id. Configured by the factory, never at import.

Each request's access line is written once: to its category's file (`app.log` for paths of
no category) with LOG_DIR, else to stderr. Every other record goes to stderr and `app.log`,
and to its category's file too.

Many processes (gunicorn workers, Celery) append to the same files: each record is one write
to a file opened for appending, and no process rotates a file itself. Rotation is left to
logrotate (or any tool that renames the file): a WatchedFileHandler notices the rename and
opens a new file at the same path.

A record is one line: control characters in its message (a request path with `%0a`, a user
agent with an ANSI escape, anything else a client sent) are written escaped (`\\x0a`), and
the lines of a traceback are indented, so no client can forge a line.
"""
from __future__ import annotations

import logging
import re
import sys
from logging.handlers import WatchedFileHandler
from pathlib import Path

from flask import Flask, g, has_request_context

CATEGORIES = ("auth", "api", "admin", "soporte")
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_MARK = "_backend_handler"
ACCESS_LINE = "access_line"  # set on the one line per request (core.http.log_request)
UNCATEGORIZED = "backend.request"  # the access lines of paths outside every category

# C0 controls (CR, LF, TAB, ESC...), DEL, C1 controls, and the Unicode line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_START = re.compile(r"\n(?=\S)")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """`text` with every control character written as an escape (`\\x0a`, `\\x1b`, `\\u2028`)."""
    return _CONTROL.sub(_escape, text)


def _indented(block: str) -> str:
    """A multi-line block (a traceback) made safe: controls escaped except the line breaks,
    and every line after the first indented, so none looks like a record of its own."""
    return _LINE_START.sub("\n  ", _CONTROL_BUT_NEWLINE.sub(_escape, block))


class SafeFormatter(logging.Formatter):
    """One line per record: the message's control characters escaped, tracebacks indented."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = escape_control(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _indented(super().formatStack(stack_info))


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request, unless the record has one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", "-")
        elif not hasattr(record, "request_id"):  # an answer made outside Flask passes its own
            record.request_id = "-"
        return True


class SkipAccessLines(logging.Filter):
    """Keeps the access lines (core.http.log_request) out of a general handler when another
    handler writes them: every line is written once, as every request pays for it."""

    def __init__(self, keep_uncategorized: bool) -> None:
        super().__init__()
        self.keep_uncategorized = keep_uncategorized

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, ACCESS_LINE, False):
            return True
        return self.keep_uncategorized and record.name == UNCATEGORIZED


def _handler(handler: logging.Handler, level: str) -> logging.Handler:
    handler.setFormatter(SafeFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.setLevel(level)
    setattr(handler, _MARK, True)
    return handler


def _file(path: Path, level: str) -> logging.Handler:
    # Appends, never rotates; reopens the path when logrotate has moved the file away.
    return _handler(WatchedFileHandler(path, encoding="utf-8"), level)


def configure_logging(app: Flask) -> None:
    """(Re)install the project's handlers on the `backend` logger tree."""
    level = (app.config.get("LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger("backend")
    root.setLevel(level)
    for logger in [root] + [logging.getLogger(f"backend.{c}") for c in CATEGORIES]:
        for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(handler)
            handler.close()
    log_dir = app.config.get("LOG_DIR")
    if not app.testing:
        stderr = _handler(logging.StreamHandler(sys.stderr), level)
        if log_dir:  # the access lines are in the files
            stderr.addFilter(SkipAccessLines(keep_uncategorized=False))
        root.addHandler(stderr)
    if not log_dir:
        return
    path = Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    general = _file(path / "app.log", level)
    general.addFilter(SkipAccessLines(keep_uncategorized=True))  # the others are in their category's file
    root.addHandler(general)
    for category in CATEGORIES:
        logging.getLogger(f"backend.{category}").addHandler(_file(path / f"{category}.log", level))


def category_for(path: str) -> str | None:
    """The log category a request path belongs to."""
    if path.startswith(("/auth", "/account")):
        return "auth"
    if path.startswith(("/api/internal/support", "/admin/soporte")):
        return "soporte"
    if path.startswith("/api"):
        return "api"
    if path.startswith(("/admin", "/panel")):
        return "admin"
    return None
