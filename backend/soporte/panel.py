"""The staff panel's support desk screens, for `admin` and `soporte` staff alike: support
types, support subscriptions (with "Renovar" and "Cancelar"), payments, and tickets (a list
and a ticket page with the whole conversation, reply, internal note, state changes,
assignment, priority, and attachments to upload and download).

Every change goes through backend.soporte.services, its body first loaded by the same schema
as the JSON API's, so the panel follows the API's rules (the quota, the transitions, the
unique name, the attachment checks) and leaves the same audit rows, with the staff member as
actor. A refusal is flashed in Spanish with the service's message and details; every form is
a SecureForm (CSRF) and every change a POST that redirects back."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import ClassVar

from flask import flash, redirect, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import (
    BaseSQLAFilter,
    BooleanEqualFilter,
    FilterEmpty,
    IntEqualFilter,
)
from flask_admin.form import SecureForm
from flask_admin.helpers import get_form_data, get_redirect_target
from flask_admin.model import typefmt
from flask_admin.model.template import TemplateLinkRowAction
from markupsafe import Markup
from marshmallow import ValidationError
from sqlalchemy import func, or_, select
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FileField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from ..core.errors import ApiError
from ..empresas.models import Empresa
from ..extensions import db
from ..identity.models import STAFF_ROLES, Rol, Usuario
from ..identity.panel_session import current_staff
from ..panel.base import StaffModelView
from ..suscripciones.models import Suscripcion
from . import schemas
from .models import (
    EstadoPago,
    EstadoSoporte,
    EstadoTicket,
    Modalidad,
    Prioridad,
    SoportePago,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTipo,
)
from .routes import files
from .services import disponibilidad, pagos, suscripciones, tickets, tipos

CATEGORIA = "Soporte"
STAFF = (Rol.ADMIN, Rol.SOPORTE)

MODALIDADES = {Modalidad.MENSUAL: "Mensual", Modalidad.ANUAL: "Anual",
               Modalidad.POR_TICKETS: "Por tickets", Modalidad.POR_HORAS: "Por horas"}
ESTADOS_SOPORTE = {EstadoSoporte.ACTIVO: "Activo", EstadoSoporte.VENCIDO: "Vencido",
                   EstadoSoporte.CANCELADO: "Cancelado",
                   EstadoSoporte.PENDIENTE_PAGO: "Pendiente de pago"}
ESTADOS_PAGO = {EstadoPago.EXITOSO: "Exitoso", EstadoPago.FALLIDO: "Fallido",
                EstadoPago.PENDIENTE: "Pendiente"}
ESTADOS_TICKET = {EstadoTicket.ABIERTO: "Abierto", EstadoTicket.EN_PROCESO: "En proceso",
                  EstadoTicket.PENDIENTE_RESPUESTA: "Pendiente de respuesta",
                  EstadoTicket.CERRADO: "Cerrado", EstadoTicket.CANCELADO: "Cancelado"}
PRIORIDADES = {Prioridad.BAJA: "Baja", Prioridad.MEDIA: "Media", Prioridad.ALTA: "Alta",
               Prioridad.URGENTE: "Urgente"}
# Why a company may not open a ticket (`details.motivo` of `soporte_no_disponible`).
MOTIVOS = {
    "sin_suscripcion_soporte": "la empresa no tiene suscripción de soporte",
    "cancelado": "su suscripción de soporte está cancelada",
    "pago_pendiente": "su suscripción de soporte espera un pago exitoso",
    "vencido": "su suscripción de soporte está vencida",
    "fuera_de_vigencia": "su suscripción de soporte aún no ha empezado",
    "suscripcion_no_vigente": "la empresa o su suscripción al plan no están vigentes",
    "cupo_tickets_agotado": "agotó el cupo de tickets del periodo",
    "cupo_horas_agotado": "agotó el cupo de horas del periodo",
}
# What a state button of the ticket page does, by `accion`.
ACCIONES_TICKET = {
    "en_proceso": "Pasar a en proceso",
    "pendiente_respuesta": "Pendiente de respuesta",
    "abierto": "Volver a abierto",
    "cerrar": "Cerrar",
    "reabrir": "Reabrir",
    "cancelar": "Cancelar ticket",
}
INVALID_CSRF = "El formulario caducó o no es válido; recargue la página e intente de nuevo."


# ---------------------------------------------------------------- helpers

def _opciones(etiquetas: dict) -> list[tuple[str, str]]:
    """A filter's options: (value, Spanish label)."""
    return [(str(valor), texto) for valor, texto in etiquetas.items()]


def _choices(etiquetas: dict) -> list[SelectChoice]:
    """A select field's choices: value and Spanish label."""
    return [SelectChoice(str(valor), texto) for valor, texto in etiquetas.items()]


def _json(valor):
    """A form value as the JSON API would receive it (for the API's schemas)."""
    if isinstance(valor, Enum):
        return valor.value
    if isinstance(valor, Decimal):
        return str(valor)
    if isinstance(valor, datetime | date):
        return valor.isoformat()
    return valor


