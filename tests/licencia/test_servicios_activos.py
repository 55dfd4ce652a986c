"""POST /api/verificar-servicios-activos."""
from __future__ import annotations

import pytest

from tests.conftest import assert_error

URL = "/api/verificar-servicios-activos"


@pytest.fixture
def empresa(make_empresa, make_plan, make_suscripcion):
    empresa = make_empresa(nit="900111222-3")
    plan = make_plan(servicios={"Facturacion": 100, "Inventario": 1})
    make_suscripcion(empresa, plan)
    make_plan(servicios={"Nomina": 3})  # on sale, but not in this company's plan
    return empresa


def test_services_of_the_active_plan(client, empresa, global_headers, verify_signature):
    response = client.post(URL, json={"nit": "900111222-3", "nonce": "n1",
                                      "servicios": ["Facturacion", "inventario", "Nomina"]},
                           headers=global_headers)
    assert response.status_code == 200
    verify_signature(response)
    body = response.get_json()
    assert body["nit"] == "900111222-3" and body["codigo"] == "VALIDA" and body["nonce"] == "n1"
    assert body["servicios"] == {
        "Facturacion": {"activo": True, "cantidad": 100},
        "inventario": {"activo": True, "cantidad": 1},
        "Nomina": {"activo": False, "cantidad": 0},
    }
    assert body["ts"].endswith("Z")


def test_nothing_active_without_a_valid_licence(client, db, empresa, global_headers):
    from backend.suscripciones.models import Suscripcion

    db.session.query(Suscripcion).one().estado = "suspendida"
    db.session.commit()
    body = client.post(URL, json={"nit": "900111222-3", "servicios": ["Facturacion"]},
                       headers=global_headers).get_json()
    assert body["codigo"] == "SUSPENDIDA"
    assert body["servicios"] == {"Facturacion": {"activo": False, "cantidad": 0}}


def test_unknown_nit_is_signed_404(client, global_headers, verify_signature):
    response = client.post(URL, json={"nit": "123456789", "servicios": ["X"]}, headers=global_headers)
    assert response.status_code == 404
    verify_signature(response)
    body = response.get_json()
    assert body["codigo"] == "EMPRESA_NO_ENCONTRADA" and body["error"] == "no_encontrado"
    assert body["servicios"] == {"X": {"activo": False, "cantidad": 0}}


def test_company_key(client, empresa, make_empresa, company_key):
    headers = {"X-API-Key": company_key(empresa)}
    ok = client.post(URL, json={"nit": "900111222-3", "servicios": ["Inventario"]}, headers=headers)
    assert ok.status_code == 200 and ok.get_json()["servicios"]["Inventario"]["activo"] is True
    make_empresa(nit="800999888-1")
    assert_error(client.post(URL, json={"nit": "800999888-1", "servicios": ["Inventario"]},
                             headers=headers), 403, "prohibido")


def test_refusals(client, empresa, global_headers):
    payload = {"nit": "900111222-3", "servicios": ["Inventario"]}
    assert_error(client.post(URL, json=payload), 401, "no_autenticado")
    assert_error(client.post(URL, json=payload, headers={"X-API-Key": "x"}), 401, "no_autenticado")
    assert_error(client.post(URL, data="{", content_type="application/json", headers=global_headers),
                 400, "solicitud_invalida")
    assert_error(client.post(URL, data="nit=1", content_type="application/x-www-form-urlencoded",
                             headers=global_headers), 415, "tipo_no_soportado")
    for bad, field in [({"servicios": ["A"]}, "nit"), ({"nit": "900111222-3"}, "servicios"),
                       ({"nit": "900111222-3", "servicios": []}, "servicios"),
                       ({"nit": "x", "servicios": ["A"]}, "nit"),
                       ({**payload, "extra": 1}, "extra")]:
        body = assert_error(client.post(URL, json=bad, headers=global_headers), 422, "validacion")
        assert field in body["details"], bad
