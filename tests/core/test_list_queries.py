"""Every admin list, every ticket answer and the public plan lists run a fixed number of SQL
statements whatever the number of rows: one request is counted with a few rows, then again
once a page of 100 is full (each plan with several services, each subscription with its plan,
each support subscription with its type and payments, each ticket with comments and files)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.core import audit
from backend.core.audit import AccionAuditoria, Auditoria
from backend.empresas.models import ApiKey, Empresa
from backend.identity.models import Rol, Usuario
from backend.soporte.models import (
    EstadoPago,
    EstadoSoporte,
    Modalidad,
    SoportePago,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTicketArchivo,
    SoporteTicketComentario,
    SoporteTipo,
)
from backend.suscripciones.models import Suscripcion

GLOBAL_KEY = "test-global-api-key"
FEW = 2
MANY = 105  # more than a page of 100
SERVICES_PER_PLAN = 3
COMMENTS_PER_TICKET = 3
FILES_PER_TICKET = 2


class World:
    """Rows around the `empresa` fixture, added in bulk (no audit rows but those asked for):
    `grow(n)` adds n of everything, so each list below gains n rows."""

    def __init__(self, db, empresa: Empresa) -> None:
        self.db = db
        self.empresa = empresa
        self.n = 0
        with audit.disabled():
            servicios = [Servicio(nombre=f"Servicio {i}", url_api=f"/api/s{i}")
                         for i in range(SERVICES_PER_PLAN)]
            self.plan = Plan(nombre="Plan base", precio_mensual=Decimal("100.00"),
                             precio_anual=Decimal("1000.00"))
            self.tipo = SoporteTipo(nombre="Soporte base", modalidad=Modalidad.POR_TICKETS,
                                    precio=Decimal("150.00"), max_tickets=1000)
            db.session.add_all([*servicios, self.plan, self.tipo])
            db.session.flush()
            db.session.add_all(PlanServicio(plan_id=self.plan.id, servicio_id=s.id, cantidad=1)
                               for s in servicios)
            self.suscripcion = self._suscripcion(empresa, self.plan, "activa")
            db.session.flush()
            self.soporte = self._soporte(self.suscripcion, self.tipo)
            db.session.flush()
            self.ticket = self._ticket(self.soporte)
            db.session.commit()
        self.plan_id, self.ticket_id = self.plan.id, self.ticket.id

    def _suscripcion(self, empresa, plan, estado) -> Suscripcion:
        row = Suscripcion(empresa_id=empresa.id, plan_id=plan.id, periodo="mensual", estado=estado,
                          fecha_inicio=date.today() - timedelta(days=1),
                          fecha_fin=date.today() + timedelta(days=29),
                          precio_pagado=plan.precio_mensual)
        self.db.session.add(row)
        return row

    def _soporte(self, suscripcion, tipo) -> SoporteSuscripcion:
        row = SoporteSuscripcion(empresa_id=suscripcion.empresa_id, suscripcion_id=suscripcion.id,
                                 soporte_tipo_id=tipo.id, estado=EstadoSoporte.ACTIVO,
                                 fecha_inicio=date.today() - timedelta(days=1),
                                 fecha_fin=date.today() + timedelta(days=29),
                                 precio_actual=tipo.precio)
        self.db.session.add(row)
        return row

    def _ticket(self, soporte) -> SoporteTicket:
        row = SoporteTicket(empresa_id=soporte.empresa_id, soporte_suscripcion_id=soporte.id,
                            titulo=f"Ticket {self.n}", descripcion="No factura.")
        self.db.session.add(row)
        return row

    def _comments_and_files(self, ticket_id: int, usuario_id: int | None) -> None:
        self.n += 1
        for i in range(COMMENTS_PER_TICKET):
            self.db.session.add(SoporteTicketComentario(ticket_id=ticket_id, usuario_id=usuario_id,
                                                        contenido=f"Comentario {i}", interno=i == 0))
        for i in range(FILES_PER_TICKET):
            self.db.session.add(SoporteTicketArchivo(
                ticket_id=ticket_id, nombre=f"f{i}.txt", storage_key=f"k/{self.n}/{i}", tamano=1,
                content_type="text/plain", sha256="0" * 64, subido_por=usuario_id))

    def grow(self, n: int) -> None:
        """Add n companies (each with a user, an API key of `empresa`, a plan of several services,
        subscriptions, a support type and subscription with a payment, tickets of `empresa` and
        of its own with comments and files) and n audit rows."""
        db = self.db
        servicios_base = [ps.servicio for ps in self.plan.plan_servicios[:2]]
        with audit.disabled():
            for _ in range(n):
                k = self.n
                otra = Empresa(nit=f"80000{k:04d}-1", nombre=f"Otra {k}")
                servicio = Servicio(nombre=f"Extra {k}", url_api=f"/api/extra{k}")
                plan = Plan(nombre=f"Plan {k}", precio_mensual=Decimal("100.00"),
                            precio_anual=Decimal("1000.00"))
                tipo = SoporteTipo(nombre=f"Soporte {k}", modalidad=Modalidad.POR_HORAS,
                                   precio=Decimal("150.00"), max_horas=Decimal("10.00"))
                db.session.add_all([otra, servicio, plan, tipo])
                db.session.flush()
                usuario = Usuario(nombre=f"Usuario {k}", email=f"u{k}@example.com",
                                  password_hash="x", rol=Rol.CLIENTE, empresa_id=otra.id)
                db.session.add(usuario)
                db.session.add_all(PlanServicio(plan_id=plan.id, servicio_id=s.id, cantidad=2)
                                   for s in [servicio, *servicios_base])
                db.session.add(PlanServicio(plan_id=self.plan_id, servicio_id=servicio.id, cantidad=1))
                db.session.add(ApiKey(empresa_id=self.empresa.id, nombre=f"Clave {k}",
                                      prefijo=f"sk_{k:08d}", key_hash=f"{k:064d}"))
                propia = self._suscripcion(otra, plan, "activa")
                cancelada = self._suscripcion(self.empresa, plan, "cancelada")
                db.session.flush()
                for suscripcion in (propia, cancelada):
                    soporte = self._soporte(suscripcion, tipo)
                    db.session.flush()
                    db.session.add(SoportePago(soporte_suscripcion_id=soporte.id, monto=tipo.precio,
                                               estado=EstadoPago.EXITOSO))
                    ticket = self._ticket(soporte)
                    db.session.flush()
                    self._comments_and_files(ticket.id, usuario.id)
                self._comments_and_files(self.ticket_id, usuario.id)
                db.session.add(Auditoria(tabla="empresas", registro_id=str(otra.id),
                                         accion=AccionAuditoria.CREAR, valores_nuevos={"n": k},
                                         usuario_id=usuario.id))
            db.session.commit()


def _count(client, count_queries, db, path: str, headers: dict) -> int:
    db.session.expire_all()
    with count_queries() as counter:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["items"] if isinstance(body, dict) and "items" in body else body
    return counter["n"]


PATHS = [
    "/admin/empresas",
    "/admin/empresas?q=otra 8000",
    "/admin/usuarios",
    "/admin/usuarios?q=usuario example.com",
    "/admin/planes",
    "/admin/servicios",
    "/admin/planes/{plan_id}/servicios",
    "/admin/planes-servicios/resumen",
    "/admin/suscripciones",
    "/admin/auditoria",
    "/admin/empresas/{empresa_id}/api-keys",
    "/admin/soporte-tipos",
    "/admin/soporte-suscripciones",
    "/admin/soporte-pagos",
    "/admin/soporte-tickets",
    "/admin/soporte-tickets?q=ticket factura",
    "/admin/soporte-tickets/{ticket_id}",
    "/api/internal/support/tickets",
    "/api/internal/support/ticket_id/{ticket_id}",
    "/account/subscriptions",
    "/public/planes",
    "/api/planes",
]


@pytest.mark.parametrize("path", PATHS)
def test_list_queries_do_not_grow_with_rows(client, db, count_queries, empresa, admin_headers,
                                            cliente_headers, path):
    world = World(db, empresa)
    world.grow(FEW)
    if path.startswith("/account"):
        headers = cliente_headers
    elif path.startswith("/api/"):
        headers = {"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": str(empresa.id)}
    else:
        headers = admin_headers
    url = path.format(plan_id=world.plan_id, ticket_id=world.ticket_id, empresa_id=empresa.id)
    if "{ticket_id}" not in path:  # a ticket's detail is one object, not a page
        url += ("&" if "?" in url else "?") + "per_page=100"
    few = _count(client, count_queries, db, url, headers)
    world.grow(MANY - FEW)
    many = _count(client, count_queries, db, url, headers)
    assert many == few, f"{path}: {few} statements with {FEW} rows, {many} with {MANY}"