def _texto(valor) -> str:
    if isinstance(valor, dict):
        return "; ".join(f"{clave}: {_texto(v)}" for clave, v in valor.items())
    if isinstance(valor, list | tuple):
        return ", ".join(_texto(v) for v in valor)
    return str(valor)


def mensaje_de(exc: ApiError) -> str:
    """A service's refusal as staff read it: its message, then its details (a `motivo` named
    in Spanish)."""
    detalles = exc.details if isinstance(exc.details, dict) else {}
    motivo = detalles.get("motivo")
    if motivo:
        return f"{exc.message} Motivo: {MOTIVOS.get(motivo, motivo)} ({motivo})."
    if exc.details:
        return f"{exc.message} ({_texto(exc.details)})"
    return exc.message


def _marcar(form, detalles) -> None:
    """Show the errors of a refusal beside the form's fields of the same name."""
    if form is None or not isinstance(detalles, dict):
        return
    for campo, mensajes in detalles.items():
        if campo in form:
            errores = mensajes if isinstance(mensajes, list) else [mensajes]
            form[campo].errors = [*form[campo].errors, *(str(m) for m in errores)]


def ejecutar(accion, form=None):
    """Run `accion` (a schema load and a service call); on a refusal roll back, flash it (and
    mark the form's fields) and answer False."""
    try:
        return accion()
    except ValidationError as exc:
        db.session.rollback()
        _marcar(form, exc.messages)
        flash(f"Los datos enviados no son válidos. ({_texto(exc.messages)})", "error")
    except ApiError as exc:
        db.session.rollback()
        _marcar(form, exc.details)
        flash(mensaje_de(exc), "error")
    return False


def _etiqueta(etiquetas: dict):
    def formatter(_view, _context, model, name):
        valor = getattr(model, name)
        return etiquetas.get(valor, valor) if valor is not None else ""
    return formatter


def _empresa(empresa_id: int | None) -> Empresa | None:
    return db.session.get(Empresa, empresa_id) if empresa_id else None


def _usuario(usuario_id: int | None) -> Usuario | None:
    return db.session.get(Usuario, usuario_id) if usuario_id else None


def _nombre_empresa(_view, _context, model, name) -> str:
    empresa = _empresa(getattr(model, name))
    return empresa.nombre if empresa else ""


def _nombre_usuario(_view, _context, model, name) -> str:
    usuario = _usuario(getattr(model, name))
    return usuario.nombre if usuario else ""


def _etiqueta_empresa(empresa: Empresa) -> str:
    return f"{empresa.nombre} (NIT {empresa.nit})"


def _etiqueta_suscripcion(suscripcion: Suscripcion) -> str:
    return (f"#{suscripcion.id} {suscripcion.empresa.nombre} — {suscripcion.plan.nombre} "
            f"({suscripcion.estado}, {suscripcion.fecha_inicio} a {suscripcion.fecha_fin})")


def _etiqueta_soporte(soporte: SoporteSuscripcion) -> str:
    return (f"#{soporte.id} {soporte.empresa.nombre} — {soporte.soporte_tipo.nombre} "
            f"({ESTADOS_SOPORTE[soporte.estado_efectivo]})")


def _empresas():
    return db.session.scalars(select(Empresa).order_by(Empresa.nombre, Empresa.id)).all()


def _suscripciones():
    return db.session.scalars(select(Suscripcion).order_by(Suscripcion.id.desc())).all()


def _tipos():
    return db.session.scalars(select(SoporteTipo).order_by(SoporteTipo.nombre)).all()


def _soportes():
    return db.session.scalars(select(SoporteSuscripcion).order_by(SoporteSuscripcion.id.desc())).all()


def _clientes():
    return db.session.scalars(select(Usuario).where(Usuario.rol == Rol.CLIENTE)
                              .order_by(Usuario.nombre, Usuario.id)).all()


def _staff_activo() -> list[Usuario]:
    return list(db.session.scalars(select(Usuario).where(Usuario.rol.in_(STAFF_ROLES),
                                                          Usuario.is_active.is_(True))
                                   .order_by(Usuario.nombre, Usuario.id)))


def _id(objeto) -> int | None:
    return objeto.id if objeto is not None else None


# ---------------------------------------------------------------- filters

class Igual(BaseSQLAFilter):
    """Equal to one of a fixed set of values (an enum's), offered with Spanish labels."""

    def __init__(self, column, name: str, etiquetas: dict):
        self.enum_cls = type(next(iter(etiquetas)))
        super().__init__(column, name, options=_opciones(etiquetas))

    def clean(self, value):
        return self.enum_cls(value)  # ValueError: Flask-Admin ignores the filter

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias) == value)

    def operation(self):
        return "igual a"


class EstadoDeHoy(Igual):
    """A support subscription's state as read today (`activo` past its end is `vencido`),
    the same condition as the API's filter."""

    def apply(self, query, value, alias=None):
        return query.filter(suscripciones._filtro_estado(value))


class Contiene(BaseSQLAFilter):
    """Rows whose `column` (an id) is among the ids `ids(texto)` selects: a company by part
    of its name or NIT, a staff member by part of their name or email."""

    def __init__(self, column, name: str, ids):
        self.ids = ids
        super().__init__(column, name)

    def clean(self, value):
        value = value.strip().lower()
        if not value:
            raise ValueError("vacío")
        return value

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias).in_(self.ids(value)))

    def operation(self):
        return "contiene"


