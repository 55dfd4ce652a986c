"""Companies: staff CRUD. Deleting is soft (the company becomes `inactiva`)."""
from __future__ import annotations

from sqlalchemy import or_, select

from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import AccionAuditoria, Empresa, EstadoEmpresa
from ..pagination import paginate
from .audit import record, snapshot


def listar(q: str | None = None, estado: EstadoEmpresa | None = None, page: int = 1,
           per_page: int = 20) -> dict:
    """A page of companies, newest id last; `q` matches part of the NIT or the name."""
    stmt = select(Empresa).order_by(Empresa.id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Empresa.nit.ilike(like), Empresa.nombre.ilike(like)))
    if estado is not None:
        stmt = stmt.where(Empresa.estado == estado)
    return paginate(stmt, page, per_page)


def obtener(empresa_id: int) -> Empresa:
    empresa = db.session.get(Empresa, empresa_id)
    if empresa is None:
        raise NotFound("La empresa no existe.")
    return empresa


def _nit_libre(nit: str, excepto_id: int | None = None) -> None:
    stmt = select(Empresa.id).where(Empresa.nit == nit)
    if excepto_id is not None:
        stmt = stmt.where(Empresa.id != excepto_id)
    if db.session.scalar(stmt) is not None:
        raise Conflict(f"Ya existe una empresa con el NIT {nit}.", code="nit_en_uso",
                       details={"nit": ["Ya está registrado."]})


def crear(datos: dict) -> Empresa:
    _nit_libre(datos["nit"])
    empresa = Empresa(**datos)
    db.session.add(empresa)
    db.session.flush()
    record(AccionAuditoria.CREAR, empresa)
    db.session.commit()
    return empresa


def actualizar(empresa_id: int, datos: dict) -> Empresa:
    empresa = obtener(empresa_id)
    if "nit" in datos:
        _nit_libre(datos["nit"], excepto_id=empresa.id)
    _cambiar(empresa, AccionAuditoria.ACTUALIZAR, **datos)
    return empresa


def desactivar(empresa_id: int) -> Empresa:
    """Soft delete: the company becomes `inactiva` (its licence stops being valid)."""
    empresa = obtener(empresa_id)
    _cambiar(empresa, AccionAuditoria.ELIMINAR, estado=EstadoEmpresa.INACTIVA)
    return empresa


def activar(empresa_id: int) -> Empresa:
    empresa = obtener(empresa_id)
    _cambiar(empresa, AccionAuditoria.ACTUALIZAR, estado=EstadoEmpresa.ACTIVA)
    return empresa


def _cambiar(empresa: Empresa, accion: AccionAuditoria, **valores) -> None:
    """Apply `valores`, audit (old and new values) and commit; nothing is written when nothing
    changes (deleting an inactive company or activating an active one is a no-op)."""
    antes = snapshot(empresa)
    for campo, valor in valores.items():
        setattr(empresa, campo, valor)
    if not db.session.is_modified(empresa):
        return
    db.session.flush()
    # A soft delete keeps the row: its audit row carries the whole record before and after.
    record(accion, empresa, antes=antes, despues=snapshot(empresa))
    db.session.commit()
