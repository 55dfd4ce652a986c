"""Support payments. A successful payment (`exitoso`, at creation or by a later update) of a
`pendiente_pago` support subscription makes it `activo`. A successful payment is a money
record: it is never deleted, and its money facts (subscription, amount, state, date) do not
change; its notes (method, reference, detail) may be completed. No payment is recorded for,
or moved to, a `cancelado` support subscription."""
from __future__ import annotations

from sqlalchemy import select

from ...core import persistence
from ...core.errors import Conflict, ValidationFailed
from ...core.models import utcnow
from ...core.pagination import paginate
from ...core.persistence import get_or_404, where_given
from ...extensions import db
from ...identity.models import Usuario
from ..models import EstadoPago, EstadoSoporte, SoportePago, SoporteSuscripcion


def listar(soporte_suscripcion_id: int | None = None, estado: EstadoPago | None = None,
           page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of payments, newest first."""
    stmt = where_given(select(SoportePago).order_by(SoportePago.id.desc()), {
        SoportePago.soporte_suscripcion_id: soporte_suscripcion_id, SoportePago.estado: estado})
    return paginate(stmt, page, per_page, cursor)


def obtener(pago_id: int) -> SoportePago:
    return get_or_404(SoportePago, pago_id, "El pago no existe.")


def _activar_si_pagado(pago: SoportePago) -> None:
    soporte = pago.soporte_suscripcion
    if pago.estado == EstadoPago.EXITOSO and soporte.estado == EstadoSoporte.PENDIENTE_PAGO:
        soporte.estado = EstadoSoporte.ACTIVO


# What an `exitoso` payment keeps for good.
HECHOS_DEL_PAGO = ("soporte_suscripcion_id", "monto", "estado", "fecha_pago")


def _suscripcion_que_admite_pagos(soporte_suscripcion_id: int) -> SoporteSuscripcion:
    """422 when it does not exist, 409 when it is cancelled."""
    soporte = db.session.get(SoporteSuscripcion, soporte_suscripcion_id)
    if soporte is None:
        raise ValidationFailed(details={"soporte_suscripcion_id": ["No existe."]})
    if soporte.estado == EstadoSoporte.CANCELADO:
        raise Conflict("La suscripción de soporte está cancelada.",
                       details={"soporte_suscripcion_id": soporte.id, "estado": "cancelado"})
    return soporte


def crear(datos: dict, actor: Usuario) -> SoportePago:
    """Record a payment; an `exitoso` one activates a `pendiente_pago` support subscription."""
    soporte = _suscripcion_que_admite_pagos(datos["soporte_suscripcion_id"])
    pago = SoportePago(**{"fecha_pago": utcnow(), **datos}, creado_por=actor.id)
    pago.soporte_suscripcion = soporte
    db.session.add(pago)
    _activar_si_pagado(pago)
    db.session.commit()
    return pago


def actualizar(pago_id: int, datos: dict) -> SoportePago:
    """Change a payment's fields; an `exitoso` one keeps its money facts (409)."""
    pago = obtener(pago_id)
    if pago.estado == EstadoPago.EXITOSO:
        cambiados = sorted(campo for campo in HECHOS_DEL_PAGO
                           if campo in datos and datos[campo] != getattr(pago, campo))
        if cambiados:
            raise Conflict("Un pago exitoso no cambia de estado, suscripción, monto ni fecha.",
                           details={"estado": "exitoso", "campos": cambiados})
    if datos.get("soporte_suscripcion_id", pago.soporte_suscripcion_id) != pago.soporte_suscripcion_id:
        pago.soporte_suscripcion = _suscripcion_que_admite_pagos(datos["soporte_suscripcion_id"])
    for campo, valor in datos.items():
        setattr(pago, campo, valor)
    _activar_si_pagado(pago)
    db.session.commit()
    return pago


def eliminar(pago_id: int) -> None:
    """Delete a payment that did not succeed (409 for an `exitoso` one)."""
    pago = obtener(pago_id)
    if pago.estado == EstadoPago.EXITOSO:
        raise Conflict("Un pago exitoso no se elimina.")
    persistence.delete(pago)
