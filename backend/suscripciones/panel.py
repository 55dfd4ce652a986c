"""The staff panel's subscription screen (admin only): a list with filters (empresa, estado,
plan) and CSV, creation through services.crear, and the lifecycle as buttons (renovar,
suspender, reactivar, cancelar with a motivo, descuento with a percentage) through the same
services as the JSON API: the transition table and the one-active-subscription rule hold, and
a refused move shows the service's message. There is no edit and no delete (the API has
neither)."""
from __future__ import annotations

from typing import ClassVar

from flask import abort, request
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.form import SecureForm
from flask_admin.helpers import get_redirect_target
from sqlalchemy import select
from wtforms import BooleanField, DateField, DecimalField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation

from ..catalogo.models import Plan
from ..core.schemas import TEXT_MAX
from ..empresas.models import Empresa
from ..extensions import db
from ..identity import panel_session
from ..panel.filters import Opcion, al_pedir
from ..panel.labels import choices, valores
from ..panel.lookups import empresas_query, nombre_empresa, nombre_por_id, opciones_empresas
from ..panel.screens import ServiceModelView, aqui, boton, enlace, id_de, valor_json
from . import services as suscripciones
from .models import EstadoSuscripcion, Periodo, Suscripcion
from .schemas import DescuentoSchema, SuscripcionSchema

ESTADOS = valores(EstadoSuscripcion)
PERIODOS = valores(Periodo)
# Actions with a button; `cancelar` and `descuento` open a small form first.
BOTONES = (("renovar", "Renovar", "outline-primary"), ("suspender", "Suspender", "outline-warning"),
           ("reactivar", "Reactivar", "outline-success"))


def planes_query():
    return db.session.scalars(select(Plan).order_by(Plan.nombre))


def opciones_planes() -> list[tuple[str, str]]:
    return [(str(p.id), p.nombre) for p in planes_query()]


nombre_plan = nombre_por_id(Plan, "plan_id")


def _finito(_form, field) -> None:
    """A number at all (not NaN or infinite) before its range is checked."""
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Debe ser un número.")


PORCENTAJE = NumberRange(min=0, max=100, message="Debe estar entre 0 y 100.")


class SuscripcionForm(SecureForm):
    empresa = QuerySelectField("Empresa", query_factory=empresas_query, get_label="nombre",
                               validators=[InputRequired()])
    plan = QuerySelectField("Plan", query_factory=planes_query, get_label="nombre",
                            validators=[InputRequired()])
    periodo = SelectField("Periodo", choices=choices(PERIODOS), default=Periodo.MENSUAL.value)
    fecha_inicio = DateField("Fecha de inicio", validators=[Optional()],
                             description="Vacía: hoy (UTC). La fecha de fin se calcula.")
    porcentaje_descuento = DecimalField("Descuento (%)", places=2, default=0,
                                        validators=[Optional(), _finito, PORCENTAJE])
    renovacion_automatica = BooleanField("Renovación automática")
    notas = TextAreaField("Notas", validators=[Optional(), Length(max=TEXT_MAX)])


class CancelarForm(SecureForm):
    motivo = TextAreaField("Motivo de la cancelación", validators=[Optional(), Length(max=2000)])


class DescuentoForm(SecureForm):
    porcentaje = DecimalField("Descuento (%)", places=2, validators=[InputRequired(), _finito, PORCENTAJE])


