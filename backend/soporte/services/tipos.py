"""Support types (what staff sell): CRUD. A type used by a support subscription cannot be
deleted (409); deactivate it instead."""
from __future__ import annotations

from sqlalchemy import func, select

from ...core import persistence
from ...core.errors import Conflict
from ...core.pagination import paginate
from ...core.persistence import ensure_unique, get_or_404
from ...extensions import db
from ..models import Modalidad, SoporteSuscripcion, SoporteTipo


def listar(q: str | None = None, activo: bool | None = None, modalidad: Modalidad | None = None,
           page: int = 1, per_page: int = 20) -> dict:
    """A page of support types by id; `q` matches part of the name."""
    stmt = select(SoporteTipo).order_by(SoporteTipo.id)
    if q:
        stmt = stmt.where(SoporteTipo.nombre.ilike(f"%{q.strip()}%"))
    if activo is not None:
        stmt = stmt.where(SoporteTipo.activo == activo)
    if modalidad is not None:
        stmt = stmt.where(SoporteTipo.modalidad == modalidad)
    return paginate(stmt, page, per_page)


def obtener(tipo_id: int) -> SoporteTipo:
    return get_or_404(SoporteTipo, tipo_id, "El tipo de soporte no existe.")


def _nombre_libre(nombre: str, excepto_id: int | None = None) -> None:
    ensure_unique(SoporteTipo.nombre, nombre, f"Ya existe un tipo de soporte «{nombre}».",
                  excluding_id=excepto_id)


def crear(datos: dict) -> SoporteTipo:
    _nombre_libre(datos["nombre"])
    return persistence.create(SoporteTipo(**datos))


def actualizar(tipo_id: int, datos: dict) -> SoporteTipo:
    """Change the fields sent; existing support subscriptions keep the price they were sold at."""
    tipo = obtener(tipo_id)
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
