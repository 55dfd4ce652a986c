"""The support subscriptions screen: created (services.suscripciones.crear: the company's plan
subscription and the type, the first period and its state), dates and notes edited, deleted
while nothing hangs on them, and the "Renovar" and "Cancelar" buttons of the list and the
details page (with its payments); the state is read as of today (`activo` past its end is
`vencido`), as the API's filter reads it."""
from __future__ import annotations

from typing import ClassVar

from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.form import SecureForm
from flask_admin.model.template import TemplateLinkRowAction
from sqlalchemy import select
from wtforms import DateField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional

from ...extensions import db
from ...identity.panel_session import current_staff
from ...panel.filters import Contiene, ids_empresas
from ...panel.labels import ESTADOS_PAGO, ESTADOS_SOPORTE, choices
from ...panel.lookups import empresas_query
from ...panel.screens import AccionForm, id_de, valor_json
from ...suscripciones.models import Suscripcion
from ..models import EstadoSoporte, SoporteSuscripcion, SoporteTipo
from ..schemas import CancelarSoporteSchema, SoporteSuscripcionSchema, SoporteSuscripcionUpdateSchema
from ..services import disponibilidad, suscripciones
from .comun import Igual, SoporteModelView, empresa_con_nit, nombre_usuario


def _suscripciones():
    return db.session.scalars(select(Suscripcion).order_by(Suscripcion.id.desc())).all()


def _tipos():
    return db.session.scalars(select(SoporteTipo).order_by(SoporteTipo.nombre)).all()


def _etiqueta_suscripcion(suscripcion: Suscripcion) -> str:
    return (f"#{suscripcion.id} {suscripcion.empresa.nombre} — {suscripcion.plan.nombre} "
            f"({suscripcion.estado}, {suscripcion.fecha_inicio} a {suscripcion.fecha_fin})")


class SoporteCrearForm(SecureForm):
    empresa_id = QuerySelectField("Empresa", query_factory=empresas_query, get_label=empresa_con_nit)
    suscripcion_id = QuerySelectField("Suscripción al plan", query_factory=_suscripciones,
                                      get_label=_etiqueta_suscripcion)
    soporte_tipo_id = QuerySelectField("Tipo de soporte", query_factory=_tipos, get_label="nombre")
    fecha_inicio = DateField("Fecha de inicio", validators=[Optional()],
                             description="Vacío: hoy.")
    fecha_fin = DateField("Fecha de fin", validators=[Optional()],
                          description="Vacío: un mes después del inicio (un año si es anual).")
    estado = SelectField("Estado inicial", choices=choices(
        {EstadoSoporte.ACTIVO: "Activo", EstadoSoporte.PENDIENTE_PAGO: "Pendiente de pago"}))
    notas = TextAreaField("Notas", validators=[Optional()])


class SoporteEditarForm(SecureForm):
    fecha_inicio = DateField("Fecha de inicio", validators=[InputRequired()])
    fecha_fin = DateField("Fecha de fin", validators=[InputRequired()])
    notas = TextAreaField("Notas", validators=[Optional()])


class CancelarForm(AccionForm):
    """The "Cancelar" button, with optional notes."""

    notas = TextAreaField("Notas", validators=[Optional()])


class EstadoDeHoy(Igual):
    """A support subscription's state as read today (`activo` past its end is `vencido`),
    the same condition as the API's filter."""

    def apply(self, query, value, alias=None):
        return query.filter(suscripciones.filtro_estado(value))


def _estado_soporte(_view, _context, model, _name) -> str:
    return ESTADOS_SOPORTE[model.estado_efectivo]


def _cupo_tickets(_view, _context, model, _name) -> str:
    maximo, _ = disponibilidad.limites(model)
    return f"{model.tickets_consumidos} de {maximo}" if maximo is not None else str(model.tickets_consumidos)


def _cupo_horas(_view, _context, model, _name) -> str:
    _, maximo = disponibilidad.limites(model)
    return f"{model.horas_consumidas} de {maximo}" if maximo is not None else str(model.horas_consumidas)


