"""The support types screen: what staff sell (name, modality, price, the quota of tickets or
hours), created, edited and deleted through services.tipos (the unique name, the quota the
modality asks for, no deleting a type in use)."""
from __future__ import annotations

from functools import partial
from typing import ClassVar

from flask_admin.contrib.sqla.filters import BooleanEqualFilter
from flask_admin.form import SecureForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ...panel.labels import MODALIDADES, choices, etiqueta
from ...panel.screens import valor_json
from ..models import SoporteTipo
from ..schemas import SoporteTipoSchema, SoporteTipoUpdateSchema
from ..services import tipos
from .comun import Igual, SoporteModelView


class TipoForm(SecureForm):
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=120)])
    descripcion = TextAreaField("Descripción", validators=[Optional()])
    modalidad = SelectField("Modalidad", choices=choices(MODALIDADES))
    precio = DecimalField("Precio", places=2, validators=[InputRequired()])
    max_tickets = IntegerField("Máximo de tickets por periodo", validators=[Optional()],
                               description="Requerido para la modalidad por tickets.")
    max_horas = DecimalField("Máximo de horas por periodo", places=2, validators=[Optional()],
                             description="Requerido para la modalidad por horas.")
    activo = BooleanField("Activo", default=True)


class TiposView(SoporteModelView):
    """Support types: what staff sell (CRUD through services.tipos)."""

    form = TipoForm
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
    column_filters = (Igual(SoporteTipo.modalidad, "Modalidad", MODALIDADES),
                      BooleanEqualFilter(SoporteTipo.activo, "Activo"))
    column_sortable_list = ("id", "nombre", "modalidad", "precio", "activo", "created_at")
    column_default_sort = ("id", False)
    column_formatters: ClassVar[dict] = {"modalidad": etiqueta(MODALIDADES)}
    column_formatters_export: ClassVar[dict] = {"modalidad": etiqueta(MODALIDADES)}
    esquema_alta = SoporteTipoSchema
    esquema_edicion = partial(SoporteTipoUpdateSchema, partial=True)
    crear = staticmethod(tipos.crear)
    actualizar = staticmethod(tipos.actualizar)
    eliminar = staticmethod(tipos.eliminar)

    def datos_edicion(self, form) -> dict:
        return {"nombre": form.nombre.data, "descripcion": form.descripcion.data or None,
                "modalidad": form.modalidad.data, "precio": valor_json(form.precio.data),
                "max_tickets": form.max_tickets.data, "max_horas": valor_json(form.max_horas.data),
                "activo": form.activo.data}
