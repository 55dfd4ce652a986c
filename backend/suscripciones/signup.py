"""Self-service sign-up (`POST /public/suscripcion`).

`suscribir` creates the company, its first user (rol `cliente`, pending activation) and an
`inactiva` subscription in ONE transaction: any failure rolls back everything (the error
handlers roll the session back on ApiError, IntegrityError and any other exception).
The activation code is emailed only after the commit.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..catalogo.models import Plan
from ..core.errors import Conflict, ValidationFailed
from ..core.models import utc_today
from ..empresas.models import Empresa, EstadoEmpresa
from ..extensions import db
from ..identity.models import Rol, Usuario
from ..identity.services import registration
from ..identity.services.passwords import check_password_rule, hash_password
from .models import EstadoSuscripcion, Periodo, Suscripcion
from .services import fin_de_periodo

# ---------------------------------------------------------------- sign-up

def _plan_for_signup(plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or not plan.activo:
        raise ValidationFailed("El plan no existe o no está disponible.",
                               details={"plan_id": ["Plan inexistente o inactivo."]})
    return plan


def _email_conflict() -> Conflict:
    return Conflict("Ya existe una cuenta con ese correo.", code="email_en_uso",
                    details={"usuario.email": ["Ya está registrado."]})


def _nit_conflict() -> Conflict:
    return Conflict("Ya existe una empresa con ese NIT.", code="conflicto",
                    details={"empresa.nit": ["Ya está registrado."]})


def suscribir(empresa_data: dict, usuario_data: dict, plan_id: int, periodo: Periodo) -> dict:
    """Create company + pending user + `inactiva` subscription atomically; email the code."""
    check_password_rule(usuario_data["password"], field="usuario.password")
    plan = _plan_for_signup(plan_id)
    if db.session.scalar(select(Empresa.id).where(Empresa.nit == empresa_data["nit"])):
        raise _nit_conflict()
    try:
        empresa = Empresa(estado=EstadoEmpresa.ACTIVA, **empresa_data)
        db.session.add(empresa)
        db.session.flush()
        # Checked after the company insert on purpose: a conflict here must undo it.
        if db.session.scalar(select(Usuario.id).where(Usuario.email == usuario_data["email"])):
            raise _email_conflict()
        usuario = Usuario(
            nombre=usuario_data["nombre"], email=usuario_data["email"],
            password_hash=hash_password(usuario_data["password"]), rol=Rol.CLIENTE,
            empresa_id=empresa.id, is_active=True, pendiente_activacion=True,
            email_verificado=False,
        )
        db.session.add(usuario)
        db.session.flush()
        hoy = utc_today()  # UTC, as the licence check reads it
        suscripcion = Suscripcion(
            empresa_id=empresa.id, plan_id=plan.id, periodo=periodo, fecha_inicio=hoy,
            fecha_fin=fin_de_periodo(hoy, periodo), estado=EstadoSuscripcion.INACTIVA,
            precio_pagado=plan.precio(periodo), notas="Alta desde el sitio público.",
        )
        db.session.add(suscripcion)
        db.session.flush()
        code = registration.issue_activation_code(usuario)
        db.session.commit()
    except IntegrityError as exc:  # a concurrent sign-up won the race for the NIT or email
        db.session.rollback()
        message = str(exc.orig).lower()
        raise (_email_conflict() if "email" in message else _nit_conflict()) from exc
    registration.send_activation_email(usuario, code)  # never raises: a failure is only logged
    return {"empresa": empresa, "usuario": usuario, "suscripcion": suscripcion,
            "registro_token": registration.registro_token(usuario)}
