"""The staff panel's user screen (admin only), and what the commercial screens of every domain
share: a model view whose create, edit and delete call the domain's services, POST buttons for
lifecycle actions (each with its CSRF token), and a page for a small form.

Users: list with search (name, email), filters (rol, empresa, activo), CSV without secrets;
create and edit through services.usuarios (the password rule, the unique email, the actor
rules), a "Cambiar contraseña" form and an "Activar/Desactivar" button."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import ClassVar

from flask import abort, current_app, flash, has_request_context, redirect, request, session
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from flask_admin.form import SecureForm
from flask_admin.helpers import get_redirect_target
from flask_admin.model import typefmt
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Email as EmailFormat
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from ..core.errors import ApiError
from ..core.persistence import is_db_id
from ..empresas.models import Empresa
from ..extensions import db
from ..panel.base import StaffModelView
from . import panel_session
from .models import Rol, Usuario
from .schemas import AdminUsuarioSchema, AdminUsuarioUpdateSchema
from .services import usuarios

# ---------------------------------------------------------------- shared by the screens

FORM_PAGE = """{% extends 'admin/master.html' %}
{% import 'admin/lib.html' as lib with context %}
{% block body %}
<h1 class="h4 mb-3">{{ titulo }}</h1>
{% if texto %}<p>{{ texto }}</p>{% endif %}
{{ lib.render_form(form, return_url) }}
{% endblock %}
"""


class AccionForm(SecureForm):
    """A POST button of a lifecycle action: only its CSRF token."""


def _fecha(_view, value, _name) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value.isoformat()


def _si_no(_view, value, _name) -> str:
    return "sí" if value else "no"


def _enum(_view, value, _name) -> str:
    return value.value


def boton(url: str, etiqueta: str, estilo: str = "outline-secondary") -> Markup:
    """A POST button (its own small form with a CSRF token) to `url`."""
    return Markup('<form method="post" action="{}" class="d-inline-block mr-1 mb-1">{}'
                  '<button type="submit" class="btn btn-sm btn-{}">{}</button></form>').format(
        url, AccionForm().csrf_token(id=False), estilo, etiqueta)


def enlace(url: str, etiqueta: str, estilo: str = "outline-secondary") -> Markup:
    """A link styled as a button (to a page with a form)."""
    return Markup('<a class="btn btn-sm btn-{} mr-1 mb-1" href="{}">{}</a>').format(estilo, url, etiqueta)


def aqui() -> str:
    """The current page, as the `url` to come back to after an action."""
    return request.full_path.rstrip("?")


def mensaje(exc: ApiError) -> str:
    """A service's refusal as staff read it: its message and its details."""
    partes = [f"{campo}: {', '.join(map(str, valor)) if isinstance(valor, list) else valor}"
              for campo, valor in (exc.details or {}).items()]
    return f"{exc.message} ({'; '.join(partes)})" if partes else exc.message


def marcar_errores(form, errores: dict | None, campos: dict[str, str] | None = None) -> None:
    """Show `errores` ({field: [messages]}) beside the form's fields (`campos` maps a service
    field to its form field, e.g. empresa_id -> empresa)."""
    for campo, mensajes in (errores or {}).items():
        field = form._fields.get((campos or {}).get(campo, campo)) if form is not None else None
        if field is not None:
            nuevos = mensajes if isinstance(mensajes, list) else [mensajes]
            field.errors = [*field.errors, *(str(m) for m in nuevos)]


def datos_de(form, campos) -> dict:
    """The values of `campos` in `form`, blanks as None, decimals as text: the domain's
    marshmallow schema then loads them as the JSON API loads a body."""
    datos = {campo: form[campo].data for campo in campos}
    for campo, valor in datos.items():
        if isinstance(valor, str) and not valor.strip():
            datos[campo] = None
        elif valor is not None and not isinstance(valor, (str, bool, int, float)):
            datos[campo] = str(valor)
    return datos


