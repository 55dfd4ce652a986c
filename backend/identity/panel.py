"""The staff panel's user screen (admin only): list with search (name, email), filters (rol,
empresa, activo), CSV without secrets; create and edit through services.usuarios (the password
rule, the unique email, the actor rules), a "Cambiar contraseña" form and an "Activar/Desactivar"
button. What every screen shares is in backend/panel/."""
from __future__ import annotations

from typing import ClassVar

from flask import abort, session
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, IntEqualFilter
from flask_admin.form import SecureForm
from flask_admin.helpers import get_redirect_target
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Email as EmailFormat
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from ..extensions import db
from ..panel.filters import Opcion, al_pedir
from ..panel.labels import choices, valores
from ..panel.lookups import empresas_query, nombre_empresa, opciones_empresas
from ..panel.screens import ServiceModelView, aqui, boton, datos_de, enlace, id_de
from . import panel_session
from .models import Rol, Usuario
from .schemas import AdminUsuarioSchema, AdminUsuarioUpdateSchema
from .services import usuarios

ROLES = valores(Rol)


class UsuarioEdicionForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=150)])
    email = StringField("Correo", validators=[InputRequired(), EmailFormat(), Length(max=255)])
    rol = SelectField("Rol", choices=choices(ROLES), default=Rol.CLIENTE.value)
    empresa = QuerySelectField("Empresa", query_factory=empresas_query, allow_blank=True,
                               blank_text="(sin empresa)", get_label="nombre")
    telefono = StringField("Teléfono", validators=[Optional(), Length(max=32)])
    is_active = BooleanField("Activo", default=True)


class UsuarioAltaForm(UsuarioEdicionForm):
    password = PasswordField("Contraseña", validators=[InputRequired(), Length(max=128)],
                             description="Al menos 8 caracteres, con mayúscula, minúscula, "
                                         "número y carácter especial.")


class PasswordForm(SecureForm):
    password = PasswordField("Nueva contraseña", validators=[InputRequired(), Length(max=128)])
    confirmacion = PasswordField("Repita la contraseña", validators=[
        InputRequired(), EqualTo("password", message="Las contraseñas no coinciden.")])


class UsuarioView(ServiceModelView):
    """Users: every change through services.usuarios (admin only)."""

    form_alta = UsuarioAltaForm
    form_edicion = UsuarioEdicionForm
    column_list = ("nombre", "email", "rol", "empresa", "is_active", "otp_enabled", "last_login_at",
                   "acciones")
    column_details_list = ("id", "nombre", "email", "rol", "empresa", "is_active", "pendiente_activacion",
                           "email_verificado", "otp_enabled", "telefono", "direccion", "ciudad", "pais",
                           "fecha_nacimiento", "last_login_at", "last_login_ip", "created_at",
                           "updated_at", "acciones")
    column_export_list = ("id", "nombre", "email", "rol", "empresa", "is_active", "email_verificado",
                          "otp_enabled", "telefono", "ciudad", "pais", "last_login_at", "created_at")
    column_searchable_list = ("nombre", "email")
    column_filters = (Opcion(Usuario.rol, "Rol", ROLES),
                      IntEqualFilter(Usuario.empresa_id, "Empresa", options=al_pedir(opciones_empresas)),
                      BooleanEqualFilter(Usuario.is_active, "Activo"))
    column_sortable_list = ("nombre", "email", "rol", ("empresa", "empresa.nombre"), "is_active",
                            "last_login_at")
    column_default_sort = ("nombre", False)
    column_labels: ClassVar[dict] = {
        "nombre": "Nombre", "email": "Correo", "rol": "Rol", "empresa": "Empresa", "is_active": "Activo",
        "otp_enabled": "2FA", "last_login_at": "Último ingreso", "last_login_ip": "IP del último ingreso",
        "pendiente_activacion": "Pendiente de activación", "email_verificado": "Correo verificado",
        "telefono": "Teléfono", "direccion": "Dirección", "ciudad": "Ciudad", "pais": "País",
        "fecha_nacimiento": "Fecha de nacimiento", "created_at": "Creado", "updated_at": "Actualizado",
        "acciones": "Acciones",
    }

    campos_servicio: ClassVar[dict] = {"empresa_id": "empresa"}
    esquema_alta = AdminUsuarioSchema
    esquema_edicion = AdminUsuarioUpdateSchema
    crear = staticmethod(usuarios.crear)

    def datos_edicion(self, form) -> dict:
        datos = datos_de(form, ("nombre", "email", "rol", "telefono", "is_active"))
        return {**datos, "empresa_id": id_de(form.empresa.data)}

    def datos_alta(self, form) -> dict:
        return {**self.datos_edicion(form), **datos_de(form, ("password",))}

    def actualizar(self, ident: int, datos: dict):
        return usuarios.actualizar(ident, datos, panel_session.current_staff())

    def eliminar(self, ident: int) -> None:
        usuarios.eliminar(ident, panel_session.current_staff())

    def _acciones(self, _context, model, _name):
        etiqueta = "Desactivar" if model.is_active else "Activar"
        return boton(self.get_url(".alternar_estado", id=model.id, url=aqui()), etiqueta,
                     "outline-danger" if model.is_active else "outline-success") + enlace(
            self.get_url(".cambiar_password", id=model.id, url=aqui()), "Cambiar contraseña")

    column_formatters: ClassVar[dict] = {"empresa": nombre_empresa, "acciones": _acciones}
    column_formatters_export: ClassVar[dict] = {"empresa": nombre_empresa}

    @expose("/estado/", methods=("POST",))
    def alternar_estado(self):
        """Activate or deactivate a user (deactivating ends its sessions)."""
        return self.accion(lambda ident: usuarios.alternar_estado(ident, panel_session.current_staff()),
                           "Se cambió el estado del usuario.")

    @expose("/password/", methods=("GET", "POST"))
    def cambiar_password(self):
        """Set a user's password (the password rule holds; its sessions end)."""
        usuario = db.session.get(Usuario, self.id_pedido()) or abort(404)
        return self.formulario(
            PasswordForm, f"Cambiar contraseña de {usuario.nombre}",
            get_redirect_target() or self.get_url(".details_view", id=usuario.id),
            lambda form: usuarios.cambiar_password(usuario.id, form.password.data,
                                                   panel_session.current_staff(),
                                                   session.get(panel_session.PANEL_SID)),
            "Se cambió la contraseña; las sesiones del usuario se cerraron.",
            texto=f"Usuario: {usuario.email}")


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [UsuarioView(Usuario, db, name="Usuarios", endpoint="panel_usuarios",
                        url="usuarios")]
