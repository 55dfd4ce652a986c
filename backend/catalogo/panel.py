"""The staff panel's catalogue screens (admin only): plans, with their services and quantities
on a sub-form, and services, with an "Activar/Desactivar" button. Every change goes through
catalogo.services, so its rules hold (a plan with subscriptions or a service included in a
plan cannot be deleted: the 409's message is shown)."""
from __future__ import annotations

from functools import partial
from typing import ClassVar

from flask import abort
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import BooleanEqualFilter
from flask_admin.form import SecureForm
from flask_admin.helpers import get_redirect_target
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..core.schemas import MAX_INT, TEXT_MAX
from ..extensions import db
from ..panel.screens import ServiceModelView, aqui, boton, enlace
from . import services as catalogo
from .models import Plan, Servicio
from .schemas import PlanSchema, PlanUpdateSchema, ServicioSchema, ServicioUpdateSchema


class PlanForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=120)])
    descripcion = TextAreaField("Descripción", validators=[Optional(), Length(max=TEXT_MAX)])
    precio_mensual = DecimalField("Precio mensual", places=2, validators=[InputRequired()])
    precio_anual = DecimalField("Precio anual", places=2, validators=[InputRequired()])
    seleccionado = BooleanField("Destacado (seleccionado)")
    activo = BooleanField("Activo", default=True)


class ServicioForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=120)])
    descripcion = TextAreaField("Descripción", validators=[Optional(), Length(max=TEXT_MAX)])
    url_api = StringField("URL de la API", validators=[Optional(), Length(max=500)])
    activo = BooleanField("Activo", default=True)


def servicios_form(plan: Plan):
    """A form with one quantity per service (blank: not in the plan), filled with the plan's."""
    actuales = {ps.servicio_id: ps.cantidad for ps in plan.plan_servicios}

    class ServiciosForm(SecureForm):
        pass

    servicios = db.session.scalars(select(Servicio).order_by(Servicio.nombre)).all()
    for servicio in servicios:
        etiqueta = servicio.nombre if servicio.activo else f"{servicio.nombre} (inactivo)"
        setattr(ServiciosForm, f"servicio_{servicio.id}", IntegerField(
            etiqueta, default=actuales.get(servicio.id),
            validators=[Optional(), NumberRange(min=1, max=MAX_INT, message="Entero de 1 en adelante.")]))
    return ServiciosForm, servicios


def _servicios_del_plan(_view, _context, model, _name) -> str:
    return "; ".join(f"{ps.servicio.nombre} × {ps.cantidad}" for ps in model.plan_servicios)