def _ids_empresas(texto: str):
    return select(Empresa.id).where(or_(func.lower(Empresa.nombre).contains(texto, autoescape=True),
                                        func.lower(Empresa.nit).contains(texto, autoescape=True)))


def _ids_soportes_de_empresas(texto: str):
    return select(SoporteSuscripcion.id).where(SoporteSuscripcion.empresa_id.in_(_ids_empresas(texto)))


def _ids_usuarios(texto: str):
    return select(Usuario.id).where(or_(func.lower(Usuario.nombre).contains(texto, autoescape=True),
                                        func.lower(Usuario.email).contains(texto, autoescape=True)))


# ---------------------------------------------------------------- forms

class TipoForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=120)])
    descripcion = TextAreaField("Descripción", validators=[Optional()])
    modalidad = SelectField("Modalidad", choices=_choices(MODALIDADES))
    precio = DecimalField("Precio", places=2, validators=[InputRequired()])
    max_tickets = IntegerField("Máximo de tickets por periodo", validators=[Optional()],
                               description="Requerido para la modalidad por tickets.")
    max_horas = DecimalField("Máximo de horas por periodo", places=2, validators=[Optional()],
                             description="Requerido para la modalidad por horas.")
    activo = BooleanField("Activo", default=True)


class SoporteCrearForm(SecureForm):
    empresa_id = QuerySelectField("Empresa", query_factory=_empresas, get_label=_etiqueta_empresa)
    suscripcion_id = QuerySelectField("Suscripción al plan", query_factory=_suscripciones,
                                      get_label=_etiqueta_suscripcion)
    soporte_tipo_id = QuerySelectField("Tipo de soporte", query_factory=_tipos, get_label="nombre")
    fecha_inicio = DateField("Fecha de inicio", validators=[Optional()],
                             description="Vacío: hoy.")
    fecha_fin = DateField("Fecha de fin", validators=[Optional()],
                          description="Vacío: un mes después del inicio (un año si es anual).")
    estado = SelectField("Estado inicial", choices=_choices(
        {EstadoSoporte.ACTIVO: "Activo", EstadoSoporte.PENDIENTE_PAGO: "Pendiente de pago"}))
    notas = TextAreaField("Notas", validators=[Optional()])


class SoporteEditarForm(SecureForm):
    fecha_inicio = DateField("Fecha de inicio", validators=[InputRequired()])
    fecha_fin = DateField("Fecha de fin", validators=[InputRequired()])
    notas = TextAreaField("Notas", validators=[Optional()])


class AccionForm(SecureForm):
    """A lifecycle button of a row (Renovar, Cancelar)."""

    id = HiddenField(validators=[InputRequired()])
    notas = TextAreaField("Notas", validators=[Optional()])


class PagoCrearForm(SecureForm):
    soporte_suscripcion_id = QuerySelectField("Suscripción de soporte", query_factory=_soportes,
                                              get_label=_etiqueta_soporte)
    monto = DecimalField("Monto", places=2, validators=[InputRequired()])
    estado = SelectField("Estado", choices=_choices(ESTADOS_PAGO))
    metodo_pago = StringField("Método de pago", validators=[Optional(), Length(max=50)])
    referencia = StringField("Referencia", validators=[Optional(), Length(max=120)])
    fecha_pago = DateTimeLocalField("Fecha de pago (UTC)", validators=[Optional()],
                                    description="Vacío: ahora.")


class PagoEditarForm(SecureForm):
    estado = SelectField("Estado", choices=_choices(ESTADOS_PAGO))
    metodo_pago = StringField("Método de pago", validators=[Optional(), Length(max=50)])
    referencia = StringField("Referencia", validators=[Optional(), Length(max=120)])


class TicketCrearForm(SecureForm):
    empresa_id = QuerySelectField("Empresa", query_factory=_empresas, get_label=_etiqueta_empresa)
    titulo = StringField("Título", validators=[InputRequired(), Length(max=255)])
    descripcion = TextAreaField("Descripción", validators=[InputRequired()])
    prioridad = SelectField("Prioridad", choices=_choices(PRIORIDADES), default="media")
    usuario_id = QuerySelectField("Usuario de la empresa", query_factory=_clientes,
                                  get_label=lambda u: f"{u.nombre} <{u.email}>", allow_blank=True,
                                  blank_text="(ninguno)")


class ComentarioForm(SecureForm):
    contenido = TextAreaField("Mensaje", validators=[InputRequired()])
    interno = HiddenField(default="0")


class EstadoForm(SecureForm):
    accion = HiddenField(validators=[InputRequired()])
    horas = StringField("Horas dedicadas", validators=[Optional()])


class AsignarForm(SecureForm):
    # The service decides who may be assigned (active staff only), as for the API.
    asignado_a = SelectField("Asignado a", choices=[], validate_choice=False)


class PrioridadForm(SecureForm):
    prioridad = SelectField("Prioridad", choices=_choices(PRIORIDADES), validate_choice=False)


