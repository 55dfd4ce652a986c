"""/admin/auditoria: rows written by admin changes, filters and pages, no secrets."""
from __future__ import annotations

from tests.conftest import assert_error


def test_lists_rows_newest_first_with_filters(client, admin, admin_headers, make_usuario,
                                              auth_headers, empresa):
    otro_admin = make_usuario(rol="admin", email="otro@staff.com")
    client.put(f"/admin/empresas/{empresa.id}", json={"nombre": "Uno"}, headers=admin_headers)
    client.put(f"/admin/empresas/{empresa.id}", json={"nombre": "Dos"},
               headers=auth_headers(otro_admin))
    created = client.post("/admin/servicios", json={"nombre": "Facturas"}, headers=admin_headers)
    servicio_id = created.get_json()["id"]

    body = client.get("/admin/auditoria", headers=admin_headers).get_json()
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 20
    newest = body["items"][0]
    assert set(newest) == {"id", "tabla", "registro_id", "accion", "valores_anteriores",
                           "valores_nuevos", "usuario_id", "ip", "created_at"}
    assert (newest["tabla"], newest["registro_id"], newest["accion"]) == (
        "servicios", str(servicio_id), "crear")
    assert newest["ip"] == "127.0.0.1" and newest["created_at"].endswith("Z")

    empresas = client.get(f"/admin/auditoria?tabla=empresas&registro_id={empresa.id}",
                          headers=admin_headers).get_json()
    assert [(r["valores_anteriores"], r["valores_nuevos"]) for r in empresas["items"]] == [
        ({"nombre": "Uno"}, {"nombre": "Dos"}), ({"nombre": "Acme SAS"}, {"nombre": "Uno"})]
    mine = client.get(f"/admin/auditoria?usuario_id={otro_admin.id}", headers=admin_headers).get_json()
    assert [r["valores_nuevos"] for r in mine["items"]] == [{"nombre": "Dos"}]
    page = client.get("/admin/auditoria?per_page=1&page=3", headers=admin_headers).get_json()
    assert page["total"] == 3 and page["items"][0]["valores_nuevos"] == {"nombre": "Uno"}


def test_user_rows_carry_no_secret(client, admin_headers):
    created = client.post("/admin/usuarios", json={"nombre": "N", "email": "n@x.com",
                                                   "password": "Clave#2024x"}, headers=admin_headers)
    uid = created.get_json()["id"]
    client.post(f"/admin/usuarios/{uid}/cambiar-password", json={"password": "Otra#Clave99"},
                headers=admin_headers)
    body = client.get(f"/admin/auditoria?tabla=usuarios&registro_id={uid}",
                      headers=admin_headers).get_json()
    assert body["total"] == 2
    text = str(body)
    for secret in ("password_hash", "argon2", "Clave#2024x", "Otra#Clave99", "otp_secret"):
        assert secret not in text


def test_bad_filters(client, admin_headers):
    body = assert_error(client.get("/admin/auditoria?usuario_id=abc", headers=admin_headers),
                        422, "validacion")
    assert "usuario_id" in body["details"]
    body = assert_error(client.get("/admin/auditoria?page=0", headers=admin_headers),
                        422, "validacion")
    assert "page" in body["details"]