class PlanView(ServiceModelView):
    """Plans: create, edit and delete through catalogo.services; services on a sub-form."""

    form = PlanForm
    campos = ("nombre", "descripcion", "precio_mensual", "precio_anual", "seleccionado", "activo")
    column_list = ("nombre", "precio_mensual", "precio_anual", "activo", "seleccionado", "servicios",
                   "acciones")
    column_details_list = ("id", "nombre", "descripcion", "precio_mensual", "precio_anual", "activo",
                           "seleccionado", "servicios", "created_at", "updated_at", "acciones")
    column_export_list = ("id", "nombre", "descripcion", "precio_mensual", "precio_anual", "activo",
                          "seleccionado", "servicios", "created_at")
    column_searchable_list = ("nombre",)
    column_filters = (BooleanEqualFilter(Plan.activo, "Activo"),
                      BooleanEqualFilter(Plan.seleccionado, "Destacado"), "precio_mensual")
    column_sortable_list = ("nombre", "precio_mensual", "precio_anual", "activo", "seleccionado")
    column_default_sort = ("precio_mensual", False)
    column_labels: ClassVar[dict] = {
        "nombre": "Nombre", "descripcion": "Descripción", "precio_mensual": "Precio mensual",
        "precio_anual": "Precio anual", "activo": "Activo", "seleccionado": "Destacado",
        "servicios": "Servicios (cantidad)", "created_at": "Creado", "updated_at": "Actualizado",
        "acciones": "Acciones",
    }

    esquema_alta = PlanSchema
    esquema_edicion = partial(PlanUpdateSchema, partial=True)
    crear = staticmethod(catalogo.crear_plan)
    actualizar = staticmethod(catalogo.actualizar_plan)
    eliminar = staticmethod(catalogo.eliminar_plan)

    def get_query(self):
        return super().get_query().options(catalogo.CON_SERVICIOS)

    def _acciones(self, _context, model, _name):
        return enlace(self.get_url(".servicios", id=model.id, url=aqui()), "Servicios y cantidades")

    column_formatters: ClassVar[dict] = {"servicios": _servicios_del_plan, "acciones": _acciones}
    column_formatters_export: ClassVar[dict] = {"servicios": _servicios_del_plan}

    @expose("/servicios/", methods=("GET", "POST"))
    def servicios(self):
        """The plan's services and their quantities (all at once: each row added, changed or
        removed leaves its audit row)."""
        plan = db.session.scalar(select(Plan).options(selectinload(Plan.plan_servicios))
                                 .where(Plan.id == self.id_pedido())) or abort(404)
        clase, servicios = servicios_form(plan)

        def guardar(form):
            items = [{"servicio_id": s.id, "cantidad": form[f"servicio_{s.id}"].data}
                     for s in servicios if form[f"servicio_{s.id}"].data is not None]
            return catalogo.reemplazar_servicios(plan.id, items)

        return self.formulario(
            clase, f"Servicios del plan {plan.nombre}",
            get_redirect_target() or self.get_url(".details_view", id=plan.id), guardar,
            "Se guardaron los servicios del plan.",
            texto="Escriba la cantidad de cada servicio incluido; deje vacío lo que el plan no incluye.")


class ServicioView(ServiceModelView):
    """Services: create, edit, delete (refused while a plan includes it) and a toggle."""

    form = ServicioForm
    campos = ("nombre", "descripcion", "url_api", "activo")
    column_list = ("nombre", "url_api", "activo", "created_at", "acciones")
    column_details_list = ("id", "nombre", "descripcion", "url_api", "activo", "created_at", "updated_at",
                           "acciones")
    column_export_list = ("id", "nombre", "descripcion", "url_api", "activo", "created_at")
    column_searchable_list = ("nombre", "url_api")
    column_filters = (BooleanEqualFilter(Servicio.activo, "Activo"),)
    column_sortable_list = ("nombre", "url_api", "activo", "created_at")
    column_default_sort = ("nombre", False)
    column_labels: ClassVar[dict] = {
        "nombre": "Nombre", "descripcion": "Descripción", "url_api": "URL de la API", "activo": "Activo",
        "created_at": "Creado", "updated_at": "Actualizado", "acciones": "Acciones",
    }

    esquema_alta = ServicioSchema
    esquema_edicion = partial(ServicioUpdateSchema, partial=True)
    crear = staticmethod(catalogo.crear_servicio)
    actualizar = staticmethod(catalogo.actualizar_servicio)
    eliminar = staticmethod(catalogo.eliminar_servicio)

    def _acciones(self, _context, model, _name):
        return boton(self.get_url(".alternar", id=model.id, url=aqui()),
                     "Desactivar" if model.activo else "Activar",
                     "outline-danger" if model.activo else "outline-success")

    column_formatters: ClassVar[dict] = {"acciones": _acciones}

    @expose("/alternar/", methods=("POST",))
    def alternar(self):
        """Activate or deactivate a service."""
        return self.accion(catalogo.alternar_servicio, "Se cambió el estado del servicio.")


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [PlanView(Plan, db, name="Planes", endpoint="panel_planes", url="planes", category="Catálogo"),
            ServicioView(Servicio, db, name="Servicios", endpoint="panel_servicios", url="servicios",
                         category="Catálogo")]