class ArchivoForm(SecureForm):
    file = FileField("Archivo")


# ---------------------------------------------------------------- the screens

def _fecha_hora(_view, valor, _name) -> str:
    return valor.strftime("%Y-%m-%d %H:%M")


def _si_no_tipo(_view, valor, _name) -> str:
    return "sí" if valor else "no"


class SoporteModelView(StaffModelView):
    """A support desk screen: both staff roles, times to the minute (UTC), readable filter URLs."""

    roles = STAFF
    named_filter_urls = True
    column_type_formatters: ClassVar[dict] = {**typefmt.BASE_FORMATTERS, datetime: _fecha_hora}
    column_type_formatters_detail: ClassVar[dict] = {**typefmt.DETAIL_FORMATTERS, datetime: _fecha_hora}
    column_type_formatters_export: ClassVar[dict] = {
        **typefmt.EXPORT_FORMATTERS, datetime: _fecha_hora, bool: _si_no_tipo,
    }


# ---------------------------------------------------------------- support types

class TiposView(SoporteModelView):
    """Support types: what staff sell (CRUD through services.tipos)."""

    column_list = ("id", "nombre", "modalidad", "precio", "max_tickets", "max_horas", "activo",
                   "created_at")
    column_details_list = ("id", "nombre", "descripcion", "modalidad", "precio", "max_tickets",
                           "max_horas", "activo", "created_at", "updated_at")
    column_export_list = column_details_list
    column_labels: ClassVar[dict] = {
        "id": "Id", "nombre": "Nombre", "descripcion": "Descripción", "modalidad": "Modalidad",
        "precio": "Precio", "max_tickets": "Máx. tickets", "max_horas": "Máx. horas", "activo": "Activo",
        "created_at": "Creado", "updated_at": "Actualizado",
    }
    column_searchable_list = ("nombre",)
    column_sortable_list = ("id", "nombre", "modalidad", "precio", "activo", "created_at")
    column_default_sort = ("id", False)
    column_formatters: ClassVar[dict] = {"modalidad": _etiqueta(MODALIDADES)}
    column_formatters_export: ClassVar[dict] = {"modalidad": _etiqueta(MODALIDADES)}

    def __init__(self):
        self.column_filters = [Igual(SoporteTipo.modalidad, "Modalidad", MODALIDADES),
                               BooleanEqualFilter(SoporteTipo.activo, "Activo")]
        super().__init__(SoporteTipo, db, name="Tipos de soporte", category=CATEGORIA,
                         endpoint="panel_soporte_tipos", url="soporte-tipos")

    def get_create_form(self):
        return TipoForm

    def get_edit_form(self):
        return TipoForm

    @staticmethod
    def _cuerpo(form) -> dict:
        return {"nombre": form.nombre.data, "descripcion": form.descripcion.data or None,
                "modalidad": form.modalidad.data, "precio": _json(form.precio.data),
                "max_tickets": form.max_tickets.data, "max_horas": _json(form.max_horas.data),
                "activo": form.activo.data}

    def create_model(self, form):
        return ejecutar(lambda: tipos.crear(schemas.SoporteTipoSchema().load(self._cuerpo(form))),
                        form)

    def update_model(self, form, model):
        return ejecutar(lambda: tipos.actualizar(
            model.id, schemas.SoporteTipoUpdateSchema(partial=True).load(self._cuerpo(form))), form)

    def delete_model(self, model):
        return ejecutar(lambda: tipos.eliminar(model.id) or True)


# ---------------------------------------------------------------- support subscriptions

def _estado_soporte(_view, _context, model, _name) -> str:
    return ESTADOS_SOPORTE[model.estado_efectivo]


def _cupo_tickets(_view, _context, model, _name) -> str:
    maximo, _ = disponibilidad.limites(model)
    return f"{model.tickets_consumidos} de {maximo}" if maximo is not None else str(model.tickets_consumidos)


def _cupo_horas(_view, _context, model, _name) -> str:
    _, maximo = disponibilidad.limites(model)
    return f"{model.horas_consumidas} de {maximo}" if maximo is not None else str(model.horas_consumidas)


