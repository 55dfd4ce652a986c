"""Swagger UI at /docs, served from the pinned swagger-ui-bundle package (no CDN)."""
from __future__ import annotations

from flask import Blueprint, render_template, send_from_directory
from swagger_ui_bundle import swagger_ui_path

bp = Blueprint("docs", __name__)


@bp.get("/docs")
@bp.get("/docs/")
def swagger_ui():
    """Interactive API documentation."""
    return render_template("docs/swagger.html")


@bp.get("/docs/assets/<path:filename>")
def swagger_assets(filename: str):
    """Swagger UI's own static files."""
    return send_from_directory(swagger_ui_path, filename, max_age=86400)
