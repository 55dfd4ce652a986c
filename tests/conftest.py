"""Shared fixtures: one app per session (SQLite in memory, or MariaDB when DATABASE_URL
says so), tables emptied after every test and licence/location caches cleared before it, data
factories, helpers to sign in, a customer user with a company, audit lookups, a SQL-statement
counter and per-company API keys."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from backend import create_app
from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.config import TestingConfig
from backend.core import audit
from backend.core.audit import Auditoria
from backend.empresas.models import Empresa
from backend.extensions import db as _db
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


def empty_tables() -> None:
    """Delete every row of every table (the session's work rolled back first)."""
    _db.session.rollback()
    _db.session.remove()
    with _db.engine.begin() as conn:
        if conn.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())
        if conn.dialect.name == "mysql":
            conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Each test starts with empty tables and an empty outbox."""
    ctx = app.app_context()
    ctx.push()
    yield
    empty_tables()
    from backend.extensions import limiter

    limiter.reset()
    ctx.pop()


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Licence answers cached by an earlier test (whose rows were deleted outside the ORM)
    must not leak into this one."""
    from backend.licencia import services as licencia
    from backend.location import services as location

    licencia.invalidate_cache()
    location.clear_cache()
    yield


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


@pytest.fixture
def empresa(make_empresa):
    return make_empresa(nombre="Acme SAS", nit="900123456-7")


@pytest.fixture
def cliente(make_usuario, empresa):
    return make_usuario(rol=Rol.CLIENTE, empresa_id=empresa.id, email="cliente@acme.com",
                        nombre="Cliente Acme")


@pytest.fixture
def cliente_headers(cliente, auth_headers):
    return auth_headers(cliente)


@pytest.fixture
def company_key(db):
    """`company_key(empresa)` → the full key of a new per-company API key."""
    from backend.empresas.api_keys import create_key

    def issue(empresa, nombre: str | None = None) -> str:
        _row, key = create_key(empresa.id, nombre)
        return key

    return issue


# ---------------------------------------------------------------- audit and SQL helpers

@pytest.fixture
def audit_rows(db):
    """The audit rows of one table (and record id), oldest first."""

    def rows(tabla: str, registro_id=None) -> list[Auditoria]:
        stmt = select(Auditoria).where(Auditoria.tabla == tabla).order_by(Auditoria.id)
        if registro_id is not None:
            stmt = stmt.where(Auditoria.registro_id == str(registro_id))
        db.session.expire_all()
        return list(db.session.scalars(stmt))

    return rows


@pytest.fixture
def count_queries(db):
    """Count the SQL statements run inside a `with count_queries() as counter:` block."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counting():
        counter = {"n": 0}

        def bump(*_args, **_kwargs):
            counter["n"] += 1

        event.listen(db.engine, "before_cursor_execute", bump)
        try:
            yield counter
        finally:
            event.remove(db.engine, "before_cursor_execute", bump)

    return counting


# ---------------------------------------------------------------- response checks

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
