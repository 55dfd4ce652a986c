"""The tickets screen: the list (filters, search in title and description, CSV), opening a
ticket for a company (services.tickets.abrir: the availability rule and the quota), and the
ticket page: the whole conversation (internal notes marked), reply, internal note, state
changes through the transition table, assignment, priority, and attachments to upload (the
API's checks and limits) and download."""
from __future__ import annotations

from typing import ClassVar

from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_admin.contrib.sqla.filters import FilterEmpty, IntEqualFilter
from flask_admin.form import SecureForm
from markupsafe import Markup
from sqlalchemy import select
from wtforms import FileField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ...empresas.models import Empresa
from ...extensions import db
from ...identity.models import STAFF_ROLES, Rol, Usuario
from ...identity.panel_session import current_staff
from ...panel.filters import Contiene, ids_empresas, ids_usuarios
from ...panel.labels import ESTADOS_SOPORTE, ESTADOS_TICKET, MODALIDADES, PRIORIDADES, choices, etiqueta
from ...panel.lookups import cargar_por_id, empresas_query, fila_de, nombre_empresa
from ...panel.screens import id_de
from ..models import EstadoTicket, SoporteSuscripcion, SoporteTicket
from ..routes import files
from ..schemas import CerrarTicketSchema, ComentarioSchema, TicketPatchSchema, TicketSchema
from ..services import disponibilidad, tickets
from .comun import Igual, SoporteModelView, empresa_con_nit, nombre_usuario

# What a state button of the ticket page does, by `accion`.
ACCIONES_TICKET = {
    "en_proceso": "Pasar a en proceso",
    "pendiente_respuesta": "Pendiente de respuesta",
    "abierto": "Volver a abierto",
    "cerrar": "Cerrar",
    "reabrir": "Reabrir",
    "cancelar": "Cancelar ticket",
}
# The Bootstrap badge of each ticket state.
CLASES_ESTADO = {EstadoTicket.ABIERTO: "primary", EstadoTicket.EN_PROCESO: "info",
                 EstadoTicket.PENDIENTE_RESPUESTA: "warning", EstadoTicket.CERRADO: "secondary",
                 EstadoTicket.CANCELADO: "dark"}


def _clientes():
    return db.session.scalars(select(Usuario).where(Usuario.rol == Rol.CLIENTE)
                              .order_by(Usuario.nombre, Usuario.id)).all()


def _staff_activo() -> list[Usuario]:
    return list(db.session.scalars(select(Usuario).where(Usuario.rol.in_(STAFF_ROLES),
                                                          Usuario.is_active.is_(True))
                                   .order_by(Usuario.nombre, Usuario.id)))


class TicketCrearForm(SecureForm):
    empresa_id = QuerySelectField("Empresa", query_factory=empresas_query, get_label=empresa_con_nit)
    titulo = StringField("Título", validators=[InputRequired(), Length(max=255)])
    descripcion = TextAreaField("Descripción", validators=[InputRequired()])
    prioridad = SelectField("Prioridad", choices=choices(PRIORIDADES), default="media")
    usuario_id = QuerySelectField("Usuario de la empresa", query_factory=_clientes,
                                  get_label=lambda u: f"{u.nombre} <{u.email}>", allow_blank=True,
                                  blank_text="(ninguno)")


class ComentarioForm(SecureForm):
    contenido = TextAreaField("Mensaje", validators=[InputRequired()])
    interno = HiddenField(default="0")


class EstadoForm(SecureForm):
    accion = HiddenField(validators=[InputRequired()])
    horas = StringField("Horas dedicadas", validators=[Optional()])


class AsignarForm(SecureForm):
    # The service decides who may be assigned (active staff only), as for the API.
    asignado_a = SelectField("Asignado a", choices=[], validate_choice=False)


class PrioridadForm(SecureForm):
    prioridad = SelectField("Prioridad", choices=choices(PRIORIDADES), validate_choice=False)


class ArchivoForm(SecureForm):
    file = FileField("Archivo")


def _titulo_enlace(view, _context, model, _name):
    return Markup('<a href="{}">{}</a>').format(view.get_url(".details_view", id=model.id),
                                                model.titulo)


def _estado_ticket(_view, _context, model, _name):
    return Markup('<span class="badge badge-{}">{}</span>').format(CLASES_ESTADO[model.estado],
                                                                   ESTADOS_TICKET[model.estado])


def _asignado(ticket: SoporteTicket) -> str:
    asignado = fila_de(Usuario, ticket.asignado_a)
    return (f"Ticket #{ticket.id} asignado a {asignado.nombre}." if asignado
            else f"Ticket #{ticket.id} sin asignar.")