class SuscripcionesSoporteView(SoporteModelView):
    """Support subscriptions: create (services.suscripciones.crear), dates and notes, and the
    "Renovar" and "Cancelar" buttons; the state is read as of today."""

    list_template = "panel/soporte/suscripciones_list.html"
    details_template = "panel/soporte/suscripcion_details.html"
    column_list = ("id", "empresa.nombre", "soporte_tipo.nombre", "fecha_inicio", "fecha_fin",
                   "estado", "precio_actual", "tickets_consumidos", "horas_consumidas")
    column_details_list = ("id", "empresa.nombre", "suscripcion_id", "soporte_tipo.nombre",
                           "fecha_inicio", "fecha_fin", "estado", "precio_actual",
                           "tickets_consumidos", "horas_consumidas", "notas", "creado_por",
                           "created_at", "updated_at")
    column_export_list = ("id", "empresa_id", "empresa.nombre", "suscripcion_id",
                          "soporte_tipo.nombre", "fecha_inicio", "fecha_fin", "estado",
                          "precio_actual", "tickets_consumidos", "horas_consumidas", "notas",
                          "created_at")
    column_labels: ClassVar[dict] = {
        "id": "Id", "empresa_id": "Empresa (id)", "empresa.nombre": "Empresa", "empresa.nit": "NIT",
        "suscripcion_id": "Suscripción al plan", "soporte_tipo.nombre": "Tipo", "fecha_inicio": "Inicio",
        "fecha_fin": "Fin", "estado": "Estado", "precio_actual": "Precio",
        "tickets_consumidos": "Tickets consumidos", "horas_consumidas": "Horas consumidas", "notas": "Notas",
        "creado_por": "Creado por", "created_at": "Creado", "updated_at": "Actualizado",
    }
    column_searchable_list = ("empresa.nombre", "empresa.nit")
    column_sortable_list = ("id", "fecha_inicio", "fecha_fin", "precio_actual",
                            "tickets_consumidos", "horas_consumidas",
                            ("empresa.nombre", "empresa.nombre"))
    column_default_sort = ("id", True)
    column_formatters: ClassVar[dict] = {
        "estado": _estado_soporte, "tickets_consumidos": _cupo_tickets, "horas_consumidas": _cupo_horas,
    }
    column_formatters_detail: ClassVar[dict] = {**column_formatters, "creado_por": _nombre_usuario}
    column_formatters_export: ClassVar[dict] = {"estado": _estado_soporte}
    column_extra_row_actions: ClassVar[list] = [
        TemplateLinkRowAction("soporte_acciones.renovar", "Renovar"),
        TemplateLinkRowAction("soporte_acciones.cancelar", "Cancelar"),
    ]

    def __init__(self):
        self.column_filters = [
            Contiene(SoporteSuscripcion.empresa_id, "Empresa", _ids_empresas),
            IntEqualFilter(SoporteSuscripcion.empresa_id, "Empresa (id)"),
            EstadoDeHoy(SoporteSuscripcion.estado, "Estado", ESTADOS_SOPORTE),
            IntEqualFilter(SoporteSuscripcion.soporte_tipo_id, "Tipo (id)"),
        ]
        super().__init__(SoporteSuscripcion, db, name="Suscripciones de soporte",
                         category=CATEGORIA, endpoint="panel_soporte_suscripciones",
                         url="soporte-suscripciones")

    def render(self, template, **kwargs):
        kwargs.setdefault("accion_csrf", AccionForm().csrf_token.current_token)
        kwargs.setdefault("estados_soporte", ESTADOS_SOPORTE)
        kwargs.setdefault("estados_pago", ESTADOS_PAGO)
        return super().render(template, **kwargs)

    def get_create_form(self):
        return SoporteCrearForm

    def get_edit_form(self):
        return SoporteEditarForm

    def create_model(self, form):
        cuerpo = {"empresa_id": _id(form.empresa_id.data), "suscripcion_id": _id(form.suscripcion_id.data),
                  "soporte_tipo_id": _id(form.soporte_tipo_id.data), "estado": form.estado.data,
                  "notas": form.notas.data or None}
        for campo in ("fecha_inicio", "fecha_fin"):
            if form[campo].data is not None:
                cuerpo[campo] = _json(form[campo].data)
        return ejecutar(lambda: suscripciones.crear(schemas.SoporteSuscripcionSchema().load(cuerpo),
                                                    current_staff()), form)

    def update_model(self, form, model):
        cuerpo = {"fecha_inicio": _json(form.fecha_inicio.data),
                  "fecha_fin": _json(form.fecha_fin.data), "notas": form.notas.data or None}
        return ejecutar(lambda: suscripciones.actualizar(
            model.id, schemas.SoporteSuscripcionUpdateSchema().load(cuerpo)), form)

    def delete_model(self, model):
        return ejecutar(lambda: suscripciones.eliminar(model.id) or True)

    def _accion(self, hacer, hecho: str):
        volver = get_redirect_target() or self.get_url(".index_view")
        form = AccionForm(get_form_data())
        if not form.validate() or not form.id.data.isdigit():
            flash(INVALID_CSRF if form.csrf_token.errors else "Solicitud no válida.", "error")
            return redirect(volver)
        soporte = ejecutar(lambda: hacer(int(form.id.data), form))
        if soporte:
            flash(hecho.format(id=soporte.id, empresa=soporte.empresa.nombre), "success")
        return redirect(volver)

    @expose("/renovar/", methods=("POST",))
    def renovar_view(self):
        """A new period with the counters at zero (services.suscripciones.renovar)."""
        return self._accion(lambda soporte_id, _form: suscripciones.renovar(soporte_id),
                            "Suscripción de soporte #{id} ({empresa}) renovada: nuevo periodo con "
                            "los contadores en cero.")

    @expose("/cancelar/", methods=("POST",))
    def cancelar_view(self):
        """Cancel it (services.suscripciones.cancelar), with optional notes."""
        def cancelar(soporte_id, form):
            datos = schemas.CancelarSoporteSchema().load({"notas": form.notas.data or None})
            return suscripciones.cancelar(soporte_id, datos.get("notas"))
        return self._accion(cancelar, "Suscripción de soporte #{id} ({empresa}) cancelada.")


