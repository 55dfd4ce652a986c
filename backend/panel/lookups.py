"""The rows the screens name by id: companies and users read once per list page (not once per
row) for the column formatters, the companies offered by forms and filters, and their labels."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import request
from sqlalchemy import select

from ..empresas.models import Empresa
from ..extensions import db


def cargar_por_id(modelo, ids: Iterable[int | None]) -> dict:
    """The rows of `modelo` named by `ids` (a list page's companies or users), read in one query
    and kept for the rest of the request, so formatters make no query per row."""
    cache = request.environ.setdefault(f"backend.panel.{modelo.__tablename__}", {})
    faltan = {i for i in ids if i is not None and i not in cache}
    if faltan:
        filas = db.session.scalars(select(modelo).where(modelo.id.in_(faltan)))
        cache.update({fila.id: fila for fila in filas})
    return cache


def fila_de(modelo, ident: int | None):
    """The `modelo` row with id `ident`, or None (through the request's cache)."""
    return cargar_por_id(modelo, {ident}).get(ident) if ident is not None else None


def nombre_por_id(modelo, columna: str | None = None) -> Callable:
    """A column formatter: the `nombre` of the `modelo` row whose id the column (or `columna`)
    holds, blank for none."""
    def formatter(_view, _context, model, name) -> str:
        fila = fila_de(modelo, getattr(model, columna or name))
        return fila.nombre if fila is not None else ""
    return formatter


nombre_empresa = nombre_por_id(Empresa, "empresa_id")  # a row's company, by its `empresa_id`


def empresas_query():
    """Every company, by name (a form's company select)."""
    return db.session.scalars(select(Empresa).order_by(Empresa.nombre, Empresa.id))


def etiqueta_empresa(empresa: Empresa) -> str:
    return f"{empresa.nombre} ({empresa.nit})"


def opciones_empresas() -> list[tuple[str, str]]:
    """The companies as filter options (value, label)."""
    return [(str(e.id), etiqueta_empresa(e)) for e in empresas_query()]
