"""Hostile input on the licence API, the public calls and the API-key helpers (422/404/400,
never 500), the licence's notion of "today" (UTC, like every stored date) and the cache
following public sign-up and key revocation."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import assert_error

HUGE = 10**30
NIT = "900111222-3"


@pytest.fixture
def plan(make_plan):
    return make_plan(nombre="Pro", servicios={"Facturacion": 10})


@pytest.fixture
def licensed(make_empresa, make_suscripcion, plan):
    empresa = make_empresa(nit=NIT, nombre="ACME")
    make_suscripcion(empresa, plan)
    return empresa


# ---------------------------------------------------------------- nonce in the query string

@pytest.mark.parametrize("nonce", ["%20", "a%00b", "x" * 129, "%C3%B1"])
def test_bad_query_nonce_on_verificar_licencia_is_422(client, make_usuario, auth_headers, licensed,
                                                      nonce):
    usuario = make_usuario(empresa_id=licensed.id)
    response = client.post(f"/api/verificar-licencia?nonce={nonce}", headers=auth_headers(usuario))
    body = assert_error(response, 422, "validacion")
    assert "nonce" in body["details"]
    assert "X-Signature" not in response.headers


@pytest.mark.parametrize("nonce", ["%20", "x" * 129])
def test_bad_query_nonce_on_verificar_servicios_is_422(client, global_headers, licensed, nonce):
    response = client.post(f"/api/verificar-servicios-activos?nonce={nonce}", headers=global_headers,
                           json={"nit": NIT, "servicios": ["Facturacion"]})
    body = assert_error(response, 422, "validacion")
    assert "nonce" in body["details"]


def test_query_nonce_is_echoed_and_signed_on_both_post_calls(client, make_usuario, auth_headers,
                                                             global_headers, licensed,
                                                             verify_signature):
    usuario = make_usuario(empresa_id=licensed.id)
    first = client.post("/api/verificar-licencia?nonce=q-1", headers=auth_headers(usuario))
    second = client.post("/api/verificar-servicios-activos?nonce=q-2", headers=global_headers,
                         json={"nit": NIT, "servicios": ["Facturacion"]})
    for response, nonce in ((first, "q-1"), (second, "q-2")):
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["nonce"] == nonce
        verify_signature(response)


# ---------------------------------------------------------------- NIT and ids

@pytest.mark.parametrize("nit", ["١٢٣٤٥٦٧٨٩", "９００１１１２２２-３"])
def test_nit_with_non_ascii_digits_is_422(client, global_headers, licensed, nit):
    body = assert_error(client.get(f"/api/suscripcion-activa/{nit}", headers=global_headers),
                        422, "validacion")
    assert "nit" in body["details"]
    response = client.post("/api/verificar-servicios-activos", headers=global_headers,
                           json={"nit": nit, "servicios": ["Facturacion"]})
    assert "nit" in assert_error(response, 422, "validacion")["details"]


@pytest.mark.parametrize("ident", [HUGE, 2**63, 2**31])
def test_public_company_card_with_a_huge_id_is_404(client, ident):
    assert_error(client.get(f"/public/empresas/{ident}"), 404, "no_encontrado")


@pytest.mark.parametrize("plan_id", [HUGE, 2**31, 0, -1])
def test_signup_with_an_out_of_range_plan_id_is_422(client, db, plan, plan_id):
    from backend.empresas.models import Empresa

    response = client.post("/public/suscripcion", json={
        "empresa": {"nit": "901234567-8", "nombre": "Nueva"},
        "usuario": {"nombre": "Ana", "email": "ana@example.com", "password": "Segura#2024"},
        "plan_id": plan_id, "periodo": "mensual"})
    assert "plan_id" in assert_error(response, 422, "validacion")["details"]
    assert db.session.scalar(select(func.count()).select_from(Empresa)) == 0


@pytest.mark.parametrize("header", ["²", "¹²", "١٢", str(HUGE), str(2**31), "0", "-1", "1e3"])
def test_bad_x_empresa_id_is_400(app, header):
    from backend.core.errors import BadRequest
    from backend.empresas.api_key_auth import api_key_required, empresa_id_from_header

    view = api_key_required(empresa_id_from_header)
    with app.test_request_context(headers={"X-API-Key": "test-global-api-key",
                                           "X-Empresa-Id": header}), pytest.raises(BadRequest) as raised:
        view()
    assert raised.value.details == {"X-Empresa-Id": ["Debe ser un entero."]}


# ---------------------------------------------------------------- "today" is the UTC date

# 21:00 in Bogotá (UTC-5) on 15 January is 02:00 UTC on 16 January.
EVENING_IN_BOGOTA = datetime(2024, 1, 15, 21, 0, tzinfo=ZoneInfo("America/Bogota"))


def test_licence_uses_the_utc_date_not_the_server_local_date(client, global_headers, make_empresa,
                                                            make_suscripcion, plan):
    empresa = make_empresa(nit=NIT)
    # Staff activated it "today" in UTC: fecha_inicio is the UTC date.
    make_suscripcion(empresa, plan, fecha_inicio=date(2024, 1, 16), fecha_fin=date(2024, 2, 15))
    with time_machine.travel(EVENING_IN_BOGOTA, tick=False):
        assert date.today() == date(2024, 1, 15)  # the server's local date is the day before
        answer = client.get(f"/api/suscripcion-activa/{NIT}", headers=global_headers).get_json()
    assert answer["codigo"] == "VALIDA"
    assert answer["ts"] == "2024-01-16T02:00:00Z"


def test_public_signup_starts_on_the_utc_date(client, db, plan):
    with time_machine.travel(EVENING_IN_BOGOTA, tick=False):
        response = client.post("/public/suscripcion", json={
            "empresa": {"nit": "901234567-8", "nombre": "Nueva"},
            "usuario": {"nombre": "Ana", "email": "ana@example.com", "password": "Segura#2024"},
            "plan_id": plan.id, "periodo": "mensual"})
    assert response.status_code == 201, response.get_json()
    suscripcion = response.get_json()["suscripcion"]
    assert (suscripcion["fecha_inicio"], suscripcion["fecha_fin"]) == ("2024-01-16", "2024-02-15")


# ---------------------------------------------------------------- the cache follows the changes

def test_public_signup_replaces_a_cached_unknown_nit(app, client, global_headers, plan):
    assert app.config["LICENSE_CACHE_SECONDS"] > 0
    url = "/api/suscripcion-activa/901234567-8"
    assert client.get(url, headers=global_headers).status_code == 404  # now cached
    response = client.post("/public/suscripcion", json={
        "empresa": {"nit": "901234567-8", "nombre": "Nueva"},
        "usuario": {"nombre": "Ana", "email": "ana@example.com", "password": "Segura#2024"},
        "plan_id": plan.id, "periodo": "mensual"})
    assert response.status_code == 201
    answer = client.get(url, headers=global_headers)
    assert answer.status_code == 200
    assert answer.get_json()["codigo"] == "SIN_SUSCRIPCION"


def test_a_revoked_key_gets_no_cached_licence(app, client, admin_headers, licensed, company_key):
    assert app.config["LICENSE_CACHE_SECONDS"] > 0
    key = company_key(licensed)
    url = f"/api/suscripcion-activa/{NIT}"
    assert client.get(url, headers={"X-API-Key": key}).get_json()["codigo"] == "VALIDA"  # cached
    key_id = client.get(f"/admin/empresas/{licensed.id}/api-keys",
                        headers=admin_headers).get_json()["items"][0]["id"]
    assert client.delete(f"/admin/empresas/{licensed.id}/api-keys/{key_id}",
                         headers=admin_headers).status_code == 204
    response = client.get(url, headers={"X-API-Key": key})
    assert_error(response, 401, "no_autenticado")
    assert "X-Signature" not in response.headers


# ---------------------------------------------------------------- CLI

@pytest.mark.parametrize("ref", ["²", "١٢", str(HUGE)])
def test_cli_odd_company_refs_are_a_clean_error(runner, db, make_empresa, ref):
    from backend.empresas.models import ApiKey

    make_empresa()
    result = runner.invoke(args=["api-keys", "create", ref])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "no company" in result.output
    assert db.session.query(ApiKey).count() == 0


def test_cli_too_long_key_name_is_refused(runner, db, make_empresa):
    from backend.empresas.models import ApiKey

    empresa = make_empresa()
    result = runner.invoke(args=["api-keys", "create", str(empresa.id), "--nombre", "n" * 121])
    assert result.exit_code == 2 and "120" in result.output
    assert db.session.query(ApiKey).count() == 0