class ServiceModelView(StaffModelView):
    """A model screen whose changes call the domain's services: subclasses set `campos` (the
    form fields sent to the service), the schemas that load them (as the JSON API does) and
    `crear`, `actualizar`, `eliminar`. Lifecycle actions are POST buttons (`accion`) and small
    forms on a page of their own (`pagina`)."""

    campos: tuple[str, ...] = ()
    campos_servicio: ClassVar[dict] = {}  # service field -> form field, for error messages

    column_type_formatters: ClassVar[dict] = {**typefmt.BASE_FORMATTERS, Enum: _enum, datetime: _fecha}
    column_type_formatters_detail: ClassVar[dict] = {
        **typefmt.DETAIL_FORMATTERS, Enum: _enum, datetime: _fecha, bool: _si_no,
    }
    column_type_formatters_export: ClassVar[dict] = {
        **typefmt.EXPORT_FORMATTERS, Enum: _enum, datetime: _fecha, bool: _si_no,
    }

    named_filter_urls = True

    def pagina(self, form, titulo: str, return_url: str, texto: str | None = None,
               plantilla: str = FORM_PAGE, **extra):
        """Render `plantilla` (a template source extending admin/master.html)."""
        return self.render(current_app.jinja_env.from_string(plantilla), form=form, titulo=titulo,
                           texto=texto, return_url=return_url, **extra)

    def formulario(self, form, titulo: str, volver: str, llamada: Callable, exito: str,
                   texto: str | None = None, campos: dict | None = None, respuesta: Callable | None = None):
        """A page with a small form (its class or instance): a valid POST calls `llamada(form)`
        (a service), then goes back to `volver` (or answers `respuesta(result)`); a refusal is
        shown on the form."""
        if isinstance(form, type):
            form = form(request.form if request.method == "POST" else None)
        if request.method == "POST":
            if form.validate():
                ok, resultado = self.ejecutar(lambda: llamada(form), form, campos, exito)
                if ok:
                    return respuesta(resultado) if respuesta else redirect(volver)
            else:
                flash("Revise los datos del formulario.", "error")
        return self.pagina(form, titulo, volver, texto)

    @staticmethod
    def id_pedido() -> int:
        """The record id of an action's URL (`?id=`); 404 when it cannot be one."""
        ident = request.args.get("id", type=int)
        if not is_db_id(ident):
            abort(404)
        return ident

    @staticmethod
    def ejecutar(llamada: Callable[[], object], form=None, campos: dict | None = None,
                 exito: str | None = None) -> tuple[bool, object]:
        """Run a service call; a refusal (ApiError) is rolled back, flashed with its message and
        details, and shown beside the form's fields."""
        try:
            resultado = llamada()
        except ApiError as exc:
            db.session.rollback()
            flash(mensaje(exc), "error")
            marcar_errores(form, exc.details, campos)
            return False, None
        if exito:
            flash(exito, "success")
        return True, resultado

    def accion(self, llamada: Callable[[int], object], exito: str):
        """A POST button: check its CSRF token, call the service for `?id=`, and go back."""
        volver = get_redirect_target() or self.get_url(".index_view")
        if not AccionForm(request.form).validate():
            flash("El formulario no es válido o venció; recargue la página e inténtelo de nuevo.", "error")
            return redirect(volver)
        ident = self.id_pedido()
        self.ejecutar(lambda: llamada(ident), exito=exito)
        return redirect(volver)

    def get_filter_arg(self, index: int, flt) -> str:
        """Readable filter URLs, accents folded: `flt0_accion_equals=eliminar`."""
        operacion = flt.operation()
        operacion = getattr(operacion, "_args", (operacion,))[0]  # the untranslated operation
        texto = unicodedata.normalize("NFKD", f"{flt.name} {operacion}").encode("ascii", "ignore")
        return re.sub(r"[^a-z0-9]+", "_", texto.decode().lower()).strip("_")

    def _get_filter_groups(self):
        """The page's filters, with the options that follow the data (the companies) read now
        (a copy: the view, shared by every request, is not changed)."""
        grupos = super()._get_filter_groups()
        for items in (grupos or {}).values():
            for item in items:
                opciones = self._filters[item["index"]].options
                if callable(opciones):
                    item["options"] = [(str(valor), str(etiqueta)) for valor, etiqueta in opciones() or []]
        return grupos

    def datos_formulario(self, form) -> dict:
        return datos_de(form, self.campos)

    def cargar(self, esquema, form) -> dict | None:
        """The form's values loaded by the domain's schema, else None (errors on the form)."""
        try:
            return esquema.load(self.datos_formulario(form))
        except ValidationError as exc:
            flash("Revise los datos del formulario.", "error")
            marcar_errores(form, exc.normalized_messages(), self.campos_servicio)
            return None

    def esquema_alta(self):
        """The schema of the JSON API's create body, which loads the create form."""
        raise NotImplementedError

    def esquema_edicion(self):
        """The schema of the JSON API's update body, which loads the edit form."""
        raise NotImplementedError

    def crear(self, datos: dict):
        raise NotImplementedError

    def actualizar(self, model, datos: dict):
        raise NotImplementedError

    def eliminar(self, model) -> None:
        raise NotImplementedError

    def create_model(self, form):
        datos = self.cargar(self.esquema_alta(), form)
        if datos is None:
            return False
        ok, model = self.ejecutar(lambda: self.crear(datos), form, self.campos_servicio)
        return model if ok else False

    def update_model(self, form, model) -> bool:
        datos = self.cargar(self.esquema_edicion(), form)
        if datos is None:
            return False
        ok, _ = self.ejecutar(lambda: self.actualizar(model, datos), form, self.campos_servicio)
        return ok

    def delete_model(self, model) -> bool:
        ok, _ = self.ejecutar(lambda: self.eliminar(model))
        return ok


