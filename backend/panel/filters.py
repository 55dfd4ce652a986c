"""The list filters the screens share: equality with one of an enum's values (any other value is
refused as an invalid filter, never sent to the database), a company or a staff member named
by part of their name, and filter options read at each request."""
from __future__ import annotations

from collections.abc import Callable, Mapping

from flask import has_request_context
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual
from sqlalchemy import func, or_, select

from ..empresas.models import Empresa
from ..identity.models import Usuario
from .labels import opciones


class Opcion(FilterEqual):
    """Equal to one of the values of `etiquetas` ({enum member: label}), offered with their
    labels; the URL's value becomes the enum member."""

    def __init__(self, column, name: str, etiquetas: Mapping, **kwargs):
        self.miembros = {str(valor): valor for valor in etiquetas}
        super().__init__(column, name, options=opciones(etiquetas), **kwargs)

    def validate(self, value) -> bool:
        return value in self.miembros

    def clean(self, value):
        return self.miembros[value]


class Contiene(BaseSQLAFilter):
    """Rows whose `column` (an id) is among the ids `ids(texto)` selects: a company by part
    of its name or NIT, a staff member by part of their name or email."""

    def __init__(self, column, name: str, ids: Callable):
        self.ids = ids
        super().__init__(column, name)

    def clean(self, value):
        value = value.strip().lower()
        if not value:
            raise ValueError("vacío")
        return value

    def apply(self, query, value, alias=None):
        return query.filter(self.get_column(alias).in_(self.ids(value)))

    def operation(self):
        return "contiene"


def ids_empresas(texto: str):
    """The ids of the companies whose name or NIT contains `texto` (lower case)."""
    return select(Empresa.id).where(or_(func.lower(Empresa.nombre).contains(texto, autoescape=True),
                                        func.lower(Empresa.nit).contains(texto, autoescape=True)))


def ids_usuarios(texto: str):
    """The ids of the users whose name or email contains `texto` (lower case)."""
    return select(Usuario.id).where(or_(func.lower(Usuario.nombre).contains(texto, autoescape=True),
                                        func.lower(Usuario.email).contains(texto, autoescape=True)))


def al_pedir(opciones_de: Callable[[], list]) -> Callable[[], list | None]:
    """Filter options read at each request: Flask-Admin reads them when the view is built
    (outside any app context) and `ServiceModelView` reads them again for every list page."""
    return lambda: opciones_de() if has_request_context() else None
