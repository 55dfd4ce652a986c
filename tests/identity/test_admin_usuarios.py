"""/admin/usuarios: list with filters, read, create, update, password, toggle, delete; sessions
end on deactivation and password change; an admin cannot lock themselves out."""
from __future__ import annotations

from sqlalchemy import select

from backend.identity.models import Rol, SesionAuth, Usuario
from backend.identity.services.passwords import verify_password
from tests.conftest import PASSWORD, assert_error

NUEVO = {"nombre": "Nuevo Usuario", "email": "Nuevo@Acme.com", "password": "Clave#2024x",
         "rol": "cliente", "telefono": "+573001112233"}


def _sessions_open(db, usuario_id) -> int:
    db.session.expire_all()
    return len(db.session.scalars(select(SesionAuth).where(
        SesionAuth.usuario_id == usuario_id, SesionAuth.revoked_at.is_(None))).all())


def test_create_active_user_without_activation(client, admin, admin_headers, empresa, db,
                                               audit_rows):
    response = client.post("/admin/usuarios", json={**NUEVO, "empresa_id": empresa.id},
                           headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"id", "nombre", "email", "rol", "empresa_id", "is_active", "otp_enabled",
                         "telefono", "direccion", "ciudad", "pais", "fecha_nacimiento",
                         "email_verificado", "created_at"}
    assert (body["email"], body["rol"], body["empresa_id"], body["is_active"]) == (
        "nuevo@acme.com", "cliente", empresa.id, True)
    usuario = db.session.get(Usuario, body["id"])
    assert usuario.pendiente_activacion is False and usuario.is_active is True
    assert verify_password(usuario.password_hash, "Clave#2024x")
    [row] = audit_rows("usuarios", usuario.id)
    assert row.accion == "crear" and row.usuario_id == admin.id
    assert row.valores_nuevos["email"] == "nuevo@acme.com"
    assert "password_hash" not in row.valores_nuevos
    assert "Clave#2024x" not in str(row.valores_nuevos)


def test_create_refusals(client, admin_headers, cliente, db):
    dup = client.post("/admin/usuarios", json={**NUEVO, "email": "CLIENTE@acme.com"},
                      headers=admin_headers)
    assert_error(dup, 409, "email_en_uso")
    weak = client.post("/admin/usuarios", json={**NUEVO, "password": "corta"}, headers=admin_headers)
    assert "password" in assert_error(weak, 422, "password_debil")["details"]
    no_company = client.post("/admin/usuarios", json={**NUEVO, "empresa_id": 9999},
                             headers=admin_headers)
    assert "empresa_id" in assert_error(no_company, 422, "validacion")["details"]
    for payload, field in (({k: v for k, v in NUEVO.items() if k != "email"}, "email"),
                           ({**NUEVO, "rol": "root"}, "rol"),
                           ({**NUEVO, "password_hash": "x"}, "password_hash")):
        body = assert_error(client.post("/admin/usuarios", json=payload, headers=admin_headers),
                            422, "validacion")
        assert field in body["details"]
    assert db.session.query(Usuario).filter_by(email="nuevo@acme.com").count() == 0


