"""The staff panel's company screens (admin only): companies, with search on NIT or name, the
estado filter and CSV, created and edited through services (the unique NIT holds), soft
deleted with "Desactivar" and brought back with "Activar"; and their API keys, listed without
the key or its hash, created on the company's page (the full key is shown once, on the answer
page, never stored) and revoked with a button."""
from __future__ import annotations

from functools import partial
from typing import ClassVar

from flask import abort
from flask_admin import BaseView, expose
from flask_admin.contrib.sqla.filters import FilterEmpty, IntEqualFilter
from flask_admin.form import SecureForm
from flask_admin.helpers import get_redirect_target
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional

from ..extensions import db
from ..identity import panel_session
from ..panel.filters import Opcion, al_pedir
from ..panel.labels import valores
from ..panel.lookups import etiqueta_empresa, fila_de, opciones_empresas
from ..panel.screens import ServiceModelView, aqui, boton, enlace
from . import api_keys
from . import services as empresas
from .models import ApiKey, Empresa, EstadoEmpresa
from .schemas import EmpresaSchema, EmpresaUpdateSchema

ESTADOS = valores(EstadoEmpresa)
KEYS_SHOWN = 10  # the newest keys on a company's page; the keys screen lists them all

KEY_PAGE = "panel/empresas/api_key_creada.html"


class EmpresaForm(SecureForm):
    nit = StringField("NIT", validators=[InputRequired(), Length(max=32)],
                      description="Dígitos con dígito de verificación opcional: 900123456-7.")
    nombre = StringField("Nombre", validators=[InputRequired(), Length(max=200)])
    contacto = StringField("Contacto", validators=[Optional(), Length(max=200)])
    email = StringField("Correo", validators=[Optional(), Length(max=255)])
    telefono = StringField("Teléfono", validators=[Optional(), Length(max=32)])
    direccion = StringField("Dirección", validators=[Optional(), Length(max=255)])
    ciudad = StringField("Ciudad", validators=[Optional(), Length(max=120)])
    pais = StringField("País (ISO, p. ej. CO)", validators=[Optional(), Length(max=2)])


class ApiKeyForm(SecureForm):
    nombre = StringField("Nombre (opcional)", validators=[Optional(), Length(max=120)],
                         description="Para reconocerla: la instancia o el servidor que la usará.")


class EmpresaView(ServiceModelView):
    """Companies: every change through services (admin only). Deleting is `Desactivar`."""

    can_delete = False
    form = EmpresaForm
    campos = ("nit", "nombre", "contacto", "email", "telefono", "direccion", "ciudad", "pais")
    column_list = ("nit", "nombre", "contacto", "email", "ciudad", "estado", "created_at", "acciones")
    column_details_list = ("id", "nit", "nombre", "contacto", "email", "telefono", "direccion", "ciudad",
                           "pais", "estado", "created_at", "updated_at", "acciones", "api_keys")
    column_export_list = ("id", "nit", "nombre", "contacto", "email", "telefono", "direccion", "ciudad",
                          "pais", "estado", "created_at")
    column_searchable_list = ("nit", "nombre")
    column_filters = (Opcion(Empresa.estado, "Estado", ESTADOS), "ciudad", "created_at")
    column_sortable_list = ("nit", "nombre", "ciudad", "estado", "created_at")
    column_default_sort = ("nombre", False)
    column_labels: ClassVar[dict] = {
        "nit": "NIT", "nombre": "Nombre", "contacto": "Contacto", "email": "Correo",
        "telefono": "Teléfono", "direccion": "Dirección", "ciudad": "Ciudad", "pais": "País",
        "estado": "Estado", "created_at": "Creada", "updated_at": "Actualizada", "acciones": "Acciones",
        "api_keys": "API keys",
    }

    esquema_alta = EmpresaSchema
    esquema_edicion = partial(EmpresaUpdateSchema, partial=True)
    crear = staticmethod(empresas.crear)
    actualizar = staticmethod(empresas.actualizar)

    def _acciones(self, _context, model, _name):
        if model.estado == EstadoEmpresa.ACTIVA:
            return boton(self.get_url(".desactivar", id=model.id, url=aqui()), "Desactivar", "outline-danger")
        return boton(self.get_url(".activar", id=model.id, url=aqui()), "Activar", "outline-success")

    def _api_keys(self, _context, model, _name):
        """The company's newest keys (prefix, name, state; never the key) with their buttons."""
        filas = db.session.scalars(api_keys.keys_of(model.id).limit(KEYS_SHOWN)).all()
        html = Markup('<table class="table table-sm mb-2"><thead><tr><th>Prefijo</th><th>Nombre</th>'
                      '<th>Creada</th><th>Último uso</th><th>Estado</th><th></th></tr></thead><tbody>')
        for fila in filas:
            revocar = ("" if fila.revoked_at else
                       boton(self.get_url("panel_api_keys.revocar", id=fila.id, url=aqui()), "Revocar",
                             "outline-danger"))
            html += Markup("<tr><td><code>{}</code></td><td>{}</td><td>{:%Y-%m-%d %H:%M}</td><td>{}</td>"
                           "<td>{}</td><td>{}</td></tr>").format(
                fila.prefijo, fila.nombre or "", fila.created_at,
                f"{fila.last_used_at:%Y-%m-%d %H:%M}" if fila.last_used_at else "—",
                "revocada" if fila.revoked_at else "activa", revocar)
        html += Markup("</tbody></table>")
        return html + enlace(self.get_url(".nueva_api_key", id=model.id, url=aqui()), "Nueva API key",
                             "primary") + enlace(
            self.get_url("panel_api_keys.index_view", flt0_empresa_equals=model.id), "Ver todas")

    column_formatters: ClassVar[dict] = {"acciones": _acciones, "api_keys": _api_keys}

    @expose("/desactivar/", methods=("POST",))
    def desactivar(self):
        """Soft delete: the company becomes `inactiva` (its licence stops being valid)."""
        return self.accion(empresas.desactivar, "La empresa quedó inactiva.")

    @expose("/activar/", methods=("POST",))
    def activar(self):
        return self.accion(empresas.activar, "La empresa quedó activa.")

    @expose("/api-key/", methods=("GET", "POST"))
    def nueva_api_key(self):
        """Create an API key for the company: the answer page shows the full key once."""
        empresa = db.session.get(Empresa, self.id_pedido()) or abort(404)
        volver = get_redirect_target() or self.get_url(".details_view", id=empresa.id)
        staff = panel_session.current_staff()

        def mostrar(creada):
            fila, clave = creada
            # The only time the key is shown: not kept by the browser or a proxy.
            pagina = self.pagina(None, "", volver, plantilla=KEY_PAGE, empresa=empresa, fila=fila,
                                 clave=clave)
            return pagina, 200, {"Cache-Control": "no-store"}

        return self.formulario(
            ApiKeyForm, f"Nueva API key para {empresa.nombre}", volver,
            lambda form: api_keys.create_key(empresa.id, (form.nombre.data or "").strip(), staff.id),
            "API key creada.", texto="La clave completa se mostrará una sola vez.", respuesta=mostrar)


