"""Shared fixtures: one app per session (SQLite in memory, or MariaDB when DATABASE_URL
says so), tables emptied after every test, and helpers to sign in."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from backend import create_app
from backend.config import TestingConfig
from backend.core import audit
from backend.extensions import db as _db
from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.empresas.models import Empresa
from backend.identity.models import Rol, Usuario
from backend.suscripciones.models import Suscripcion

PASSWORD = "Secreta#123"


def make_config(**overrides) -> TestingConfig:
    """A TestingConfig with some settings changed (e.g. a temp UPLOAD_FOLDER)."""
    config = TestingConfig()
    for key, value in overrides.items():
        setattr(config, key, value)
    return config.finalize()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("app")
    app = create_app(make_config(
        UPLOAD_FOLDER=str(base / "uploads"),
        MAIL_OUTBOX_DIR=str(base / "outbox"),
        LOCATION_DB_PATH=str(base / "location.sqlite3"),
        LICENSE_SIGNING_KEY_PATH=str(base / "license.pem"),
    ))
    with app.app_context():
        if _db.engine.dialect.name == "mysql":
            # A clean slate on the throwaway CI database.
            _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Each test starts with empty tables and an empty outbox."""
    ctx = app.app_context()
    ctx.push()
    yield
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as conn:
        if conn.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    from backend.extensions import limiter

    limiter.reset()
    ctx.pop()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- data helpers

def persist(db, instance):
    """Store test data that stands for what existed before the test: no audit row."""
    with audit.disabled():
        db.session.add(instance)
        db.session.commit()
    return instance


@pytest.fixture
def make_empresa(db):
    counter = iter(range(1, 10_000))

    def factory(**values) -> Empresa:
        n = next(counter)
        values.setdefault("nit", f"90000{n:04d}-{n % 10}")
        values.setdefault("nombre", f"Empresa {n}")
        return persist(db, Empresa(**values))

    return factory


@pytest.fixture
def make_usuario(db):
    counter = iter(range(1, 10_000))

    def factory(rol: Rol | str = Rol.CLIENTE, password: str = PASSWORD, **values) -> Usuario:
        from backend.identity.services.passwords import hash_password

        n = next(counter)
        values.setdefault("nombre", f"Usuario {n}")
        values.setdefault("email", f"usuario{n}@example.com")
        values.setdefault("is_active", True)
        values.setdefault("email_verificado", True)
        return persist(db, Usuario(rol=Rol(str(rol)), password_hash=hash_password(password),
                                   **values))

    return factory


@pytest.fixture
def make_plan(db):
    counter = iter(range(1, 10_000))

    def factory(servicios: dict[str, int] | None = None, **values) -> Plan:
        n = next(counter)
        values.setdefault("nombre", f"Plan {n}")
        values.setdefault("precio_mensual", Decimal("100.00"))
        values.setdefault("precio_anual", Decimal("1000.00"))
        with audit.disabled():
            plan = Plan(**values)
            db.session.add(plan)
            db.session.flush()
            for nombre, cantidad in (servicios or {}).items():
                servicio = db.session.query(Servicio).filter_by(nombre=nombre).one_or_none()
                if servicio is None:
                    servicio = Servicio(nombre=nombre, url_api=f"/api/{nombre.lower()}")
                    db.session.add(servicio)
                    db.session.flush()
                db.session.add(PlanServicio(plan_id=plan.id, servicio_id=servicio.id,
                                            cantidad=cantidad))
            db.session.commit()
        return plan

    return factory


@pytest.fixture
def make_suscripcion(db):
    def factory(empresa: Empresa, plan: Plan, **values) -> Suscripcion:
        values.setdefault("periodo", "mensual")
        values.setdefault("fecha_inicio", date.today() - timedelta(days=1))
        values.setdefault("fecha_fin", date.today() + timedelta(days=29))
        values.setdefault("estado", "activa")
        values.setdefault("precio_pagado", plan.precio_mensual)
        return persist(db, Suscripcion(empresa_id=empresa.id, plan_id=plan.id, **values))

    return factory


# ---------------------------------------------------------------- auth helpers

@pytest.fixture
def token_for(app, db):
    """An access token for a user, through a real server-side session."""
    from backend.identity.services.sessions import start_session

    def issue(usuario: Usuario) -> str:
        with app.test_request_context():
            pair = start_session(usuario)
            db.session.commit()
        return pair["access_token"]

    return issue


@pytest.fixture
def auth_headers(token_for):
    def headers(usuario: Usuario) -> dict:
        return {"Authorization": f"Bearer {token_for(usuario)}"}

    return headers


@pytest.fixture
def admin(make_usuario):
    return make_usuario(rol=Rol.ADMIN, nombre="Admin", email="admin@test.com")


@pytest.fixture
def admin_headers(admin, auth_headers):
    return auth_headers(admin)


@pytest.fixture
def soporte_user(make_usuario):
    return make_usuario(rol=Rol.SOPORTE, nombre="Soporte", email="soporte@test.com")


@pytest.fixture
def soporte_headers(soporte_user, auth_headers):
    return auth_headers(soporte_user)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """Assert the contract envelope with `status` (and `code`); return the body."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None and set(body) <= {"error", "message", "details"}, body
    assert isinstance(body["message"], str) and body["message"]
    if code is not None:
        assert body["error"] == code, body
    return body


def assert_throttled(response) -> dict:
    """Assert a 429 envelope carrying a positive `Retry-After`; return the body."""
    body = assert_error(response, 429, "demasiadas_solicitudes")
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and int(retry_after) > 0, dict(response.headers)
    return body
