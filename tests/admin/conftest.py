"""Fixtures for the admin-area tests: a customer user with a company, and audit lookups."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.core.audit import Auditoria

from backend.identity.models import Rol


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
