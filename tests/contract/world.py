"""The data a schemathesis run calls against, made afresh whenever a case may have changed it:
an admin, a `soporte` staff user and a customer (`cliente`) of a company with a valid plan
subscription, a support subscription with quota, a ticket with a comment and a file, a payment,
a per-company API key and a spare session per user. Every caller gets fresh tokens, so a case
that logs out, revokes sessions, changes a password or deletes a user spoils nothing after it."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.core import audit
from backend.empresas.api_keys import create_key
from backend.empresas.models import Empresa
from backend.extensions import db
from backend.identity.models import Rol, Usuario
from backend.identity.services.passwords import hash_password
from backend.identity.services.sessions import start_session
from backend.soporte.models import (
    EstadoPago,
    EstadoSoporte,
    Modalidad,
    SoportePago,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTicketComentario,
    SoporteTipo,
)
from backend.suscripciones.models import Suscripcion
from tests.conftest import PASSWORD, empty_tables

# The smallest PNG: what the admin upload accepts as an image.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@dataclass
class World:
    ids: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)  # caller -> token pair
    api_key: str = ""


def _user(rol: Rol, email: str, **values) -> Usuario:
    usuario = Usuario(rol=rol, email=email, nombre=email.split("@")[0].title(),
                      password_hash=hash_password(PASSWORD), is_active=True,
                      email_verificado=True, **values)
    db.session.add(usuario)
    return usuario


def build(app) -> World:
    """Empty every table and lay the world down again (no audit rows)."""
    from backend.extensions import limiter

    empty_tables()
    limiter.reset()
    world = World()
    today = date.today()
    with audit.disabled():
        empresa = Empresa(nit="900123456-7", nombre="Acme SAS", contacto="Ana",
                          email="contacto@acme.com", telefono="+573001234567", pais="CO")
        otra = Empresa(nit="800111222-3", nombre="Otra SAS")
        db.session.add_all([empresa, otra])
        db.session.flush()
        admin = _user(Rol.ADMIN, "admin@test.com")
        soporte = _user(Rol.SOPORTE, "soporte@test.com")
        cliente = _user(Rol.CLIENTE, "cliente@acme.com", empresa_id=empresa.id)
        servicio = Servicio(nombre="Facturas", url_api="/api/facturas")
        plan = Plan(nombre="Plan Pro", precio_mensual=Decimal("100.00"),
                    precio_anual=Decimal("1000.00"))
        db.session.add_all([servicio, plan])
        db.session.flush()
        db.session.add(PlanServicio(plan_id=plan.id, servicio_id=servicio.id, cantidad=5))
        suscripcion = Suscripcion(empresa_id=empresa.id, plan_id=plan.id, periodo="mensual",
                                  fecha_inicio=today - timedelta(days=1),
                                  fecha_fin=today + timedelta(days=29), estado="activa",
                                  precio_pagado=Decimal("100.00"))
        tipo = SoporteTipo(nombre="Soporte tickets", modalidad=Modalidad.POR_TICKETS,
                           precio=Decimal("150.00"), max_tickets=1000)
        db.session.add_all([suscripcion, tipo])
        db.session.flush()
        soporte_sus = SoporteSuscripcion(
            empresa_id=empresa.id, suscripcion_id=suscripcion.id, soporte_tipo_id=tipo.id,
            fecha_inicio=today - timedelta(days=1), fecha_fin=today + timedelta(days=29),
            estado=EstadoSoporte.ACTIVO, precio_actual=tipo.precio, tickets_consumidos=0,
            horas_consumidas=Decimal("0.00"))
        db.session.add(soporte_sus)
        db.session.flush()
        pago = SoportePago(soporte_suscripcion_id=soporte_sus.id, monto=Decimal("150.00"),
                           estado=EstadoPago.EXITOSO, metodo_pago="transferencia")
        ticket = SoporteTicket(empresa_id=empresa.id, soporte_suscripcion_id=soporte_sus.id,
                               usuario_id=cliente.id, titulo="No puedo facturar",
                               descripcion="El botón de facturar no responde.")
        db.session.add_all([pago, ticket])
        db.session.flush()
        db.session.add(SoporteTicketComentario(ticket_id=ticket.id, contenido="Revisando",
                                               usuario_id=soporte.id, es_admin=True))
        db.session.commit()
    world.ids = {
        "empresa_id": empresa.id, "usuario_id": cliente.id, "plan_id": plan.id,
        "servicio_id": servicio.id, "suscripcion_id": suscripcion.id, "tipo_id": tipo.id,
        "soporte_suscripcion_id": soporte_sus.id, "pago_id": pago.id, "ticket_id": ticket.id,
        "nit": empresa.nit, "iso2": "CO", "soporte_id": soporte.id,
    }
    with audit.disabled():
        key_row, world.api_key = create_key(empresa.id, "schemathesis")
    world.ids["key_id"] = key_row.id
    with app.test_request_context():
        for caller, usuario in (("admin", admin), ("soporte", soporte), ("cliente", cliente)):
            world.tokens[caller] = start_session(usuario)
            spare = start_session(usuario)  # a session of the caller's that a case may end
            world.ids[f"sesion_{caller}"] = _sid(spare["access_token"])
        db.session.commit()
    # The file goes through the real upload, as staff would attach it.
    answer = app.test_client().post(
        f"/admin/soporte-tickets/{ticket.id}/archivos",
        headers={"Authorization": f"Bearer {world.tokens['admin']['access_token']}"},
        data={"file": (io.BytesIO(PNG), "captura.png")}, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.get_data(as_text=True)
    world.ids["archivo_id"] = answer.get_json()["id"]
    return world


def _sid(access_token: str) -> str:
    from flask_jwt_extended import decode_token

    return decode_token(access_token)["sid"]