# ---------------------------------------------------------------- payments

def _soporte_de_pago(_view, _context, model, _name) -> str:
    soporte = model.soporte_suscripcion
    return f"#{soporte.id} {soporte.empresa.nombre}" if soporte else ""


class PagosView(SoporteModelView):
    """Support payments: create (an `exitoso` one activates a `pendiente_pago` support
    subscription), change their state (an `exitoso` one stays so), delete one that failed."""

    column_list = ("id", "soporte_suscripcion", "monto", "estado", "metodo_pago", "referencia",
                   "fecha_pago", "creado_por")
    column_details_list = ("id", "soporte_suscripcion", "monto", "estado", "metodo_pago",
                           "referencia", "detalle", "fecha_pago", "creado_por", "created_at",
                           "updated_at")
    column_export_list = ("id", "soporte_suscripcion_id", "soporte_suscripcion", "monto", "estado",
                          "metodo_pago", "referencia", "fecha_pago", "creado_por", "created_at")
    column_labels: ClassVar[dict] = {
        "id": "Id", "soporte_suscripcion": "Suscripción de soporte",
        "soporte_suscripcion_id": "Suscripción de soporte (id)", "monto": "Monto", "estado": "Estado",
        "metodo_pago": "Método de pago", "referencia": "Referencia", "detalle": "Detalle",
        "fecha_pago": "Fecha de pago", "creado_por": "Registrado por", "created_at": "Creado",
        "updated_at": "Actualizado",
    }
    column_searchable_list = ("referencia", "metodo_pago")
    column_sortable_list = ("id", "monto", "estado", "fecha_pago")
    column_default_sort = ("id", True)
    column_formatters: ClassVar[dict] = {
        "soporte_suscripcion": _soporte_de_pago, "estado": _etiqueta(ESTADOS_PAGO),
        "creado_por": _nombre_usuario,
    }
    column_formatters_export: ClassVar[dict] = column_formatters

    def __init__(self):
        self.column_filters = [
            Igual(SoportePago.estado, "Estado", ESTADOS_PAGO),
            Contiene(SoportePago.soporte_suscripcion_id, "Empresa", _ids_soportes_de_empresas),
            IntEqualFilter(SoportePago.soporte_suscripcion_id, "Suscripción de soporte (id)"),
        ]
        super().__init__(SoportePago, db, name="Pagos de soporte", category=CATEGORIA,
                         endpoint="panel_soporte_pagos", url="soporte-pagos")

    def get_create_form(self):
        return PagoCrearForm

    def get_edit_form(self):
        return PagoEditarForm

    def create_model(self, form):
        cuerpo = {"soporte_suscripcion_id": _id(form.soporte_suscripcion_id.data),
                  "monto": _json(form.monto.data), "estado": form.estado.data,
                  "metodo_pago": form.metodo_pago.data or None,
                  "referencia": form.referencia.data or None}
        if form.fecha_pago.data is not None:
            cuerpo["fecha_pago"] = _json(form.fecha_pago.data)
        return ejecutar(lambda: pagos.crear(schemas.SoportePagoSchema().load(cuerpo), current_staff()),
                        form)

    def update_model(self, form, model):
        cuerpo = {"estado": form.estado.data, "metodo_pago": form.metodo_pago.data or None,
                  "referencia": form.referencia.data or None}
        return ejecutar(lambda: pagos.actualizar(model.id, schemas.SoportePagoUpdateSchema().load(cuerpo)),
                        form)

    def delete_model(self, model):
        return ejecutar(lambda: pagos.eliminar(model.id) or True)


# ---------------------------------------------------------------- tickets

def _titulo_enlace(view, _context, model, _name):
    return Markup('<a href="{}">{}</a>').format(view.get_url(".details_view", id=model.id),
                                                model.titulo)


# The Bootstrap badge of each ticket state.
CLASES_ESTADO = {EstadoTicket.ABIERTO: "primary", EstadoTicket.EN_PROCESO: "info",
                 EstadoTicket.PENDIENTE_RESPUESTA: "warning", EstadoTicket.CERRADO: "secondary",
                 EstadoTicket.CANCELADO: "dark"}


def _estado_ticket(_view, _context, model, _name):
    return Markup('<span class="badge badge-{}">{}</span>').format(CLASES_ESTADO[model.estado],
                                                                   ESTADOS_TICKET[model.estado])