class Opcion(FilterEqual):
    """Equality with one of the filter's options (an enum's values): any other value is dropped
    by Flask-Admin as an invalid filter instead of reaching the database."""

    def validate(self, value) -> bool:
        return value in {str(valor) for valor, _ in self.options or ()}


def al_pedir(opciones: Callable[[], list]) -> Callable[[], list | None]:
    """Filter options read at each request: Flask-Admin reads them when the view is built
    (outside any app context) and `ServiceModelView` reads them again for every list page."""
    return lambda: opciones() if has_request_context() else None


def cargar_por_id(modelo, ids) -> dict:
    """The rows of `modelo` named by `ids` (a list page's companies or users), read in one query
    and kept for the rest of the request, so formatters make no query per row."""
    cache = request.environ.setdefault(f"backend.panel.{modelo.__tablename__}", {})
    faltan = {i for i in ids if i is not None and i not in cache}
    if faltan:
        filas = db.session.scalars(select(modelo).where(modelo.id.in_(faltan)))
        cache.update({fila.id: fila for fila in filas})
    return cache


def empresas_query():
    return db.session.scalars(select(Empresa).order_by(Empresa.nombre))


def opciones_empresas() -> list[tuple[str, str]]:
    """The companies as filter options (value, label)."""
    return [(str(e.id), f"{e.nombre} ({e.nit})") for e in empresas_query()]


def nombre_empresa(_view, _context, model, _name) -> str:
    return model.empresa.nombre if model.empresa is not None else ""


# ---------------------------------------------------------------- users

ROLES = [(rol.value, rol.value) for rol in Rol]


class UsuarioEdicionForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=150)])
    email = StringField("Correo", validators=[InputRequired(), EmailFormat(), Length(max=255)])
    rol = SelectField("Rol", choices=ROLES, default=Rol.CLIENTE.value)
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

    column_list = ("nombre", "email", "rol", "empresa", "is_active", "otp_enabled", "last_login_at",
                   "acciones")
    column_details_list = ("id", "nombre", "email", "rol", "empresa", "is_active", "pendiente_activacion",
                           "email_verificado", "otp_enabled", "telefono", "direccion", "ciudad", "pais",
                           "fecha_nacimiento", "last_login_at", "last_login_ip", "created_at",
                           "updated_at", "acciones")
    column_export_list = ("id", "nombre", "email", "rol", "empresa", "is_active", "email_verificado",
                          "otp_enabled", "telefono", "ciudad", "pais", "last_login_at", "created_at")
    column_searchable_list = ("nombre", "email")
    column_filters = (Opcion(Usuario.rol, "Rol", options=ROLES),
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

    def esquema_alta(self):
        return AdminUsuarioSchema()

    def esquema_edicion(self):
        return AdminUsuarioUpdateSchema()

    def get_create_form(self):
        return UsuarioAltaForm

    def get_edit_form(self):
        return UsuarioEdicionForm

    def datos_formulario(self, form) -> dict:
        campos = ("nombre", "email", "rol", "telefono", "is_active")
        if "password" in form:
            campos = (*campos, "password")
        datos = datos_de(form, campos)
        datos["empresa_id"] = form.empresa.data.id if form.empresa.data is not None else None
        return datos

    def crear(self, datos: dict):
        return usuarios.crear(datos)

    def actualizar(self, model, datos: dict):
        return usuarios.actualizar(model.id, datos, panel_session.current_staff())

    def eliminar(self, model) -> None:
        usuarios.eliminar(model.id, panel_session.current_staff())

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
