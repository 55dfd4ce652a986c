"""The staff panel's logs (admin only, read-only): the audit trail (core.audit.Auditoria), one
row per create, update and delete, searchable by table, record, and the acting user's name or
email; and the access log (identity.models.LogAcceso), sign-ins and account events with their
IP. Nothing here can be created, edited or deleted; both export to CSV."""
from __future__ import annotations

import json
from typing import ClassVar

from flask_admin import BaseView
from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, FilterLike, IntEqualFilter
from markupsafe import Markup
from sqlalchemy import select

from ..core.audit import AccionAuditoria, Auditoria
from ..empresas.models import Empresa
from ..extensions import db
from ..identity.models import STAFF_ROLES, LogAcceso, Usuario
from ..panel.filters import Opcion, al_pedir
from ..panel.labels import valores
from ..panel.lookups import fila_de, nombre_empresa, opciones_empresas
from ..panel.screens import ServiceModelView

ACCIONES = valores(AccionAuditoria)


def _tablas() -> list[tuple[str, str]]:
    """The audited tables: those with Audited models, as filter options."""
    return [(t, t) for t in sorted(db.session.scalars(select(Auditoria.tabla).distinct()))]


def _staff() -> list[tuple[str, str]]:
    return [(str(u.id), f"{u.nombre} <{u.email}>") for u in db.session.scalars(
        select(Usuario).where(Usuario.rol.in_(STAFF_ROLES)).order_by(Usuario.nombre))]


def _usuario(_view, _context, model, _name) -> str:
    usuario = fila_de(Usuario, model.usuario_id)
    if usuario is None:
        return "" if model.usuario_id is None else f"#{model.usuario_id}"
    return f"{usuario.nombre} <{usuario.email}>"


def _json(_view, _context, model, name) -> str:
    valor = getattr(model, name)
    return "" if valor is None else json.dumps(valor, ensure_ascii=False, sort_keys=True)


def _json_detalle(_view, _context, model, name):
    valor = getattr(model, name)
    if valor is None:
        return ""
    return Markup("<pre class='mb-0'>{}</pre>").format(json.dumps(valor, ensure_ascii=False, indent=2,
                                                                    sort_keys=True))


def _cambios(_view, _context, model, _name) -> str:
    """Which columns the row touched (the values are on the details page and in the CSV)."""
    valores = model.valores_nuevos or model.valores_anteriores or {}
    campos = ", ".join(sorted(valores))
    return campos if len(campos) <= 120 else campos[:117] + "…"


class SoloLectura(ServiceModelView):
    """A log: nothing is created, edited or deleted here."""

    can_create = False
    can_edit = False
    can_delete = False
    column_display_actions = True
    precargar = ((Usuario, "usuario_id"),)


class AuditoriaView(SoloLectura):
    """The audit trail, newest first."""

    column_list = ("created_at", "tabla", "registro_id", "accion", "usuario", "ip", "cambios")
    column_details_list = ("id", "created_at", "tabla", "registro_id", "accion", "usuario", "ip",
                           "valores_anteriores", "valores_nuevos")
    column_export_list = ("id", "created_at", "tabla", "registro_id", "accion", "usuario_id", "usuario",
                          "ip", "valores_anteriores", "valores_nuevos")
    # The user's name and email are searched through an outer join on the user id.
    column_searchable_list = ("tabla", "registro_id", Usuario.nombre, Usuario.email)
    column_filters = (FilterEqual(Auditoria.tabla, "Tabla", options=al_pedir(_tablas)),
                      FilterEqual(Auditoria.registro_id, "Registro"),
                      Opcion(Auditoria.accion, "Acción", ACCIONES),
                      IntEqualFilter(Auditoria.usuario_id, "Usuario", options=al_pedir(_staff)),
                      FilterLike(Auditoria.ip, "IP"), "created_at")
    column_sortable_list = ("id", "created_at", "tabla", "registro_id", "accion")
    column_default_sort = ("id", True)
    column_labels: ClassVar[dict] = {
        "created_at": "Fecha (UTC)", "tabla": "Tabla", "registro_id": "Registro", "accion": "Acción",
        "usuario": "Usuario", "usuario_id": "Usuario (id)", "ip": "IP", "cambios": "Campos",
        "valores_anteriores": "Valores anteriores", "valores_nuevos": "Valores nuevos",
        "email": "Correo del usuario", "nombre": "Nombre del usuario",
    }
    column_formatters: ClassVar[dict] = {"usuario": _usuario, "cambios": _cambios}
    column_formatters_detail: ClassVar[dict] = {"usuario": _usuario, "valores_anteriores": _json_detalle,
                                                "valores_nuevos": _json_detalle}
    column_formatters_export: ClassVar[dict] = {"usuario": _usuario, "valores_anteriores": _json,
                                                "valores_nuevos": _json}

    def search_placeholder(self) -> str:
        return "Tabla, registro, usuario o correo"


class AccesoView(SoloLectura):
    """The access log: sign-ins (success and failure) and account events, newest first."""

    column_list = ("fecha", "tipo", "exitoso", "email", "usuario", "empresa", "ip", "detalle")
    column_details_list = ("id", "fecha", "tipo", "exitoso", "email", "usuario", "empresa", "ip",
                           "user_agent", "detalle")
    column_export_list = ("id", "fecha", "tipo", "exitoso", "email", "usuario_id", "usuario", "empresa_id",
                          "empresa", "ip", "user_agent", "detalle")
    column_searchable_list = ("email", "ip", "tipo", "detalle", Usuario.nombre)
    column_filters = (FilterEqual(LogAcceso.tipo, "Tipo"), BooleanEqualFilter(LogAcceso.exitoso, "Exitoso"),
                      IntEqualFilter(LogAcceso.empresa_id, "Empresa", options=al_pedir(opciones_empresas)),
                      IntEqualFilter(LogAcceso.usuario_id, "Usuario"), FilterLike(LogAcceso.email, "Correo"),
                      FilterLike(LogAcceso.ip, "IP"), "fecha")
    column_sortable_list = ("id", "fecha", "tipo", "exitoso", "email", "ip")
    column_default_sort = ("id", True)
    precargar = ((Usuario, "usuario_id"), (Empresa, "empresa_id"))
    column_labels: ClassVar[dict] = {
        "fecha": "Fecha (UTC)", "tipo": "Tipo", "exitoso": "Exitoso", "email": "Correo",
        "usuario": "Usuario", "usuario_id": "Usuario (id)", "empresa": "Empresa",
        "empresa_id": "Empresa (id)", "ip": "IP", "user_agent": "Navegador", "detalle": "Detalle",
        "nombre": "Nombre del usuario",
    }
    column_formatters: ClassVar[dict] = {"usuario": _usuario, "empresa": nombre_empresa}
    column_formatters_export: ClassVar[dict] = {"usuario": _usuario, "empresa": nombre_empresa}

    def search_placeholder(self) -> str:
        return "Correo, IP, tipo, detalle o nombre"


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [AuditoriaView(Auditoria, db, name="Auditoría", endpoint="panel_auditoria", url="auditoria",
                          category="Registros"),
            AccesoView(LogAcceso, db, name="Accesos", endpoint="panel_accesos", url="accesos",
                       category="Registros")]