class TicketsView(SoporteModelView):
    """Tickets: the list (filters, search in title and description, CSV), opening one for a
    company (services.tickets.abrir: the availability rule and quota), and the ticket page."""

    details_template = "panel/soporte/ticket.html"
    can_edit = False  # changes are made on the ticket page, one service call each
    can_delete = False  # the API deletes no ticket either
    column_list = ("id", "titulo", "empresa_id", "estado", "prioridad", "asignado_a", "created_at",
                   "updated_at")
    column_export_list = ("id", "empresa_id", "titulo", "descripcion", "estado", "prioridad",
                          "usuario_id", "asignado_a", "horas_invertidas", "soporte_suscripcion_id",
                          "created_at", "updated_at", "cerrado_at")
    column_labels: ClassVar[dict] = {
        "id": "Id", "titulo": "Título", "descripcion": "Descripción", "empresa_id": "Empresa",
        "estado": "Estado", "prioridad": "Prioridad", "usuario_id": "Usuario", "asignado_a": "Asignado a",
        "horas_invertidas": "Horas invertidas", "soporte_suscripcion_id": "Suscripción de soporte (id)",
        "created_at": "Abierto", "updated_at": "Actualizado", "cerrado_at": "Cerrado",
    }
    column_searchable_list = ("titulo", "descripcion")
    column_sortable_list = ("id", "titulo", "estado", "prioridad", "created_at", "updated_at")
    column_default_sort = ("id", True)
    column_formatters: ClassVar[dict] = {
        "titulo": _titulo_enlace, "empresa_id": _nombre_empresa, "estado": _estado_ticket,
        "prioridad": _etiqueta(PRIORIDADES), "asignado_a": _nombre_usuario,
    }
    column_formatters_export: ClassVar[dict] = {
        "empresa_id": _nombre_empresa, "estado": _etiqueta(ESTADOS_TICKET),
        "prioridad": _etiqueta(PRIORIDADES), "usuario_id": _nombre_usuario, "asignado_a": _nombre_usuario,
    }

    def __init__(self):
        self.column_filters = [
            Igual(SoporteTicket.estado, "Estado", ESTADOS_TICKET),
            Igual(SoporteTicket.prioridad, "Prioridad", PRIORIDADES),
            Contiene(SoporteTicket.empresa_id, "Empresa", _ids_empresas),
            IntEqualFilter(SoporteTicket.empresa_id, "Empresa (id)"),
            Contiene(SoporteTicket.asignado_a, "Asignado a", _ids_usuarios),
            IntEqualFilter(SoporteTicket.asignado_a, "Asignado a (id)"),
            FilterEmpty(SoporteTicket.asignado_a, "Sin asignar"),
        ]
        super().__init__(SoporteTicket, db, name="Tickets", category=CATEGORIA,
                         endpoint="panel_soporte_tickets", url="soporte-tickets")

    # -------------------------------------------------- opening

    def get_create_form(self):
        return TicketCrearForm

    def create_model(self, form):
        cuerpo = {"empresa_id": _id(form.empresa_id.data), "titulo": form.titulo.data,
                  "descripcion": form.descripcion.data, "prioridad": form.prioridad.data,
                  "usuario_id": _id(form.usuario_id.data)}

        def abrir():
            datos = schemas.TicketSchema().load(cuerpo)
            return tickets.abrir(datos["empresa_id"], datos["titulo"], datos["descripcion"],
                                 datos["prioridad"], datos.get("usuario_id"), datos.get("metadata_"))
        return ejecutar(abrir, form)

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # -------------------------------------------------- the ticket page

    def _pagina(self, ticket_id: int):
        return redirect(self.get_url(".details_view", id=ticket_id))

    @expose("/details/")
    def details_view(self):
        """The ticket page: the conversation (internal notes marked), the files, and the forms."""
        ticket_id = request.args.get("id", type=int)
        try:
            ticket = tickets.obtener(ticket_id)
        except ApiError as exc:
            flash(mensaje_de(exc), "error")
            return redirect(self.get_url(".index_view"))
        ids = {ticket.usuario_id, ticket.asignado_a, *(c.usuario_id for c in ticket.comentarios),
               *(a.subido_por for a in ticket.archivos)} - {None}
        usuarios = {u.id: u for u in db.session.scalars(select(Usuario).where(Usuario.id.in_(ids)))}
        soporte = db.session.get(SoporteSuscripcion, ticket.soporte_suscripcion_id) \
            if ticket.soporte_suscripcion_id else None
        asignar = AsignarForm(asignado_a=str(ticket.asignado_a or ""))
        asignar.asignado_a.choices = [SelectChoice("", "(sin asignar)"), *(
            SelectChoice(str(u.id), f"{u.nombre} ({u.rol})") for u in _staff_activo())]
        acciones = self._acciones(ticket)
        return self.render(
            self.details_template, ticket=ticket, empresa=_empresa(ticket.empresa_id),
            usuarios=usuarios, soporte=soporte,
            limites=disponibilidad.limites(soporte) if soporte else (None, None),
            csrf=ComentarioForm().csrf_token.current_token, asignar=asignar,
            prioridad_form=PrioridadForm(prioridad=str(ticket.prioridad)), acciones=acciones,
            estados=ESTADOS_TICKET, clases_estado=CLASES_ESTADO, prioridades=PRIORIDADES,
            modalidades=MODALIDADES, estados_soporte=ESTADOS_SOPORTE,
            return_url=self.get_url(".index_view"))

    @staticmethod
    def _acciones(ticket: SoporteTicket) -> list[tuple[str, str]]:
        """The state buttons the transition table allows from the ticket's state."""
        permitidos = tickets.TRANSICIONES[ticket.estado]
        acciones = []
        for hacia, accion in ((EstadoTicket.EN_PROCESO, "en_proceso"),
                              (EstadoTicket.PENDIENTE_RESPUESTA, "pendiente_respuesta"),
                              (EstadoTicket.ABIERTO, "abierto"), (EstadoTicket.CANCELADO, "cancelar")):
            if hacia in permitidos:
                if hacia == EstadoTicket.ABIERTO and ticket.estado not in tickets.ABIERTOS:
                    accion = "reabrir"
                acciones.append((accion, ACCIONES_TICKET[accion]))
        return acciones

    @staticmethod
    def _formulario(clase):
        """The posted form, or None (flashed) when its CSRF token or fields are refused."""
        form = clase(get_form_data())
        if form.validate():
            return form
        if form.csrf_token.errors:
            flash(INVALID_CSRF, "error")
        else:
            flash(f"Los datos enviados no son válidos. ({_texto(form.errors)})", "error")
        return None

    @expose("/<int:ticket_id>/comentar", methods=("POST",))
    def comentar_view(self, ticket_id: int):
        """Reply to the company (it is emailed) or add an internal note (`interno=1`)."""
        form = self._formulario(ComentarioForm)
        if form is not None:
            interno = form.interno.data in ("1", "true", "on")

            def comentar():
                datos = schemas.ComentarioSchema().load({"contenido": form.contenido.data,
                                                         "interno": interno})
                return tickets.comentar_staff(ticket_id, datos["contenido"], datos["interno"],
                                              current_staff())
            if ejecutar(comentar):
                flash("Nota interna añadida (la empresa no la ve)." if interno
                      else "Respuesta enviada a la empresa.", "success")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/estado", methods=("POST",))
    def estado_view(self, ticket_id: int):
        """Change the state: close (with hours), reopen, cancel, or move between the open
        states, all through the transition table."""
        form = self._formulario(EstadoForm)
        if form is None:
            return self._pagina(ticket_id)
        accion = form.accion.data

        def cambiar():
            if accion == "cerrar":
                horas = (form.horas.data or "").strip()
                datos = schemas.CerrarTicketSchema().load({"horas": horas} if horas else {})
                return tickets.cerrar(ticket_id, datos.get("horas"))
            if accion == "reabrir":
                return tickets.reabrir(ticket_id)
            if accion == "cancelar":
                return tickets.cancelar(ticket_id)
            datos = schemas.TicketPatchSchema().load({"estado": accion})
            return tickets.modificar(ticket_id, datos)
        if accion not in ACCIONES_TICKET:
            flash("Acción no válida.", "error")
        elif (ticket := ejecutar(cambiar)):
            flash(f"Ticket #{ticket.id}: estado {ESTADOS_TICKET[ticket.estado]}.", "success")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/asignar", methods=("POST",))
    def asignar_view(self, ticket_id: int):
        """Assign to a staff member, or unassign (the service refuses anyone else)."""
        form = self._formulario(AsignarForm)
        if form is not None:
            valor = (form.asignado_a.data or "").strip()
            cuerpo = {"asignado_a": (int(valor) if valor.isdigit() else valor) if valor else None}
            ticket = ejecutar(lambda: tickets.modificar(
                ticket_id, schemas.TicketPatchSchema().load(cuerpo)))
            if ticket:
                asignado = _usuario(ticket.asignado_a)
                flash(f"Ticket #{ticket.id} asignado a {asignado.nombre}." if asignado
                      else f"Ticket #{ticket.id} sin asignar.", "success")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/prioridad", methods=("POST",))
    def prioridad_view(self, ticket_id: int):
        """Change the priority."""
        form = self._formulario(PrioridadForm)
        if form is not None:
            ticket = ejecutar(lambda: tickets.modificar(
                ticket_id, schemas.TicketPatchSchema().load({"prioridad": form.prioridad.data})))
            if ticket:
                flash(f"Ticket #{ticket.id}: prioridad {PRIORIDADES[ticket.prioridad]}.", "success")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/archivos", methods=("POST",))
    def subir_view(self, ticket_id: int):
        """Attach a file: the same checks and limits as the API (10 MB each, 50 MB per ticket,
        allowed extensions, the content matching its extension)."""
        form = self._formulario(ArchivoForm)
        if form is not None:
            archivo = request.files.get("file")
            if archivo is None:
                flash("Elija un archivo para adjuntar.", "error")
            elif (fila := ejecutar(lambda: files.upload(tickets.obtener(ticket_id), archivo,
                                                        current_staff()))):
                flash(f"Archivo «{fila.nombre}» adjuntado.", "success")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/archivos/<int:archivo_id>")
    def descargar_view(self, ticket_id: int, archivo_id: int):
        """Download a file of the ticket (the API's answer: its exact bytes as an attachment)."""
        try:
            return files.download(tickets.obtener(ticket_id), archivo_id)
        except ApiError as exc:
            flash(mensaje_de(exc), "error")
            return self._pagina(ticket_id) if db.session.get(SoporteTicket, ticket_id) \
                else redirect(self.get_url(".index_view"))


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [TicketsView(), SuscripcionesSoporteView(), PagosView(), TiposView()]

