"""Changes made through /admin show at once in the licence answer (whose cache is on)."""
from __future__ import annotations


def _licencia(client, nit) -> dict:
    response = client.get(f"/api/suscripcion-activa/{nit}",
                          headers={"X-API-Key": "test-global-api-key"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_admin_changes_reach_the_licence(client, app, admin_headers, empresa, make_plan, db):
    assert app.config["LICENSE_CACHE_SECONDS"] > 0
    plan = make_plan(servicios={"Facturas": 10})
    servicio_id = plan.plan_servicios[0].servicio_id
    assert _licencia(client, empresa.nit)["codigo"] == "SIN_SUSCRIPCION"

    created = client.post("/admin/suscripciones", headers=admin_headers,
                          json={"empresa_id": empresa.id, "plan_id": plan.id, "periodo": "mensual"})
    sid = created.get_json()["id"]
    answer = _licencia(client, empresa.nit)
    assert answer["codigo"] == "VALIDA"
    assert [(s["nombre"], s["cantidad"]) for s in answer["servicios"]] == [("Facturas", 10)]

    client.put(f"/admin/planes/{plan.id}/servicios/{servicio_id}", json={"cantidad": 25},
               headers=admin_headers)
    assert _licencia(client, empresa.nit)["servicios"][0]["cantidad"] == 25

    client.post(f"/admin/suscripciones/{sid}/suspender", headers=admin_headers)
    assert _licencia(client, empresa.nit)["codigo"] == "SUSPENDIDA"
    client.post(f"/admin/suscripciones/{sid}/reactivar", headers=admin_headers)
    assert _licencia(client, empresa.nit)["codigo"] == "VALIDA"

    client.delete(f"/admin/empresas/{empresa.id}", headers=admin_headers)
    assert _licencia(client, empresa.nit)["codigo"] == "EMPRESA_INACTIVA"
    client.post(f"/admin/empresas/{empresa.id}/activar", headers=admin_headers)
    assert _licencia(client, empresa.nit)["codigo"] == "VALIDA"

    client.post(f"/admin/suscripciones/{sid}/cancelar", json={"motivo_cancelacion": "fin"},
                headers=admin_headers)
    assert _licencia(client, empresa.nit)["codigo"] == "CANCELADA"
