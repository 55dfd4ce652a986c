"""The panel's first page: the figures staff look at every day, drawn server-side."""
from __future__ import annotations

from flask_admin import expose

from .base import StaffIndexView


class DashboardView(StaffIndexView):
    """Dashboard (both staff roles; `soporte` staff see the support figures only)."""

    @expose("/")
    def index(self):
        return self.render("panel/dashboard.html")
