"""Logging: a general log plus one file per category (auth, api, admin, soporte) under
LOG_DIR, every line carrying the request id. Configured by the factory, never at import."""
from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from flask import Flask, g, has_request_context

CATEGORIES = ("auth", "api", "admin", "soporte")
FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
_MARK = "_backend_handler"


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = getattr(g, "request_id", "-") if has_request_context() else "-"
        return True


def _handler(handler: logging.Handler, level: str) -> logging.Handler:
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    handler.setLevel(level)
    setattr(handler, _MARK, True)
    return handler


def _file(path: Path, level: str) -> logging.Handler:
    return _handler(RotatingFileHandler(path, maxBytes=10 * 1024 * 1024, backupCount=5,
                                        encoding="utf-8"), level)


def configure_logging(app: Flask) -> None:
    """(Re)install the project's handlers on the `backend` logger tree."""
    level = (app.config.get("LOG_LEVEL") or "INFO").upper()
    root = logging.getLogger("backend")
    root.setLevel(level)
    for logger in [root] + [logging.getLogger(f"backend.{c}") for c in CATEGORIES]:
        for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(handler)
            handler.close()
    if not app.testing:
        root.addHandler(_handler(logging.StreamHandler(sys.stderr), level))
    log_dir = app.config.get("LOG_DIR")
    if not log_dir:
        return
    path = Path(log_dir)
    path.mkdir(parents=True, exist_ok=True)
    root.addHandler(_file(path / "app.log", level))
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
