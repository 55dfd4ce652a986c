"""The Angular build, served from FRONTEND_DIST with index.html as the fallback for
client-side routes; a JSON note at `/` when no build is present."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

bp = Blueprint("spa", __name__)

# Paths that belong to the API: an unknown one is a JSON 404, never the SPA.
API_PREFIXES = ("/api", "/admin", "/auth", "/account", "/public", "/panel", "/docs",
                "/openapi.json", "/health", "/ready", "/healthz", "/static")


def _dist() -> Path | None:
    dist = Path(current_app.config["FRONTEND_DIST"])
    return dist if (dist / "index.html").is_file() else None


@bp.get("/")
def index():
    """The SPA's index.html, or a JSON note that the app runs in development mode."""
    dist = _dist()
    if dist is not None:
        return send_from_directory(dist, "index.html", max_age=0)
    return jsonify(
        modo="desarrollo",
        mensaje="Aplicación en modo desarrollo: no hay build de Angular en FRONTEND_DIST.",
        frontend_dev_url=current_app.config["FRONTEND_DEV_URL"],
        docs="/docs",
    )


def spa_fallback():
    """For a GET that matched no route: a file of the build, else index.html; None if not the SPA's."""
    if request.method not in ("GET", "HEAD") or request.url_rule is not None:
        return None
    if request.path.startswith(API_PREFIXES):
        return None
    dist = _dist()
    if dist is None:
        return None
    relative = request.path.lstrip("/")
    candidate = safe_join(str(dist), relative)
    if candidate and Path(candidate).is_file():
        return send_from_directory(dist, relative, max_age=3600)
    try:
        return send_from_directory(dist, "index.html", max_age=0)
    except NotFound:
        return None
