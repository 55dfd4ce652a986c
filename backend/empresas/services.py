"""Companies: staff CRUD. Deleting is soft (the company becomes `inactiva`)."""
from __future__ import annotations

from sqlalchemy import select

from ..core import audit, persistence
from ..core.audit import AccionAuditoria
from ..core.pagination import paginate
from ..core.persistence import ensure_unique, get_or_404, where_given
from ..core.search import Search
from .models import Empresa, EstadoEmpresa


def listar(q: str | None = None, estado: EstadoEmpresa | None = None, page: int = 1,
           per_page: int = 20, cursor: str | None = None) -> dict:
    """A page of companies, newest id last; `q` finds words of the NIT or the name by their
    beginning (core.search)."""
    stmt = where_given(select(Empresa).order_by(Empresa.id), {Empresa.estado: estado})
    return paginate(stmt, page, per_page, cursor, search=Search(Empresa, q))


def obtener(empresa_id: int) -> Empresa:
    return get_or_404(Empresa, empresa_id, "La empresa no existe.")


def _nit_libre(nit: str, excepto_id: int | None = None) -> None:
    ensure_unique(Empresa.nit, nit, f"Ya existe una empresa con el NIT {nit}.", code="nit_en_uso",
                  excluding_id=excepto_id, detail="Ya está registrado.")


def crear(datos: dict) -> Empresa:
    _nit_libre(datos["nit"])
    return persistence.create(Empresa(**datos))


def actualizar(empresa_id: int, datos: dict) -> Empresa:
    empresa = obtener(empresa_id)
    if "nit" in datos:
        _nit_libre(datos["nit"], excepto_id=empresa.id)
    persistence.update(empresa, datos)
    return empresa


def desactivar(empresa_id: int) -> Empresa:
    """Soft delete: the company becomes `inactiva` (its licence stops being valid)."""
    empresa = obtener(empresa_id)
    # A soft delete keeps the row: its audit row carries the whole record before and after.
    if empresa.estado != EstadoEmpresa.INACTIVA:
        audit.mark(empresa, AccionAuditoria.ELIMINAR, whole_record=True)
        persistence.update(empresa, {"estado": EstadoEmpresa.INACTIVA})
    return empresa


def activar(empresa_id: int) -> Empresa:
    empresa = obtener(empresa_id)
    persistence.update(empresa, {"estado": EstadoEmpresa.ACTIVA})
    return empresa


def empresa_publica(empresa_id: int) -> Empresa:
    """A company for its public card (the route shows only `{id, nombre, estado}`)."""
    return obtener(empresa_id)
