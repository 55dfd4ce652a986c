"""Hostile input on /admin/suscripciones: notes at the TEXT limit are kept whole, a start date
outside the supported range is 422 (nothing is written) and the last supported one is accepted."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error


@pytest.fixture
def plan(make_plan):
    return make_plan(servicios={"Facturas": 3})


def test_free_text_at_the_limit_is_kept(client, db, admin_headers, empresa, plan):
    text = "ñ" * 10_000
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "mensual", "notas": text})
    assert response.status_code == 201, response.get_json()
    assert db.session.get(Suscripcion, response.get_json()["id"]).notas == text


@pytest.mark.parametrize("fecha", ["9999-12-31", "3000-01-01", "1899-12-31"])
def test_fecha_inicio_out_of_range_is_422(client, db, admin_headers, empresa, plan, fecha):
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "anual", "fecha_inicio": fecha})
    body = assert_error(response, 422, "validacion")
    assert list(body["details"]) == ["fecha_inicio"]
    assert db.session.scalar(select(func.count()).select_from(Suscripcion)) == 0


def test_fecha_inicio_at_the_upper_limit_is_accepted(client, db, admin_headers, empresa, plan):
    response = client.post("/admin/suscripciones", headers=admin_headers, json={
        "empresa_id": empresa.id, "plan_id": plan.id, "periodo": "anual", "fecha_inicio": "2999-12-31"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["fecha_fin"] == "3000-12-30"
    row = db.session.get(Suscripcion, response.get_json()["id"])
    assert (row.fecha_inicio, row.fecha_fin) == (date(2999, 12, 31), date(3000, 12, 30))
