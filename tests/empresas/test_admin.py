"""/admin/empresas: list with filters and pages, read, create, update, soft delete, activate."""
from __future__ import annotations

import pytest

from backend.empresas.models import Empresa, EstadoEmpresa
from tests.conftest import assert_error

NUEVA = {"nit": "800.111.222-3", "nombre": " Beta Ltda ", "contacto": "Ana", "email": "Ana@Beta.co",
         "telefono": "3001234567", "pais": "co", "ciudad": "Bogotá"}


def test_create_normalises_and_audits(client, admin, admin_headers, db, audit_rows):
    response = client.post("/admin/empresas", json=NUEVA, headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body == {
        "id": body["id"], "nit": "800111222-3", "nombre": "Beta Ltda", "contacto": "Ana",
        "email": "ana@beta.co", "telefono": "+573001234567", "direccion": None,
        "ciudad": "Bogotá", "pais": "CO", "estado": "activa", "created_at": body["created_at"],
    }
    assert body["created_at"].endswith("Z")
    empresa = db.session.get(Empresa, body["id"])
    assert empresa.nit == "800111222-3" and empresa.estado == EstadoEmpresa.ACTIVA
    [row] = audit_rows("empresas", empresa.id)
    assert row.accion == "crear" and row.usuario_id == admin.id
    assert row.valores_anteriores is None
    assert row.valores_nuevos["nit"] == "800111222-3" and row.valores_nuevos["estado"] == "activa"


def test_create_duplicate_nit_is_409(client, admin_headers, empresa):
    response = client.post("/admin/empresas", json={"nit": empresa.nit, "nombre": "Otra"},
                           headers=admin_headers)
    body = assert_error(response, 409, "nit_en_uso")
    assert body["details"] == {"nit": ["Ya está registrado."]}


@pytest.mark.parametrize(("payload", "field"), [
    ({"nombre": "Sin NIT"}, "nit"),
    ({"nit": "12ab", "nombre": "X"}, "nit"),
    ({"nit": "900555444", "nombre": "   "}, "nombre"),
    ({"nit": "900555444", "nombre": "X", "telefono": "123"}, "telefono"),
    ({"nit": "900555444", "nombre": "X", "pais": "Colombia"}, "pais"),
    ({"nit": "900555444", "nombre": "X", "estado": "borrada"}, "estado"),
    ({"nit": "900555444", "nombre": "X", "id": 5}, "id"),
    ({"nit": "900555444", "nombre": "X", "inventado": 1}, "inventado"),
])
def test_create_invalid_is_422_naming_the_field(client, admin_headers, db, payload, field):
    body = assert_error(client.post("/admin/empresas", json=payload, headers=admin_headers),
                        422, "validacion")
    assert field in body["details"]
    assert db.session.query(Empresa).count() == 0


def test_malformed_and_non_json_bodies(client, admin_headers):
    bad = client.post("/admin/empresas", data="{nit:", content_type="application/json",
                      headers=admin_headers)
    assert_error(bad, 400, "solicitud_invalida")
    form = client.post("/admin/empresas", data={"nit": "900555444"}, headers=admin_headers)
    assert_error(form, 415, "tipo_no_soportado")


def test_get_one_and_unknown(client, admin_headers, empresa):
    response = client.get(f"/admin/empresas/{empresa.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["nit"] == "900123456-7"
    assert_error(client.get("/admin/empresas/9999", headers=admin_headers), 404, "no_encontrado")


def test_list_filters_and_pages(client, admin_headers, make_empresa):
    make_empresa(nit="900000001", nombre="Alfa Uno")
    make_empresa(nit="900000002", nombre="Beta Dos", estado=EstadoEmpresa.INACTIVA)
    make_empresa(nit="811111111", nombre="Gamma Alfa")

    def names(query):
        response = client.get(f"/admin/empresas{query}", headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert [e["nombre"] for e in names("?q=alfa")["items"]] == ["Alfa Uno", "Gamma Alfa"]
    assert [e["nombre"] for e in names("?q=8111")["items"]] == ["Gamma Alfa"]
    assert [e["nombre"] for e in names("?estado=inactiva")["items"]] == ["Beta Dos"]
    page = names("?per_page=2&page=2")
    assert page == {"items": [page["items"][0]], "total": 3, "page": 2, "per_page": 2}
    assert page["items"][0]["nombre"] == "Gamma Alfa"
    assert names("")["per_page"] == 20
    bad = client.get("/admin/empresas?per_page=101", headers=admin_headers)
    assert "per_page" in assert_error(bad, 422, "validacion")["details"]
    bad = client.get("/admin/empresas?estado=borrada", headers=admin_headers)
    assert "estado" in assert_error(bad, 422, "validacion")["details"]


def test_update_partial_and_audit(client, admin_headers, empresa, db, audit_rows):
    response = client.put(f"/admin/empresas/{empresa.id}", json={"nombre": "Acme Global"},
                          headers=admin_headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["nombre"] == "Acme Global" and body["nit"] == "900123456-7"
    db.session.expire_all()
    row = db.session.get(Empresa, empresa.id)
    assert (row.nombre, row.nit) == ("Acme Global", "900123456-7")
    [row] = audit_rows("empresas", empresa.id)
    assert row.accion == "actualizar"
    assert row.valores_anteriores == {"nombre": "Acme SAS"}
    assert row.valores_nuevos == {"nombre": "Acme Global"}


def test_update_to_a_taken_nit_is_409_and_own_nit_is_fine(client, admin_headers, empresa,
                                                          make_empresa, db):
    otra = make_empresa(nit="811222333")
    assert_error(client.put(f"/admin/empresas/{otra.id}", json={"nit": empresa.nit},
                            headers=admin_headers), 409, "nit_en_uso")
    assert db.session.get(Empresa, otra.id).nit == "811222333"
    same = client.put(f"/admin/empresas/{empresa.id}", json={"nit": empresa.nit},
                      headers=admin_headers)
    assert same.status_code == 200
    assert same.get_json()["id"] == empresa.id and same.get_json()["nit"] == "900123456-7"


def test_update_unknown_and_invalid(client, admin_headers, empresa, db, audit_rows):
    assert_error(client.put("/admin/empresas/9999", json={"nombre": "X"}, headers=admin_headers),
                 404, "no_encontrado")
    body = assert_error(client.put(f"/admin/empresas/{empresa.id}", json={"email": "no"},
                                   headers=admin_headers), 422, "validacion")
    assert "email" in body["details"]
    db.session.expire_all()
    assert [(e.nombre, e.email) for e in db.session.query(Empresa)] == [("Acme SAS", None)]
    assert audit_rows("empresas") == []


def test_delete_is_soft_and_activate_restores(client, admin_headers, empresa, db, audit_rows):
    response = client.delete(f"/admin/empresas/{empresa.id}", headers=admin_headers)
    assert response.status_code == 200
    assert response.get_json()["estado"] == "inactiva"
    db.session.expire_all()
    assert db.session.get(Empresa, empresa.id).estado == EstadoEmpresa.INACTIVA
    [row] = audit_rows("empresas", empresa.id)
    assert row.accion == "eliminar"
    assert row.valores_anteriores["estado"] == "activa"
    assert row.valores_nuevos["estado"] == "inactiva"
    assert row.valores_nuevos["nit"] == empresa.nit

    again = client.delete(f"/admin/empresas/{empresa.id}", headers=admin_headers)
    assert again.status_code == 200 and len(audit_rows("empresas", empresa.id)) == 1

    response = client.post(f"/admin/empresas/{empresa.id}/activar", headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["estado"] == "activa"
    rows = audit_rows("empresas", empresa.id)
    assert rows[-1].accion == "actualizar"
    assert (rows[-1].valores_anteriores, rows[-1].valores_nuevos) == (
        {"estado": "inactiva"}, {"estado": "activa"})


def test_delete_and_activate_unknown(client, admin_headers):
    assert_error(client.delete("/admin/empresas/9999", headers=admin_headers), 404, "no_encontrado")
    assert_error(client.post("/admin/empresas/9999/activar", headers=admin_headers),
                 404, "no_encontrado")
