"""The support payments screen: payments registered by staff (an `exitoso` one activates a
support subscription waiting for it), their state changed (an `exitoso` one stays so) and a
failed one deleted, all through services.pagos."""
from __future__ import annotations

from typing import ClassVar

from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import IntEqualFilter
from flask_admin.form import SecureForm
from sqlalchemy import select
from wtforms import DateTimeLocalField, DecimalField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ...extensions import db
from ...identity.models import Usuario
from ...identity.panel_session import current_staff
from ...panel.filters import Contiene, ids_empresas
from ...panel.labels import ESTADOS_PAGO, ESTADOS_SOPORTE, choices, etiqueta
from ...panel.screens import id_de, valor_json
from ..models import SoportePago, SoporteSuscripcion
from ..schemas import SoportePagoSchema, SoportePagoUpdateSchema
from ..services import pagos
from .comun import Igual, SoporteModelView, nombre_usuario


def _soportes():
    return db.session.scalars(select(SoporteSuscripcion).order_by(SoporteSuscripcion.id.desc())).all()


def _etiqueta_soporte(soporte: SoporteSuscripcion) -> str:
    return (f"#{soporte.id} {soporte.empresa.nombre} — {soporte.soporte_tipo.nombre} "
            f"({ESTADOS_SOPORTE[soporte.estado_efectivo]})")


def _ids_soportes_de_empresas(texto: str):
    return select(SoporteSuscripcion.id).where(SoporteSuscripcion.empresa_id.in_(ids_empresas(texto)))


class PagoCrearForm(SecureForm):
    soporte_suscripcion_id = QuerySelectField("Suscripción de soporte", query_factory=_soportes,
                                              get_label=_etiqueta_soporte)
    monto = DecimalField("Monto", places=2, validators=[InputRequired()])
    estado = SelectField("Estado", choices=choices(ESTADOS_PAGO))
    metodo_pago = StringField("Método de pago", validators=[Optional(), Length(max=50)])
    referencia = StringField("Referencia", validators=[Optional(), Length(max=120)])
    fecha_pago = DateTimeLocalField("Fecha de pago (UTC)", validators=[Optional()],
                                    description="Vacío: ahora.")


class PagoEditarForm(SecureForm):
    estado = SelectField("Estado", choices=choices(ESTADOS_PAGO))
    metodo_pago = StringField("Método de pago", validators=[Optional(), Length(max=50)])
    referencia = StringField("Referencia", validators=[Optional(), Length(max=120)])


def _soporte_de_pago(_view, _context, model, _name) -> str:
    soporte = model.soporte_suscripcion
    return f"#{soporte.id} {soporte.empresa.nombre}" if soporte else ""


class PagosView(SoporteModelView):
    """Support payments: create (an `exitoso` one activates a `pendiente_pago` support
    subscription), change their state (an `exitoso` one stays so), delete one that failed."""

    form_alta = PagoCrearForm
    form_edicion = PagoEditarForm
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
    column_filters = (Igual(SoportePago.estado, "Estado", ESTADOS_PAGO),
                      Contiene(SoportePago.soporte_suscripcion_id, "Empresa", _ids_soportes_de_empresas),
                      IntEqualFilter(SoportePago.soporte_suscripcion_id, "Suscripción de soporte (id)"))
    column_sortable_list = ("id", "monto", "estado", "fecha_pago")
    column_default_sort = ("id", True)
    precargar = ((Usuario, "creado_por"),)
    column_formatters: ClassVar[dict] = {
        "soporte_suscripcion": _soporte_de_pago, "estado": etiqueta(ESTADOS_PAGO),
        "creado_por": nombre_usuario,
    }
    column_formatters_export: ClassVar[dict] = column_formatters
    esquema_alta = SoportePagoSchema
    esquema_edicion = SoportePagoUpdateSchema
    actualizar = staticmethod(pagos.actualizar)
    eliminar = staticmethod(pagos.eliminar)

    def datos_edicion(self, form) -> dict:
        return {"estado": form.estado.data, "metodo_pago": form.metodo_pago.data or None,
                "referencia": form.referencia.data or None}

    def datos_alta(self, form) -> dict:
        datos = {"soporte_suscripcion_id": id_de(form.soporte_suscripcion_id.data),
                 "monto": valor_json(form.monto.data), **self.datos_edicion(form)}
        if form.fecha_pago.data is not None:
            datos["fecha_pago"] = valor_json(form.fecha_pago.data)
        return datos

    def crear(self, datos: dict):
        return pagos.crear(datos, current_staff())
