"""Building the panel for an app: Flask-Admin at `/panel` with Spanish labels, the sign-in
blueprint, the dashboard and the screens each domain contributes."""
from __future__ import annotations

from collections.abc import Iterable

from flask import Flask
from flask_admin import Admin, BaseView
from flask_admin.theme import Bootstrap4Theme

from ..core.http import csp_nonce
from ..identity.panel_session import current_staff
from . import auth
from .dashboard import DashboardView


def init_panel(app: Flask, views: Iterable[BaseView]) -> Admin:
    """Mount the panel on `app` with `views` (the factory lists them)."""
    admin = Admin(app, name="Panel", url="/panel", endpoint="panel",
                  index_view=DashboardView(name="Tablero", url="/panel", endpoint="panel"),
                  theme=Bootstrap4Theme(base_template="panel/base.html", swatch="default",
                                        fluid=True),
                  csp_nonce_generator=csp_nonce)
    for view in views:
        admin.add_view(view)
    app.register_blueprint(auth.bp)
    app.context_processor(_panel_context)
    return admin


def _panel_context() -> dict:
    return {"current_staff": current_staff(), "panel_csrf_token": auth.csrf_token}
