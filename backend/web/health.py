"""Liveness and readiness probes."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import text

from ..core.api import Blueprint
from ..core.errors import error_response
from ..core.redis_client import redis_client
from ..extensions import db
from .schemas import HealthSchema, NotReadySchema, ReadySchema

blp = Blueprint("health", __name__, description="Liveness and readiness")


def _check_database() -> str:
    db.session.execute(text("SELECT 1"))
    return "ok"


def _check_redis(url: str) -> str:
    client = redis_client(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def _redis_urls() -> list[str]:
    config = current_app.config
    urls = {config.get("REDIS_URL"), config.get("CELERY_BROKER_URL"), config.get("RATELIMIT_STORAGE_URI")}
    return sorted(u for u in urls if u and u.startswith(("redis://", "rediss://")))


def _redis_label(url: str) -> str:
    """`redis:host:port/db`, never the password."""
    parts = urlsplit(url)
    return f"redis:{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


@blp.route("/health", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """Process alive."""
    return {"status": "ok"}


@blp.route("/healthz", methods=["GET", "HEAD"])
@blp.response(200, HealthSchema, description="`{\"status\": \"ok\"}` (no body for HEAD).")
def healthz():
    """Process alive (load-balancer form; HEAD allowed)."""
    return {"status": "ok"}


@blp.route("/ready", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=NotReadySchema, description="`no_disponible`: a dependency did "
                  "not answer; `details.checks` says which.")
def ready():
    """Database and, where configured, Redis and file storage reachable; 503 otherwise."""
    checks: dict[str, str] = {}
    probes = [("database", _check_database)]
    probes += [(_redis_label(url), lambda url=url: _check_redis(url)) for url in _redis_urls()]
    storage = current_app.extensions.get("storage")
    if storage is not None:
        probes.append(("storage", storage.check))
    for name, probe in probes:
        try:
            checks[name] = probe()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            db.session.rollback()
            checks[name] = f"error: {type(exc).__name__}"
    if all(value == "ok" for value in checks.values()):
        return {"status": "ok", "checks": checks}
    return error_response(503, "no_disponible", "Dependencias no disponibles.", {"checks": checks})
