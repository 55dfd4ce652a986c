"""Every licence answer, 404 included, names the NIT it answers for (CONTRACT.md), so a signed
answer cannot be replayed for another NIT."""
from __future__ import annotations

import time_machine

SERVICIOS = "/api/verificar-servicios-activos"


def test_suscripcion_activa_names_the_nit_asked_about(client, make_empresa, global_headers,
                                                      verify_signature):
    make_empresa(nit="900111222-3")
    found = client.get("/api/suscripcion-activa/900.111.222-3", headers=global_headers)
    assert found.status_code == 200 and found.get_json()["nit"] == "900111222-3"
    verify_signature(found)

    missing = client.get("/api/suscripcion-activa/123.456.789", headers=global_headers)
    assert missing.status_code == 404
    verify_signature(missing)
    body = missing.get_json()
    assert body["nit"] == "123456789" and body["codigo"] == "EMPRESA_NO_ENCONTRADA"


def test_a_signed_404_cannot_stand_for_another_nit(client, global_headers):
    """Same time, same nonce, two unknown NITs: the signed bodies differ (they name their NIT)."""
    with time_machine.travel("2030-01-02T03:04:05Z", tick=False):
        first = client.get("/api/suscripcion-activa/111111111?nonce=n1", headers=global_headers)
        second = client.get("/api/suscripcion-activa/222222222?nonce=n1", headers=global_headers)
    assert first.status_code == second.status_code == 404
    assert first.data != second.data
    assert first.headers["X-Signature"] != second.headers["X-Signature"]
    assert first.get_json()["nit"] == "111111111" and second.get_json()["nit"] == "222222222"


def test_verificar_licencia_names_the_callers_company(client, make_empresa, make_usuario,
                                                      auth_headers, admin_headers, verify_signature):
    empresa = make_empresa(nit="900111222-3")
    usuario = make_usuario(empresa_id=empresa.id)
    response = client.post("/api/verificar-licencia", headers=auth_headers(usuario))
    verify_signature(response)
    assert response.get_json()["nit"] == "900111222-3"

    # A user without a company: 404, and the NIT is null (still present).
    none = client.post("/api/verificar-licencia", headers=admin_headers)
    assert none.status_code == 404
    verify_signature(none)
    body = none.get_json()
    assert "nit" in body and body["nit"] is None


def test_verificar_servicios_names_the_nit_in_a_404_too(client, global_headers, verify_signature):
    response = client.post(SERVICIOS, json={"nit": "123.456.789", "servicios": ["X"]},
                           headers=global_headers)
    assert response.status_code == 404
    verify_signature(response)
    assert response.get_json()["nit"] == "123456789"


def test_openapi_documents_nit_and_the_published_keys(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    licencia = schemas["Licencia"]["properties"]
    assert licencia["nit"]["nullable"] is True and "nit" in schemas["ServiciosActivos"]["properties"]
    keys = schemas["PublicKey"]["properties"]["keys"]
    assert keys["type"] == "array" and keys["items"]["$ref"].endswith("/PublishedKey")
    assert set(schemas["PublishedKey"]["properties"]) == {"kid", "public_key_pem", "actual"}
