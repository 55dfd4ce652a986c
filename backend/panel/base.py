"""What every panel screen shares: only active staff get in (`soporte` staff only where a
view allows them), every form carries a CSRF token, and a refusal is a redirect to the
panel's sign-in page or a 403 page, never the JSON API's envelope."""
from __future__ import annotations

from typing import ClassVar

from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.form import SecureForm

from ..identity.models import Rol
from ..identity.panel_session import current_staff


class StaffAccess:
    """Access for panel views: `roles` may be narrowed per view (support screens allow both)."""

    roles: tuple[Rol, ...] = (Rol.ADMIN,)

    def is_accessible(self) -> bool:
        usuario = current_staff()
        return usuario is not None and usuario.rol in self.roles

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name, **kwargs):
        if current_staff() is None:
            return redirect(url_for("panel_auth.login", next=request.path))
        abort(403)


class StaffView(StaffAccess, BaseView):
    """A custom panel page."""


class StaffIndexView(StaffAccess, AdminIndexView):
    """The panel's first page (both staff roles)."""

    roles = (Rol.ADMIN, Rol.SOPORTE)


class StaffModelView(StaffAccess, ModelView):
    """A list/detail/edit screen of one model. Changes go through the domain's services (the
    view's `create_model`, `update_model` and `delete_model` call them), so the panel follows
    the same rules and leaves the same audit rows as the JSON API."""

    form_base_class = SecureForm
    # The delete prompts: Flask-Admin's inline handlers do not run under the panel's CSP.
    extra_js: ClassVar[list[str]] = ["/static/panel/confirm.js"]
    page_size = 25
    can_view_details = True
    can_export = True
    export_types = ("csv",)
    action_disallowed_list = ("delete",)
