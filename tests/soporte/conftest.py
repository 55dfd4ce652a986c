"""Support desk test data: support types, support subscriptions and tickets stored as they
would exist before the test (no audit rows), a company whose plan subscription is valid, and
headers for the internal API."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from backend.soporte.models import (
    EstadoSoporte,
    Modalidad,
    SoporteSuscripcion,
    SoporteTicket,
    SoporteTipo,
)
from tests.conftest import persist

GLOBAL_KEY = "test-global-api-key"


@pytest.fixture
def plan_vigente(make_plan):
    return make_plan(nombre="Plan soporte", servicios={"Facturas": 1})


@pytest.fixture
def suscripcion_vigente(empresa, plan_vigente, make_suscripcion):
    """The `empresa` fixture's valid plan subscription (activa, covering today)."""
    return make_suscripcion(empresa, plan_vigente, estado="activa")


@pytest.fixture
def make_tipo(db):
    counter = iter(range(1, 10_000))

    def factory(modalidad: Modalidad | str = Modalidad.POR_TICKETS, **values) -> SoporteTipo:
        n = next(counter)
        modalidad = Modalidad(str(modalidad))
        values.setdefault("nombre", f"Soporte {n}")
        values.setdefault("precio", Decimal("150.00"))
        if modalidad == Modalidad.POR_TICKETS:
            values.setdefault("max_tickets", 3)
        if modalidad == Modalidad.POR_HORAS:
            values.setdefault("max_horas", Decimal("10.00"))
        return persist(db, SoporteTipo(modalidad=modalidad, **values))

    return factory


@pytest.fixture
def make_soporte(db):
    """A support subscription of `suscripcion`'s company: `activo` from yesterday for a month
    unless told otherwise."""

    def factory(suscripcion, tipo: SoporteTipo, **values) -> SoporteSuscripcion:
        values.setdefault("fecha_inicio", date.today() - timedelta(days=1))
        values.setdefault("fecha_fin", date.today() + timedelta(days=29))
        values.setdefault("estado", EstadoSoporte.ACTIVO)
        values.setdefault("precio_actual", tipo.precio)
        values.setdefault("tickets_consumidos", 0)
        values.setdefault("horas_consumidas", Decimal("0.00"))
        return persist(db, SoporteSuscripcion(empresa_id=suscripcion.empresa_id,
                                              suscripcion_id=suscripcion.id,
                                              soporte_tipo_id=tipo.id, **values))

    return factory


@pytest.fixture
def soporte_activo(suscripcion_vigente, make_tipo, make_soporte):
    """The `empresa` fixture with a `por_tickets` support subscription of 3 tickets, none spent."""
    return make_soporte(suscripcion_vigente, make_tipo(Modalidad.POR_TICKETS, max_tickets=3))


@pytest.fixture
def make_ticket(db):
    """A ticket stored directly (no quota spent, no email): for tests about what follows."""

    def factory(empresa, soporte: SoporteSuscripcion | None = None, **values) -> SoporteTicket:
        values.setdefault("titulo", "No puedo facturar")
        values.setdefault("descripcion", "El botón de facturar no responde.")
        return persist(db, SoporteTicket(
            empresa_id=empresa.id, soporte_suscripcion_id=soporte.id if soporte else None,
            **values))

    return factory


@pytest.fixture
def internal_headers(empresa):
    """X-API-Key (the global key) and X-Empresa-Id of the `empresa` fixture."""
    return {"X-API-Key": GLOBAL_KEY, "X-Empresa-Id": str(empresa.id)}
