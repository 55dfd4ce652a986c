"""What every model screen shares: `ServiceModelView`, whose create, edit and delete load the
form through the JSON API's schema and call the domain's service (so the panel follows the
same rules and leaves the same audit rows); POST buttons for lifecycle actions (`boton`, each
its own small form with a CSRF token) and links (`enlace`); a page for a small form; a
refusal (a schema's or a service's) rolled back, flashed in Spanish and shown beside the
form's fields; dates, enums and booleans as staff read them; readable filter URLs."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from flask import abort, flash, redirect, request
from flask_admin.form import SecureForm
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_admin.model import typefmt
from markupsafe import Markup
from marshmallow import Schema, ValidationError

from ..core.errors import ApiError
from ..core.persistence import is_db_id
from ..extensions import db
from .base import StaffModelView
from .lookups import cargar_por_id

FORM_PAGE = "panel/formulario.html"


class AccionForm(SecureForm):
    """A POST button of a lifecycle action: its CSRF token (a subclass adds the fields an
    action asks for, e.g. a note)."""


# ---------------------------------------------------------------- buttons and links

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


# ---------------------------------------------------------------- form values and refusals

def una_linea(valor) -> str:
    """Error details as one line: `campo: mensaje, mensaje; campo: ...`."""
    if isinstance(valor, dict):
        return "; ".join(f"{clave}: {una_linea(v)}" for clave, v in valor.items())
    if isinstance(valor, list | tuple):
        return ", ".join(una_linea(v) for v in valor)
    return str(valor)


def no_validos(errores) -> str:
    return f"Los datos enviados no son válidos. ({una_linea(errores)})"


def mensaje(exc: ApiError, motivos: Mapping[str, str] | None = None) -> str:
    """A service's refusal as staff read it: its message, then its details (a `details.motivo`
    named by `motivos`)."""
    detalles = exc.details if isinstance(exc.details, dict) else {}
    motivo = detalles.get("motivo")
    if motivo:
        return f"{exc.message} Motivo: {(motivos or {}).get(motivo, motivo)} ({motivo})."
    return f"{exc.message} ({una_linea(exc.details)})" if exc.details else exc.message


def marcar_errores(form, errores, campos: Mapping[str, str] | None = None) -> None:
    """Show `errores` ({field: [messages]}) beside the form's fields (`campos` maps a service
    field to its form field, e.g. empresa_id -> empresa)."""
    if form is None or not isinstance(errores, dict):
        return
    for campo, mensajes in errores.items():
        field = form._fields.get((campos or {}).get(campo, campo))
        if field is not None:
            nuevos = mensajes if isinstance(mensajes, list) else [mensajes]
            field.errors = [*field.errors, *(str(m) for m in nuevos)]


def valor_json(valor):
    """A form value as the JSON API would receive it (for the API's schemas)."""
    if isinstance(valor, Enum):
        return valor.value
    if isinstance(valor, Decimal):
        return str(valor)
    if isinstance(valor, datetime | date):
        return valor.isoformat()
    return valor


def datos_de(form, campos) -> dict:
    """The values of `campos` in `form` as a JSON body, blanks as None: the domain's marshmallow
    schema then loads them as the JSON API loads a body."""
    datos = {campo: valor_json(form[campo].data) for campo in campos}
    return {campo: None if isinstance(valor, str) and not valor.strip() else valor
            for campo, valor in datos.items()}


def id_de(fila) -> int | None:
    """The id of a select's chosen row (None when there is none)."""
    return fila.id if fila is not None else None


# ---------------------------------------------------------------- column types

def _fecha(view, value, _name) -> str:
    return value.strftime(view.formato_fecha)


def _si_no(_view, value, _name) -> str:
    return "sí" if value else "no"


def _enum(_view, value, _name) -> str:
    return value.value


# ---------------------------------------------------------------- the model screen

class ServiceModelView(StaffModelView):
    """A model screen whose changes call the domain's services: subclasses say how a form becomes
    the JSON API's body (`campos`, or `datos_edicion`/`datos_alta`), the schemas that load it
    (`esquema_alta`, `esquema_edicion`) and the service calls (`crear`, `actualizar`,
    `eliminar`; often `staticmethod(service_function)`).
    Lifecycle actions are POST buttons (`accion`) and small forms on a page of their own
    (`formulario`)."""

    campos: tuple[str, ...] = ()
    campos_servicio: ClassVar[dict] = {}  # service field -> form field, for error messages
    motivos: ClassVar[dict] = {}  # how a refusal's `details.motivo` reads
    precargar: tuple[tuple[type, str], ...] = ()  # (model, id column): rows a list page names
    formato_fecha = "%Y-%m-%d %H:%M:%S"
    # The schemas of the JSON API's create and update bodies (a class, or a factory such as
    # `partial(UpdateSchema, partial=True)`), which load the create and edit forms.
    esquema_alta: ClassVar[Callable[[], Schema]]
    esquema_edicion: ClassVar[Callable[[], Schema]]
    # The create and edit forms when they differ (else Flask-Admin's `form` serves both).
    form_alta: ClassVar[type[SecureForm] | None] = None
    form_edicion: ClassVar[type[SecureForm] | None] = None
    mensaje_csrf = "El formulario no es válido o venció; recargue la página e inténtelo de nuevo."

    column_type_formatters: ClassVar[dict] = {**typefmt.BASE_FORMATTERS, Enum: _enum, datetime: _fecha}
    column_type_formatters_detail: ClassVar[dict] = {
        **typefmt.DETAIL_FORMATTERS, Enum: _enum, datetime: _fecha, bool: _si_no,
    }
    column_type_formatters_export: ClassVar[dict] = {
        **typefmt.EXPORT_FORMATTERS, Enum: _enum, datetime: _fecha, bool: _si_no,
    }

    named_filter_urls = True

    # -------------------------------------------------- running a service call

    def ejecutar(self, llamada: Callable[[], object], form=None, campos: dict | None = None,
                 exito: str | Callable[[object], str] | None = None) -> tuple[bool, object]:
        """Run a service call (with the schema load it needs); a refusal (ValidationError,
        ApiError) is rolled back, flashed with its details and shown beside the form's fields.
        `exito` (a text, or one made from the result) is flashed on success."""
        try:
            resultado = llamada()
        except ValidationError as exc:
            db.session.rollback()
            flash(no_validos(exc.messages), "error")
            marcar_errores(form, exc.normalized_messages(), campos)
            return False, None
        except ApiError as exc:
            db.session.rollback()
            flash(mensaje(exc, self.motivos), "error")
            marcar_errores(form, exc.details, campos)
            return False, None
        if exito:
            flash(exito(resultado) if callable(exito) else exito, "success")
        return True, resultado

    @staticmethod
    def id_pedido() -> int:
        """The record id of an action (`id`, in the URL or the form); 404 when it cannot be one."""
        ident = request.values.get("id", type=int)
        if not is_db_id(ident):
            abort(404)
        return ident

    def enviado(self, clase: type[SecureForm]):
        """The posted form (a button's, or one of a page's several forms), or None (flashed)
        when its CSRF token or its fields are refused."""
        form = clase(get_form_data())
        if form.validate():
            return form
        flash(self.mensaje_csrf if form.csrf_token.errors else no_validos(form.errors), "error")
        return None

    def accion(self, llamada: Callable[..., object], exito: str | Callable[[object], str],
               clase: type[AccionForm] = AccionForm):
        """A POST button: check its form, call the service for the record's id (with the form's
        fields, if `clase` has any, as keyword arguments), and go back."""
        volver = get_redirect_target() or self.get_url(".index_view")
        form = self.enviado(clase)
        if form is not None:
            ident = self.id_pedido()
            campos = {nombre: valor for nombre, valor in form.data.items() if nombre != "csrf_token"}
            self.ejecutar(lambda: llamada(ident, **campos), exito=exito)
        return redirect(volver)

    # -------------------------------------------------- a page with a small form

    def pagina(self, form, titulo: str, return_url: str, texto: str | None = None,
               plantilla: str = FORM_PAGE, **extra):
        """Render `plantilla` (a template extending admin/master.html)."""
        return self.render(plantilla, form=form, titulo=titulo, texto=texto, return_url=return_url,
                           **extra)

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

    # -------------------------------------------------- list pages

    def get_list(self, *args, **kwargs):
        """A page of rows, with the rows they name (`precargar`) read in one query each."""
        count, filas = super().get_list(*args, **kwargs)
        for modelo, columna in self.precargar:
            cargar_por_id(modelo, {getattr(fila, columna) for fila in filas})
        return count, filas

    def get_filter_arg(self, index: int, flt) -> str:
        """Readable filter URLs, accents folded: `flt0_accion_equals=eliminar`."""
        operacion = flt.operation()
        operacion = getattr(operacion, "_args", (operacion,))[0]  # the untranslated operation
        nombre = unicodedata.normalize("NFKD", f"{flt.name} {operacion}").encode("ascii", "ignore")
        return re.sub(r"[^a-z0-9]+", "_", nombre.decode().lower()).strip("_")

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

    # -------------------------------------------------- create, edit, delete through the services

    def get_create_form(self):
        return self.form_alta or super().get_create_form()

    def get_edit_form(self):
        return self.form_edicion or super().get_edit_form()

    def datos_edicion(self, form) -> dict:
        """The edit form as the JSON API's update body."""
        return datos_de(form, self.campos)

    def datos_alta(self, form) -> dict:
        """The create form as the JSON API's create body (the edit body unless a view says)."""
        return self.datos_edicion(form)

    def crear(self, datos: dict):
        """Create the record from the loaded body (a service call)."""
        raise NotImplementedError

    def actualizar(self, ident: int, datos: dict):
        """Update record `ident` with the loaded body (a service call)."""
        raise NotImplementedError

    def eliminar(self, ident: int) -> None:
        """Delete record `ident` (a service call)."""
        raise NotImplementedError

    def create_model(self, form):
        ok, model = self.ejecutar(lambda: self.crear(self.esquema_alta().load(self.datos_alta(form))),
                                  form, self.campos_servicio)
        return model if ok else False

    def update_model(self, form, model) -> bool:
        ok, _ = self.ejecutar(
            lambda: self.actualizar(model.id, self.esquema_edicion().load(self.datos_edicion(form))),
            form, self.campos_servicio)
        return ok

    def delete_model(self, model) -> bool:
        ok, _ = self.ejecutar(lambda: self.eliminar(model.id))
        return ok
