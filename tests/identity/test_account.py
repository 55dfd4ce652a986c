"""GET/PUT /account/profile."""
from __future__ import annotations

from backend.identity.models import Usuario
from tests.conftest import assert_error
from tests.identity.conftest import bearer


def test_get_profile(client, make_empresa, make_usuario, auth_headers):
    empresa = make_empresa()
    usuario = make_usuario(email="ana@example.com", empresa_id=empresa.id, telefono="+573001234567")
    body = client.get("/account/profile", headers=auth_headers(usuario)).get_json()
    assert body["id"] == usuario.id and body["email"] == "ana@example.com"
    assert body["empresa_id"] == empresa.id and body["telefono"] == "+573001234567"
    assert body["created_at"].endswith("Z")
    assert not {"password_hash", "otp_secret_enc", "otp_last_step"} & set(body)


def test_update_profile(client, db, make_empresa, make_usuario, auth_headers):
    empresa = make_empresa()
    usuario = make_usuario(email="ana@example.com", empresa_id=empresa.id)
    headers = auth_headers(usuario)
    response = client.put("/account/profile", headers=headers, json={
        "nombre": "  Ana María ", "telefono": "300 123 4567", "direccion": "Calle 1 # 2-3",
        "ciudad": "Bogotá", "pais": "co", "fecha_nacimiento": "1990-05-17",
        "email": "otra@example.com", "rol": "admin", "empresa_id": 999,
    })
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["nombre"] == "Ana María" and body["telefono"] == "+573001234567"
    assert body["pais"] == "CO" and body["fecha_nacimiento"] == "1990-05-17" and body["ciudad"] == "Bogotá"
    assert (body["email"] == "ana@example.com" and body["rol"] == "cliente"
            and body["empresa_id"] == empresa.id)
    row = db.session.get(Usuario, usuario.id)
    db.session.refresh(row)
    assert (row.nombre, row.telefono, row.pais, row.email, row.empresa_id) == \
        ("Ana María", "+573001234567", "CO", "ana@example.com", empresa.id)

    cleared = client.put("/account/profile", headers=headers, json={"telefono": None})
    assert cleared.get_json()["telefono"] is None and cleared.get_json()["nombre"] == "Ana María"


def test_update_profile_validation(client, db, make_usuario, auth_headers):
    usuario = make_usuario(nombre="Ana", pais="CO", telefono="+573001234567")
    headers = auth_headers(usuario)
    body = assert_error(client.put("/account/profile", headers=headers,
                                   json={"pais": "Colombia", "telefono": "12", "nombre": " ",
                                         "fecha_nacimiento": "17/05/1990", "password_hash": "x"}),
                        422, "validacion")
    assert {"pais", "telefono", "nombre", "fecha_nacimiento", "password_hash"} <= set(body["details"])
    assert_error(client.put("/account/profile", headers=headers, data="x", content_type="text/plain"), 415)
    assert_error(client.put("/account/profile", headers=headers, data="{",
                            content_type="application/json"), 400)
    db.session.refresh(usuario)
    assert (usuario.nombre, usuario.pais, usuario.telefono, usuario.fecha_nacimiento) == (
        "Ana", "CO", "+573001234567", None)


def test_profile_with_bad_token(client):
    assert_error(client.get("/account/profile", headers=bearer("not.a.jwt")), 401, "no_autenticado")