class ApiKeyView(ServiceModelView):
    """Every company's API keys (admin only): never the key nor its hash; revoke is a button,
    creating one is on the company's page."""

    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("empresa", "prefijo", "nombre", "created_at", "last_used_at", "estado", "acciones")
    column_details_list = ("id", "empresa", "prefijo", "nombre", "creado_por", "created_at",
                           "last_used_at", "revoked_at", "estado", "acciones")
    column_export_list = ("id", "empresa", "prefijo", "nombre", "creado_por", "created_at", "last_used_at",
                          "revoked_at", "estado")
    column_searchable_list = ("prefijo", "nombre")
    column_filters = (IntEqualFilter(ApiKey.empresa_id, "Empresa", options=al_pedir(opciones_empresas)),
                      FilterEmpty(ApiKey.revoked_at, "Revocada"), "created_at", "last_used_at")
    column_sortable_list = ("prefijo", "nombre", "created_at", "last_used_at", "revoked_at")
    column_default_sort = ("id", True)
    precargar = ((Empresa, "empresa_id"),)
    column_labels: ClassVar[dict] = {
        "empresa": "Empresa", "prefijo": "Prefijo", "nombre": "Nombre", "creado_por": "Creada por (usuario)",
        "created_at": "Creada", "last_used_at": "Último uso", "revoked_at": "Revocada", "estado": "Estado",
        "acciones": "Acciones",
    }

    def _empresa(self, _context, model, _name):
        empresa = fila_de(Empresa, model.empresa_id)
        return etiqueta_empresa(empresa) if empresa else model.empresa_id

    def _estado(self, _context, model, _name):
        return "revocada" if model.revoked_at else "activa"

    def _acciones(self, _context, model, _name):
        if model.revoked_at:
            return ""
        return boton(self.get_url(".revocar", id=model.id, url=aqui()), "Revocar", "outline-danger")

    column_formatters: ClassVar[dict] = {"empresa": _empresa, "estado": _estado, "acciones": _acciones}
    column_formatters_export: ClassVar[dict] = {"empresa": _empresa, "estado": _estado}

    @expose("/revocar/", methods=("POST",))
    def revocar(self):
        """Revoke a key: it stops working at once (idempotent)."""
        def revocar(key_id: int):
            fila = db.session.get(ApiKey, key_id)
            return api_keys.revoke_key(fila.empresa_id if fila else 0, key_id)

        return self.accion(revocar, "La API key quedó revocada.")


def views() -> list[BaseView]:
    """This domain's panel screens, in menu order."""
    return [EmpresaView(Empresa, db, name="Empresas", endpoint="panel_empresas", url="empresas",
                        category="Empresas"),
            ApiKeyView(ApiKey, db, name="API keys", endpoint="panel_api_keys", url="api-keys",
                       category="Empresas")]