class TicketsView(SoporteModelView):
    """Tickets: the list (filters, search in title and description, CSV), opening one for a
    company (services.tickets.abrir: the availability rule and quota), and the ticket page."""

    details_template = "panel/soporte/ticket.html"
    can_edit = False  # changes are made on the ticket page, one service call each
    can_delete = False  # the API deletes no ticket either
    form = TicketCrearForm
    column_list = ("id", "titulo", "empresa_id", "estado", "prioridad", "asignado_a", "created_at",
                   "updated_at")
    column_export_list = ("id", "empresa_id", "titulo", "descripcion", "estado", "prioridad",
                          "usuario_id", "asignado_a", "horas_invertidas", "soporte_suscripcion_id",
                          "created_at", "updated_at", "cerrado_at")
    column_labels: ClassVar[dict] = {
        "id": "Id", "titulo": "Título", "descripcion": "Descripción", "empresa_id": "Empresa",
        "estado": "Estado", "prioridad": "Prioridad", "usuario_id": "Usuario", "asignado_a": "Asignado a",
        "horas_invertidas": "Horas invertidas", "soporte_suscripcion_id": "Suscripción de soporte (id)",
        "created_at": "Abierto", "updated_at": "Actualizado", "cerrado_at": "Cerrado",
    }
    column_searchable_list = ("titulo", "descripcion")
    column_filters = (Igual(SoporteTicket.estado, "Estado", ESTADOS_TICKET),
                      Igual(SoporteTicket.prioridad, "Prioridad", PRIORIDADES),
                      Contiene(SoporteTicket.empresa_id, "Empresa", ids_empresas),
                      IntEqualFilter(SoporteTicket.empresa_id, "Empresa (id)"),
                      Contiene(SoporteTicket.asignado_a, "Asignado a", ids_usuarios),
                      IntEqualFilter(SoporteTicket.asignado_a, "Asignado a (id)"),
                      FilterEmpty(SoporteTicket.asignado_a, "Sin asignar"))
    column_sortable_list = ("id", "titulo", "estado", "prioridad", "created_at", "updated_at")
    column_default_sort = ("id", True)
    precargar = ((Empresa, "empresa_id"), (Usuario, "asignado_a"), (Usuario, "usuario_id"))
    column_formatters: ClassVar[dict] = {
        "titulo": _titulo_enlace, "empresa_id": nombre_empresa, "estado": _estado_ticket,
        "prioridad": etiqueta(PRIORIDADES), "asignado_a": nombre_usuario,
    }
    column_formatters_export: ClassVar[dict] = {
        "empresa_id": nombre_empresa, "estado": etiqueta(ESTADOS_TICKET),
        "prioridad": etiqueta(PRIORIDADES), "usuario_id": nombre_usuario, "asignado_a": nombre_usuario,
    }

    # -------------------------------------------------- opening

    def datos_alta(self, form) -> dict:
        return {"empresa_id": id_de(form.empresa_id.data), "titulo": form.titulo.data,
                "descripcion": form.descripcion.data, "prioridad": form.prioridad.data,
                "usuario_id": id_de(form.usuario_id.data)}

    esquema_alta = TicketSchema

    def crear(self, datos: dict):
        return tickets.abrir(datos["empresa_id"], datos["titulo"], datos["descripcion"],
                             datos["prioridad"], datos.get("usuario_id"), datos.get("metadata_"))

    def get_save_return_url(self, model, is_created=False):
        return self.get_url(".details_view", id=model.id)

    # -------------------------------------------------- the ticket page

    def _pagina(self, ticket_id: int):
        return redirect(self.get_url(".details_view", id=ticket_id))

    @expose("/details/")
    def details_view(self):
        """The ticket page: the conversation (internal notes marked), the files, and the forms."""
        ticket_id = request.args.get("id", type=int)
        ok, ticket = self.ejecutar(lambda: tickets.obtener(ticket_id))
        if not ok:
            return redirect(self.get_url(".index_view"))
        usuarios = cargar_por_id(Usuario, {ticket.usuario_id, ticket.asignado_a,
                                           *(c.usuario_id for c in ticket.comentarios),
                                           *(a.subido_por for a in ticket.archivos)})
        soporte = db.session.get(SoporteSuscripcion, ticket.soporte_suscripcion_id) \
            if ticket.soporte_suscripcion_id else None
        asignar = AsignarForm(asignado_a=str(ticket.asignado_a or ""))
        asignar.asignado_a.choices = [SelectChoice("", "(sin asignar)"), *(
            SelectChoice(str(u.id), f"{u.nombre} ({u.rol})") for u in _staff_activo())]
        return self.render(
            self.details_template, ticket=ticket, empresa=fila_de(Empresa, ticket.empresa_id),
            usuarios=usuarios, soporte=soporte,
            limites=disponibilidad.limites(soporte) if soporte else (None, None),
            csrf=ComentarioForm().csrf_token.current_token, asignar=asignar,
            prioridad_form=PrioridadForm(prioridad=str(ticket.prioridad)), acciones=self._acciones(ticket),
            estados=ESTADOS_TICKET, clases_estado=CLASES_ESTADO, prioridades=PRIORIDADES,
            modalidades=MODALIDADES, estados_soporte=ESTADOS_SOPORTE,
            return_url=self.get_url(".index_view"))

    @staticmethod
    def _acciones(ticket: SoporteTicket) -> list[tuple[str, str]]:
        """The state buttons the transition table allows from the ticket's state."""
        permitidos = tickets.TRANSICIONES[ticket.estado]
        acciones = []
        for hacia, accion in ((EstadoTicket.EN_PROCESO, "en_proceso"),
                              (EstadoTicket.PENDIENTE_RESPUESTA, "pendiente_respuesta"),
                              (EstadoTicket.ABIERTO, "abierto"), (EstadoTicket.CANCELADO, "cancelar")):
            if hacia in permitidos:
                if hacia == EstadoTicket.ABIERTO and ticket.estado not in tickets.ABIERTOS:
                    accion = "reabrir"
                acciones.append((accion, ACCIONES_TICKET[accion]))
        return acciones

    @expose("/<int:ticket_id>/comentar", methods=("POST",))
    def comentar_view(self, ticket_id: int):
        """Reply to the company (it is emailed) or add an internal note (`interno=1`)."""
        form = self.enviado(ComentarioForm)
        if form is not None:
            interno = form.interno.data in ("1", "true", "on")

            def comentar():
                datos = ComentarioSchema().load({"contenido": form.contenido.data, "interno": interno})
                return tickets.comentar_staff(ticket_id, datos["contenido"], datos["interno"],
                                              current_staff())
            self.ejecutar(comentar, exito="Nota interna añadida (la empresa no la ve)." if interno
                          else "Respuesta enviada a la empresa.")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/estado", methods=("POST",))
    def estado_view(self, ticket_id: int):
        """Change the state: close (with hours), reopen, cancel, or move between the open
        states, all through the transition table."""
        form = self.enviado(EstadoForm)
        if form is None:
            return self._pagina(ticket_id)
        accion = form.accion.data

        def cambiar():
            if accion == "cerrar":
                horas = (form.horas.data or "").strip()
                datos = CerrarTicketSchema().load({"horas": horas} if horas else {})
                return tickets.cerrar(ticket_id, datos.get("horas"))
            if accion == "reabrir":
                return tickets.reabrir(ticket_id)
            if accion == "cancelar":
                return tickets.cancelar(ticket_id)
            return tickets.modificar(ticket_id, TicketPatchSchema().load({"estado": accion}))
        if accion not in ACCIONES_TICKET:
            flash("Acción no válida.", "error")
        else:
            self.ejecutar(cambiar, exito=lambda t: f"Ticket #{t.id}: estado {ESTADOS_TICKET[t.estado]}.")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/asignar", methods=("POST",))
    def asignar_view(self, ticket_id: int):
        """Assign to a staff member, or unassign (the service refuses anyone else)."""
        form = self.enviado(AsignarForm)
        if form is not None:
            valor = (form.asignado_a.data or "").strip()
            cuerpo = {"asignado_a": (int(valor) if valor.isdigit() else valor) if valor else None}
            self.ejecutar(lambda: tickets.modificar(ticket_id, TicketPatchSchema().load(cuerpo)),
                          exito=_asignado)
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/prioridad", methods=("POST",))
    def prioridad_view(self, ticket_id: int):
        """Change the priority."""
        form = self.enviado(PrioridadForm)
        if form is not None:
            self.ejecutar(lambda: tickets.modificar(
                ticket_id, TicketPatchSchema().load({"prioridad": form.prioridad.data})),
                exito=lambda t: f"Ticket #{t.id}: prioridad {PRIORIDADES[t.prioridad]}.")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/archivos", methods=("POST",))
    def subir_view(self, ticket_id: int):
        """Attach a file: the same checks and limits as the API (10 MB each, 50 MB per ticket,
        allowed extensions, the content matching its extension)."""
        form = self.enviado(ArchivoForm)
        if form is not None:
            archivo = request.files.get("file")
            if archivo is None:
                flash("Elija un archivo para adjuntar.", "error")
            else:
                self.ejecutar(lambda: files.upload(tickets.obtener(ticket_id), archivo, current_staff()),
                              exito=lambda fila: f"Archivo «{fila.nombre}» adjuntado.")
        return self._pagina(ticket_id)

    @expose("/<int:ticket_id>/archivos/<int:archivo_id>")
    def descargar_view(self, ticket_id: int, archivo_id: int):
        """Download a file of the ticket (the API's answer: its exact bytes as an attachment)."""
        ok, respuesta = self.ejecutar(lambda: files.download(tickets.obtener(ticket_id), archivo_id))
        if ok:
            return respuesta
        return self._pagina(ticket_id) if db.session.get(SoporteTicket, ticket_id) \
            else redirect(self.get_url(".index_view"))
