"""How the panel names the values staff read: the Spanish labels of the support desk's states,
modalities and priorities (its screens and the dashboard), and the helpers that turn a
{value: label} mapping into a filter's options, a WTForms select's choices (`SelectChoice`)
or a column formatter."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum

from wtforms.fields.choices import SelectChoice

from ..soporte.models import EstadoPago, EstadoSoporte, EstadoTicket, Modalidad, Prioridad

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


def valores(enum_cls: type[Enum]) -> dict[Enum, str]:
    """An enum's members labelled with their own values (the screens that show the raw value)."""
    return {miembro: miembro.value for miembro in enum_cls}


def opciones(etiquetas: Mapping) -> list[tuple[str, str]]:
    """A Flask-Admin filter's options: (value, label)."""
    return [(str(valor), texto) for valor, texto in etiquetas.items()]


def choices(etiquetas: Mapping) -> list[SelectChoice]:
    """A WTForms select field's choices: value and label."""
    return [SelectChoice(str(valor), texto) for valor, texto in etiquetas.items()]


def etiqueta(etiquetas: Mapping) -> Callable:
    """A column formatter: the label of the column's value (blank for none)."""
    def formatter(_view, _context, model, name):
        valor = getattr(model, name)
        return etiquetas.get(valor, valor) if valor is not None else ""
    return formatter
