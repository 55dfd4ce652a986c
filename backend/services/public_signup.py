"""The public catalogue (plans, services, company names) and self-service sign-up.

`suscribir` creates the company, its first user (rol `cliente`, pending activation) and an
`inactiva` subscription in ONE transaction: any failure rolls back everything (the error
handlers roll the session back on ApiError, IntegrityError and any other exception).
The activation code is emailed only after the commit.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import (
    Empresa,
    EstadoEmpresa,
    EstadoSuscripcion,
    Periodo,
    Plan,
    PlanServicio,
    Rol,
    Servicio,
    Suscripcion,
    Usuario,
    utcnow,
)
from . import registro
from .common import get_or_404
from .passwords import check_password_rule, hash_password
from .suscripciones import fin_de_periodo

# ---------------------------------------------------------------- catalogue

def plan_dict(plan: Plan) -> dict:
    """A plan with `servicios: [{id, nombre, cantidad}]` (active services only)."""
    return {
        "id": plan.id, "nombre": plan.nombre, "descripcion": plan.descripcion,
        "precio_mensual": plan.precio_mensual, "precio_anual": plan.precio_anual,
        "seleccionado": plan.seleccionado, "activo": plan.activo,
        "servicios": [
            {"id": ps.servicio.id, "nombre": ps.servicio.nombre, "cantidad": ps.cantidad}
            for ps in plan.plan_servicios if ps.servicio.activo
        ],
    }


def planes_activos_stmt():
    """Active plans, cheapest first, with their services loaded in one extra query."""
    return (
        select(Plan)
        .where(Plan.activo.is_(True))
        .options(selectinload(Plan.plan_servicios).selectinload(PlanServicio.servicio))
        .order_by(Plan.precio_mensual, Plan.id)
    )


def servicios_stmt(solo_activos: bool):
    stmt = select(Servicio).order_by(Servicio.nombre)
    return stmt.where(Servicio.activo.is_(True)) if solo_activos else stmt


def empresa_publica(empresa_id: int) -> Empresa:
    return get_or_404(Empresa, empresa_id, "La empresa no existe.")


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
        hoy = utcnow().date()  # UTC, as the licence check reads it
        suscripcion = Suscripcion(
            empresa_id=empresa.id, plan_id=plan.id, periodo=periodo, fecha_inicio=hoy,
            fecha_fin=fin_de_periodo(hoy, periodo), estado=EstadoSuscripcion.INACTIVA,
            precio_pagado=plan.precio(periodo), notas="Alta desde el sitio público.",
        )
        db.session.add(suscripcion)
        db.session.flush()
        code = registro.issue_activation_code(usuario)
        db.session.commit()
    except IntegrityError as exc:  # a concurrent sign-up won the race for the NIT or email
        db.session.rollback()
        message = str(exc.orig).lower()
        raise (_email_conflict() if "email" in message else _nit_conflict()) from exc
    registro.send_activation_email(usuario, code)  # never raises: a failure is only logged
    return {"empresa": empresa, "usuario": usuario, "suscripcion": suscripcion,
            "registro_token": registro.registro_token(usuario)}
