"""What the support desk's screens share: their base view (both staff roles, times to the
minute, a refused ticket explained by its `motivo`), the enum filter of their URLs
(`flt0_estado_igual_a=abierto`), and how a company and a user read in their forms and
lists."""
from __future__ import annotations

from ...empresas.models import Empresa
from ...identity.models import Rol, Usuario
from ...panel.filters import Opcion
from ...panel.lookups import nombre_por_id
from ...panel.screens import ServiceModelView

CATEGORIA = "Soporte"

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

nombre_usuario = nombre_por_id(Usuario)  # a column holding a user's id, as the user's name


class SoporteModelView(ServiceModelView):
    """A support desk screen: both staff roles, times to the minute (UTC)."""

    roles = (Rol.ADMIN, Rol.SOPORTE)
    formato_fecha = "%Y-%m-%d %H:%M"
    motivos = MOTIVOS
    mensaje_csrf = "El formulario caducó o no es válido; recargue la página e intente de nuevo."


class Igual(Opcion):
    """Equal to one of an enum's values, offered with Spanish labels (`<name>_igual_a` in the
    URL)."""

    def operation(self):
        return "igual a"


def empresa_con_nit(empresa: Empresa) -> str:
    return f"{empresa.nombre} (NIT {empresa.nit})"
