"""The audit hook of core.audit: every writer leaves the same rows (API, CLI, code in an app
context), one row per record and transaction, nothing for rolled-back or undone changes, no
secrets, and no rows for requests nobody signed in to."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from backend.catalogo.models import Plan, Servicio
from backend.core import audit, persistence
from backend.core.audit import Auditoria
from backend.identity.models import Usuario


def _rows(db, tabla: str) -> list[Auditoria]:
    db.session.expire_all()
    return list(db.session.scalars(select(Auditoria).where(Auditoria.tabla == tabla)
                                   .order_by(Auditoria.id)))


def test_a_cli_command_is_audited(runner, db, make_empresa):
    empresa = make_empresa()
    result = runner.invoke(args=["api-keys", "create", str(empresa.id), "--nombre", "erp"])
    assert result.exit_code == 0, result.output
    [row] = _rows(db, "api_keys")
    assert (row.accion, row.usuario_id, row.ip) == ("crear", None, None)
    assert row.valores_nuevos["nombre"] == "erp" and "key_hash" not in row.valores_nuevos


def test_code_outside_a_request_is_audited_with_the_named_actor(db, admin):
    audit.set_actor(admin.id)
    servicio = persistence.create(Servicio(nombre="Nómina", url_api="/api/nomina"))
    [row] = _rows(db, "servicios")
    assert (row.accion, row.registro_id, row.usuario_id) == ("crear", str(servicio.id), admin.id)
    assert row.valores_anteriores is None and row.valores_nuevos["nombre"] == "Nómina"


def test_several_flushes_of_one_change_make_one_row(db, make_plan):
    plan = make_plan(nombre="Básico", precio_mensual=Decimal("10.00"))
    plan.nombre = "Básico 2"
    db.session.flush()
    plan.precio_mensual = Decimal("12.50")
    db.session.flush()
    plan.nombre = "Básico 3"
    db.session.commit()
    [row] = _rows(db, "planes")
    assert row.accion == "actualizar"
    assert row.valores_anteriores == {"nombre": "Básico", "precio_mensual": 10.0}
    assert row.valores_nuevos == {"nombre": "Básico 3", "precio_mensual": 12.5}


def test_a_change_undone_or_rolled_back_leaves_no_row(db, make_plan):
    plan = make_plan(nombre="Pro")
    plan.nombre = "Otro"
    db.session.flush()
    plan.nombre = "Pro"
    db.session.commit()
    plan.nombre = "Descartado"
    db.session.flush()
    db.session.rollback()
    assert _rows(db, "planes") == []
    assert db.session.get(Plan, plan.id).nombre == "Pro"


def test_secrets_never_enter_a_row(db, make_usuario):
    usuario = make_usuario(email="ana@example.com", nombre="Ana")
    usuario.otp_secret_enc = "cifrado"
    usuario.last_login_ip = "10.0.0.1"
    db.session.commit()
    assert _rows(db, "usuarios") == []  # only a secret and sign-in bookkeeping changed
    usuario.password_hash = "argon2-hash"
    usuario.nombre = "Ana María"
    db.session.commit()
    [row] = _rows(db, "usuarios")
    assert row.valores_anteriores == {"password": None, "nombre": "Ana"}
    assert row.valores_nuevos == {"password": "cambiada", "nombre": "Ana María"}
    assert "argon2-hash" not in str(row.valores_nuevos) and "cifrado" not in str(row.valores_nuevos)


def test_disabled_leaves_no_row(db):
    with audit.disabled():
        persistence.create(Servicio(nombre="Importado"))
    assert _rows(db, "servicios") == []


def test_requests_nobody_signed_in_to_are_not_audited(client, db, make_plan):
    plan = make_plan(nombre="Público")
    response = client.post("/public/suscripcion", json={
        "empresa": {"nit": "901222333-1", "nombre": "Nueva SAS"},
        "usuario": {"nombre": "Ana", "email": "ana@nueva.co", "password": "Clave#2024x"},
        "plan_id": plan.id, "periodo": "mensual"})
    assert response.status_code == 201, response.get_json()
    assert db.session.scalar(select(Usuario.id).where(Usuario.email == "ana@nueva.co"))
    assert db.session.scalars(select(Auditoria)).all() == []