def _hecho(que: str):
    """The success message of a button, naming the support subscription and its company."""
    return lambda soporte: f"Suscripción de soporte #{soporte.id} ({soporte.empresa.nombre}) {que}."


class SuscripcionesSoporteView(SoporteModelView):
    """Support subscriptions: create (services.suscripciones.crear), dates and notes, and the
    "Renovar" and "Cancelar" buttons; the state is read as of today."""

    list_template = "panel/soporte/suscripciones_list.html"
    details_template = "panel/soporte/suscripcion_details.html"
    form_alta = SoporteCrearForm
    form_edicion = SoporteEditarForm
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
    column_filters = (Contiene(SoporteSuscripcion.empresa_id, "Empresa", ids_empresas),
                      IntEqualFilter(SoporteSuscripcion.empresa_id, "Empresa (id)"),
                      EstadoDeHoy(SoporteSuscripcion.estado, "Estado", ESTADOS_SOPORTE),
                      IntEqualFilter(SoporteSuscripcion.soporte_tipo_id, "Tipo (id)"))
    column_sortable_list = ("id", "fecha_inicio", "fecha_fin", "precio_actual",
                            "tickets_consumidos", "horas_consumidas",
                            ("empresa.nombre", "empresa.nombre"))
    column_default_sort = ("id", True)
    column_formatters: ClassVar[dict] = {
        "estado": _estado_soporte, "tickets_consumidos": _cupo_tickets, "horas_consumidas": _cupo_horas,
    }
    column_formatters_detail: ClassVar[dict] = {**column_formatters, "creado_por": nombre_usuario}
    column_formatters_export: ClassVar[dict] = {"estado": _estado_soporte}
    column_extra_row_actions: ClassVar[list] = [
        TemplateLinkRowAction("soporte_acciones.renovar", "Renovar"),
        TemplateLinkRowAction("soporte_acciones.cancelar", "Cancelar"),
    ]
    esquema_alta = SoporteSuscripcionSchema
    esquema_edicion = SoporteSuscripcionUpdateSchema
    actualizar = staticmethod(suscripciones.actualizar)
    eliminar = staticmethod(suscripciones.eliminar)

    def render(self, template, **kwargs):
        kwargs.setdefault("accion_csrf", AccionForm().csrf_token.current_token)
        kwargs.setdefault("estados_soporte", ESTADOS_SOPORTE)
        kwargs.setdefault("estados_pago", ESTADOS_PAGO)
        return super().render(template, **kwargs)

    def datos_alta(self, form) -> dict:
        datos = {"empresa_id": id_de(form.empresa_id.data), "suscripcion_id": id_de(form.suscripcion_id.data),
                 "soporte_tipo_id": id_de(form.soporte_tipo_id.data), "estado": form.estado.data,
                 "notas": form.notas.data or None}
        for campo in ("fecha_inicio", "fecha_fin"):
            if form[campo].data is not None:
                datos[campo] = valor_json(form[campo].data)
        return datos

    def datos_edicion(self, form) -> dict:
        return {"fecha_inicio": valor_json(form.fecha_inicio.data),
                "fecha_fin": valor_json(form.fecha_fin.data), "notas": form.notas.data or None}

    def crear(self, datos: dict):
        return suscripciones.crear(datos, current_staff())

    @expose("/renovar/", methods=("POST",))
    def renovar_view(self):
        """A new period with the counters at zero (services.suscripciones.renovar)."""
        return self.accion(suscripciones.renovar,
                           _hecho("renovada: nuevo periodo con los contadores en cero"))

    @expose("/cancelar/", methods=("POST",))
    def cancelar_view(self):
        """Cancel it (services.suscripciones.cancelar), with optional notes."""
        def cancelar(soporte_id: int, notas: str | None):
            datos = CancelarSoporteSchema().load({"notas": notas or None})
            return suscripciones.cancelar(soporte_id, datos.get("notas"))
        return self.accion(cancelar, _hecho("cancelada"), CancelarForm)