class SuscripcionView(ServiceModelView):
    """Company subscriptions: created through services.crear; the lifecycle as buttons."""

    can_edit = False
    can_delete = False
    form = SuscripcionForm
    campos_servicio: ClassVar[dict] = {"empresa_id": "empresa", "plan_id": "plan"}
    column_list = ("id", "empresa", "plan", "periodo", "estado", "fecha_inicio", "fecha_fin",
                   "precio_pagado", "porcentaje_descuento", "renovacion_automatica", "acciones")
    column_details_list = ("id", "empresa", "plan", "periodo", "estado", "fecha_inicio", "fecha_fin",
                           "precio_pagado", "porcentaje_descuento", "renovacion_automatica",
                           "motivo_cancelacion", "notas", "creado_por", "created_at", "updated_at",
                           "acciones")
    column_export_list = ("id", "empresa", "plan", "periodo", "estado", "fecha_inicio", "fecha_fin",
                          "precio_pagado", "porcentaje_descuento", "renovacion_automatica",
                          "motivo_cancelacion", "notas", "created_at")
    column_searchable_list = ("empresa.nombre", "empresa.nit", "plan.nombre")
    column_filters = (IntEqualFilter(Suscripcion.empresa_id, "Empresa", options=al_pedir(opciones_empresas)),
                      Opcion(Suscripcion.estado, "Estado", ESTADOS),
                      IntEqualFilter(Suscripcion.plan_id, "Plan", options=al_pedir(opciones_planes)),
                      Opcion(Suscripcion.periodo, "Periodo", PERIODOS),
                      "fecha_fin")
    column_sortable_list = ("id", ("empresa", "empresa.nombre"), ("plan", "plan.nombre"), "periodo",
                            "estado", "fecha_inicio", "fecha_fin", "precio_pagado")
    column_default_sort = ("id", True)
    precargar = ((Empresa, "empresa_id"), (Plan, "plan_id"))
    column_labels: ClassVar[dict] = {
        "empresa": "Empresa", "empresa.nombre": "Empresa", "empresa.nit": "NIT", "plan": "Plan",
        "plan.nombre": "Plan", "periodo": "Periodo", "estado": "Estado", "fecha_inicio": "Inicio",
        "fecha_fin": "Fin", "precio_pagado": "Precio", "porcentaje_descuento": "Descuento (%)",
        "renovacion_automatica": "Renovación automática", "motivo_cancelacion": "Motivo de cancelación",
        "notas": "Notas", "creado_por": "Creada por (usuario)", "created_at": "Creada",
        "updated_at": "Actualizada", "acciones": "Acciones",
    }

    esquema_alta = SuscripcionSchema

    def datos_alta(self, form) -> dict:
        datos = {
            "empresa_id": id_de(form.empresa.data),
            "plan_id": id_de(form.plan.data),
            "periodo": form.periodo.data,
            "renovacion_automatica": bool(form.renovacion_automatica.data),
            "notas": (form.notas.data or "").strip() or None,
        }
        if form.fecha_inicio.data is not None:
            datos["fecha_inicio"] = valor_json(form.fecha_inicio.data)
        if form.porcentaje_descuento.data is not None:
            datos["porcentaje_descuento"] = valor_json(form.porcentaje_descuento.data)
        return datos

    def crear(self, datos: dict):
        return suscripciones.crear(datos, panel_session.current_staff())

    def _acciones(self, _context, model, _name):
        """The buttons of the moves the transition table allows from the current state."""
        html = ""
        for accion, etiqueta, estilo in BOTONES:
            if model.estado in suscripciones.TRANSICIONES[accion][0]:
                html += boton(self.get_url(f".{accion}", id=model.id, url=aqui()), etiqueta, estilo)
        if model.estado in suscripciones.TRANSICIONES["descuento"][0]:
            html += enlace(self.get_url(".descuento", id=model.id, url=aqui()), "Descuento")
        if model.estado in suscripciones.TRANSICIONES["cancelar"][0]:
            html += enlace(self.get_url(".cancelar", id=model.id, url=aqui()), "Cancelar", "outline-danger")
        return html

    column_formatters: ClassVar[dict] = {"empresa": nombre_empresa, "plan": nombre_plan,
                                         "acciones": _acciones}
    column_formatters_export: ClassVar[dict] = {"empresa": nombre_empresa, "plan": nombre_plan}

    @expose("/renovar/", methods=("POST",))
    def renovar(self):
        """One more period after fecha_fin (from today if it has passed)."""
        return self.accion(suscripciones.renovar, "La suscripción se renovó.")

    @expose("/suspender/", methods=("POST",))
    def suspender(self):
        return self.accion(suscripciones.suspender, "La suscripción quedó suspendida.")

    @expose("/reactivar/", methods=("POST",))
    def reactivar(self):
        return self.accion(suscripciones.reactivar, "La suscripción quedó activa.")

    def _suscripcion(self) -> tuple[Suscripcion, str]:
        suscripcion = db.session.get(Suscripcion, self.id_pedido()) or abort(404)
        return suscripcion, get_redirect_target() or self.get_url(".details_view", id=suscripcion.id)

    @expose("/cancelar/", methods=("GET", "POST"))
    def cancelar(self):
        """Cancel with a motivo (final)."""
        suscripcion, volver = self._suscripcion()
        return self.formulario(
            CancelarForm, f"Cancelar la suscripción {suscripcion.id}", volver,
            lambda form: suscripciones.cancelar(suscripcion.id, (form.motivo.data or "").strip() or None),
            "La suscripción quedó cancelada.",
            texto=f"{suscripcion.empresa.nombre} · {suscripcion.plan.nombre} · {suscripcion.estado.value}. "
                  "La cancelación es definitiva.")

    @expose("/descuento/", methods=("GET", "POST"))
    def descuento(self):
        """Set the discount; the price paid follows."""
        suscripcion, volver = self._suscripcion()
        form = DescuentoForm(request.form if request.method == "POST" else None,
                             porcentaje=suscripcion.porcentaje_descuento)

        def cambiar(form):
            datos = DescuentoSchema().load({"porcentaje_descuento": str(form.porcentaje.data)})
            return suscripciones.cambiar_descuento(suscripcion.id, datos["porcentaje_descuento"])

        return self.formulario(
            form, f"Descuento de la suscripción {suscripcion.id}", volver, cambiar, "Se cambió el descuento.",
            texto=f"{suscripcion.empresa.nombre} · {suscripcion.plan.nombre} · precio actual "
                  f"{suscripcion.precio_pagado}.", campos={"porcentaje_descuento": "porcentaje"})


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [SuscripcionView(Suscripcion, db, name="Suscripciones", endpoint="panel_suscripciones",
                            url="suscripciones")]
