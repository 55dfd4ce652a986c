"""Support types (what staff sell): CRUD. A type used by a support subscription cannot be
deleted (409); deactivate it instead."""
from __future__ import annotations

from sqlalchemy import func, select

from ...core import persistence
from ...core.errors import Conflict, ValidationFailed
from ...core.pagination import paginate
from ...core.persistence import get_or_404, matching, where_given
from ...extensions import db
from ..models import Modalidad, SoporteSuscripcion, SoporteTipo


def listar(q: str | None = None, activo: bool | None = None, modalidad: Modalidad | None = None,
           page: int = 1, per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of support types by id; `q` matches part of the name, whatever the case (`%`
    and `_` in it are plain characters, not wildcards)."""
    stmt = where_given(select(SoporteTipo).order_by(SoporteTipo.id),
                       {SoporteTipo.activo: activo, SoporteTipo.modalidad: modalidad})
    return paginate(matching(stmt, q, SoporteTipo.nombre), page, per_page, cursor)


def obtener(tipo_id: int) -> SoporteTipo:
    return get_or_404(SoporteTipo, tipo_id, "El tipo de soporte no existe.")


def _nombre_libre(nombre: str, excepto_id: int | None = None) -> None:
    """409 naming `nombre` when another type has it, whatever the case: MySQL's collation
    compares names case-insensitively, so the check does too, on every database alike."""
    stmt = select(SoporteTipo.id).where(func.lower(SoporteTipo.nombre) == nombre.lower())
    if excepto_id is not None:
        stmt = stmt.where(SoporteTipo.id != excepto_id)
    if db.session.scalar(stmt.limit(1)) is not None:
        raise Conflict(f"Ya existe un tipo de soporte «{nombre}».",
                       details={"nombre": ["Ya está en uso."]})


# The limit each counted modality needs (`mensual`/`anual` count only what the type sets).
LIMITE_REQUERIDO = {Modalidad.POR_TICKETS: "max_tickets", Modalidad.POR_HORAS: "max_horas"}


def _limite_de_la_modalidad(modalidad: Modalidad, valores: dict) -> None:
    """422 when the type, as it would be stored, lacks the limit its modality counts."""
    campo = LIMITE_REQUERIDO.get(modalidad)
    if campo is not None and valores.get(campo) is None:
        raise ValidationFailed(details={campo: [f"Requerido para la modalidad {modalidad}."]})


def crear(datos: dict) -> SoporteTipo:
    _limite_de_la_modalidad(datos["modalidad"], datos)
    _nombre_libre(datos["nombre"])
    return persistence.create(SoporteTipo(**datos))


def actualizar(tipo_id: int, datos: dict) -> SoporteTipo:
    """Change the fields sent; existing support subscriptions keep the price they were sold at.
    The result must still carry its modality's limit (a partial body is checked merged)."""
    tipo = obtener(tipo_id)
    resultado = {"max_tickets": tipo.max_tickets, "max_horas": tipo.max_horas, **datos}
    _limite_de_la_modalidad(datos.get("modalidad", tipo.modalidad), resultado)
    if "nombre" in datos:
        _nombre_libre(datos["nombre"], excepto_id=tipo.id)
    persistence.update(tipo, datos)
    return tipo


def eliminar(tipo_id: int) -> None:
    tipo = obtener(tipo_id)
    usos = db.session.scalar(select(func.count()).where(SoporteSuscripcion.soporte_tipo_id == tipo.id))
    if usos:
        raise Conflict(f"El tipo tiene {usos} suscripción(es) de soporte; desactívelo en lugar "
                       "de eliminarlo.")
    persistence.delete(tipo)