def test_list_filters_and_pages(client, admin, admin_headers, make_usuario, empresa):
    make_usuario(nombre="Carla Ruiz", email="carla@acme.com", empresa_id=empresa.id)
    make_usuario(nombre="Diego", email="diego@otra.com", is_active=False)
    make_usuario(rol=Rol.SOPORTE, nombre="Sara Soporte", email="sara@staff.com")

    def get(query):
        response = client.get(f"/admin/usuarios{query}", headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    assert [u["email"] for u in get("?q=ACME")["items"]] == ["carla@acme.com"]
    assert [u["email"] for u in get("?q=ruiz")["items"]] == ["carla@acme.com"]
    assert [u["email"] for u in get("?rol=soporte")["items"]] == ["sara@staff.com"]
    assert [u["email"] for u in get(f"?empresa_id={empresa.id}")["items"]] == ["carla@acme.com"]
    assert [u["email"] for u in get("?is_active=false")["items"]] == ["diego@otra.com"]
    page = get("?page=2&per_page=3")
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (4, 2, 3, 1)
    assert_error(client.get("/admin/usuarios?rol=root", headers=admin_headers), 422, "validacion")


def test_get_one_and_unknown(client, admin_headers, cliente):
    body = client.get(f"/admin/usuarios/{cliente.id}", headers=admin_headers).get_json()
    assert body["email"] == "cliente@acme.com" and "password_hash" not in body
    assert_error(client.get("/admin/usuarios/9999", headers=admin_headers), 404, "no_encontrado")


def test_update_audits_old_and_new(client, admin_headers, cliente, db, audit_rows):
    response = client.put(f"/admin/usuarios/{cliente.id}", json={"nombre": "Cliente Uno",
                                                                 "rol": "soporte"},
                          headers=admin_headers)
    assert response.status_code == 200
    assert (response.get_json()["nombre"], response.get_json()["rol"]) == ("Cliente Uno", "soporte")
    db.session.expire_all()
    usuario = db.session.get(Usuario, cliente.id)
    assert (usuario.nombre, usuario.rol) == ("Cliente Uno", Rol.SOPORTE)
    [row] = audit_rows("usuarios", cliente.id)
    assert row.valores_anteriores == {"nombre": "Cliente Acme", "rol": "cliente"}
    assert row.valores_nuevos == {"nombre": "Cliente Uno", "rol": "soporte"}


def test_update_refusals(client, admin_headers, cliente, make_usuario, db, audit_rows):
    old_hash = cliente.password_hash
    make_usuario(email="otro@acme.com")
    assert_error(client.put(f"/admin/usuarios/{cliente.id}", json={"email": "OTRO@acme.com"},
                            headers=admin_headers), 409, "email_en_uso")
    body = assert_error(client.put(f"/admin/usuarios/{cliente.id}", json={"password": "X#1aaaaa"},
                                   headers=admin_headers), 422, "validacion")
    assert "password" in body["details"]
    assert_error(client.put("/admin/usuarios/9999", json={"nombre": "X"}, headers=admin_headers),
                 404, "no_encontrado")
    db.session.expire_all()
    usuario = db.session.get(Usuario, cliente.id)
    assert (usuario.email, usuario.password_hash) == ("cliente@acme.com", old_hash)
    assert db.session.query(Usuario).filter_by(nombre="X").count() == 0
    assert audit_rows("usuarios") == []


def test_deactivating_through_update_ends_sessions(client, admin_headers, cliente, cliente_headers,
                                                   db):
    assert client.get("/account/subscriptions", headers=cliente_headers).status_code == 200
    response = client.put(f"/admin/usuarios/{cliente.id}", json={"is_active": False},
                          headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert _sessions_open(db, cliente.id) == 0
    assert_error(client.get("/account/subscriptions", headers=cliente_headers), 401)


def test_toggle_estado_ends_sessions_and_back(client, admin_headers, cliente, cliente_headers, db,
                                              audit_rows):
    response = client.post(f"/admin/usuarios/{cliente.id}/toggle-estado", headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    assert _sessions_open(db, cliente.id) == 0
    response = client.post(f"/admin/usuarios/{cliente.id}/toggle-estado", headers=admin_headers)
    assert response.get_json()["is_active"] is True
    rows = audit_rows("usuarios", cliente.id)
    assert [(r.valores_anteriores, r.valores_nuevos) for r in rows] == [
        ({"is_active": True}, {"is_active": False}), ({"is_active": False}, {"is_active": True})]
    assert_error(client.post("/admin/usuarios/9999/toggle-estado", headers=admin_headers),
                 404, "no_encontrado")


def test_change_password_ends_sessions_and_never_audits_the_hash(client, admin_headers, cliente,
                                                                 cliente_headers, db, audit_rows):
    old_hash = cliente.password_hash
    response = client.post(f"/admin/usuarios/{cliente.id}/cambiar-password",
                           json={"password": "Otra#Clave99"}, headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["id"] == cliente.id
    db.session.expire_all()
    usuario = db.session.get(Usuario, cliente.id)
    assert verify_password(usuario.password_hash, "Otra#Clave99")
    assert _sessions_open(db, cliente.id) == 0
    assert_error(client.get("/account/subscriptions", headers=cliente_headers), 401)
    [row] = audit_rows("usuarios", cliente.id)
    assert row.valores_anteriores == {"password": None}
    assert row.valores_nuevos == {"password": "cambiada"}
    assert old_hash not in str(row.valores_anteriores) and usuario.password_hash not in str(
        row.valores_nuevos)


def test_change_password_refusals(client, admin_headers, cliente, db, audit_rows):
    weak = client.post(f"/admin/usuarios/{cliente.id}/cambiar-password", json={"password": "abc"},
                       headers=admin_headers)
    assert "password" in assert_error(weak, 422, "password_debil")["details"]
    assert "password" in assert_error(
        client.post(f"/admin/usuarios/{cliente.id}/cambiar-password", json={},
                    headers=admin_headers), 422, "validacion")["details"]
    assert_error(client.post("/admin/usuarios/9999/cambiar-password",
                             json={"password": "Otra#Clave99"}, headers=admin_headers),
                 404, "no_encontrado")
    db.session.expire_all()
    assert verify_password(db.session.get(Usuario, cliente.id).password_hash, PASSWORD)
    assert audit_rows("usuarios") == []


def test_own_password_change_keeps_the_callers_session(client, admin, admin_headers, db):
    response = client.post(f"/admin/usuarios/{admin.id}/cambiar-password",
                           json={"password": "Otra#Clave99"}, headers=admin_headers)
    assert response.status_code == 200 and response.get_json()["id"] == admin.id
    db.session.expire_all()
    assert verify_password(db.session.get(Usuario, admin.id).password_hash, "Otra#Clave99")
    assert _sessions_open(db, admin.id) == 1
    assert client.get("/admin/usuarios", headers=admin_headers).status_code == 200


def test_admin_cannot_lock_themselves_out(client, admin, admin_headers, db):
    for call in (
        lambda: client.post(f"/admin/usuarios/{admin.id}/toggle-estado", headers=admin_headers),
        lambda: client.put(f"/admin/usuarios/{admin.id}", json={"is_active": False},
                           headers=admin_headers),
        lambda: client.put(f"/admin/usuarios/{admin.id}", json={"rol": "cliente"},
                           headers=admin_headers),
        lambda: client.delete(f"/admin/usuarios/{admin.id}", headers=admin_headers),
    ):
        assert_error(call(), 409, "conflicto")
    db.session.expire_all()
    usuario = db.session.get(Usuario, admin.id)
    assert usuario.is_active and usuario.rol == Rol.ADMIN


def test_delete_user_audits_and_removes(client, admin, admin_headers, cliente, db, audit_rows):
    response = client.delete(f"/admin/usuarios/{cliente.id}", headers=admin_headers)
    assert response.status_code == 204 and response.data == b""
    db.session.expire_all()
    assert db.session.get(Usuario, cliente.id) is None
    [row] = audit_rows("usuarios", cliente.id)
    assert row.accion == "eliminar" and row.valores_nuevos is None
    assert row.valores_anteriores["email"] == "cliente@acme.com"
    assert "password_hash" not in row.valores_anteriores
    assert_error(client.delete(f"/admin/usuarios/{cliente.id}", headers=admin_headers),
                 404, "no_encontrado")
