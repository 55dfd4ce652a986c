"""The panel's user screen: list (search, filters rol/empresa/activo), CSV without secrets, create
and edit through services.usuarios (the password rule, the unique email, the actor rules), the
"Cambiar contraseña" form and the "Activar/Desactivar" button."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from backend.identity.models import Rol, SesionAuth, Usuario
from backend.identity.services.passwords import verify_password
from tests.conftest import PASSWORD
from tests.panel.conftest import page_token, submit, text_of

NEW_PASSWORD = "Nueva#Clave42"


def _fresh(db, usuario_id: int) -> Usuario:
    db.session.expire_all()
    return db.session.get(Usuario, usuario_id)






def _user_form(**values) -> dict:
    data = {"nombre": "", "email": "", "rol": "cliente", "empresa": "__None", "telefono": "",
            "is_active": "y"}
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def _open_sessions(db, usuario_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(SesionAuth).where(
        SesionAuth.usuario_id == usuario_id, SesionAuth.revoked_at.is_(None)))


# ---------------------------------------------------------------- list, search, filters, CSV

def test_list_search_and_filters(admin_panel, make_usuario, make_empresa):
    acme, beta = make_empresa(nombre="Acme SAS"), make_empresa(nombre="Beta Ltda")
    make_usuario(nombre="Ana Acme", email="ana@acme.com", empresa_id=acme.id)
    make_usuario(nombre="Bruno Beta", email="bruno@beta.com", empresa_id=beta.id, is_active=False)
    make_usuario(nombre="Sofía Soporte", email="sofia@control.co", rol=Rol.SOPORTE)

    html = text_of(admin_panel.get("/panel/usuarios/"))
    assert all(n in html for n in ("Ana Acme", "Bruno Beta", "Sofía Soporte", "Acme SAS", "Beta Ltda"))

    html = text_of(admin_panel.get("/panel/usuarios/?search=beta.com"))  # part of the email
    assert "Bruno Beta" in html and "Ana Acme" not in html
    html = text_of(admin_panel.get("/panel/usuarios/?search=sof"))  # part of the name
    assert "Sofía Soporte" in html and "Ana Acme" not in html

    html = text_of(admin_panel.get("/panel/usuarios/?flt0_rol_equals=soporte"))
    assert "Sofía Soporte" in html and "Ana Acme" not in html and "Bruno Beta" not in html
    html = text_of(admin_panel.get(f"/panel/usuarios/?flt0_empresa_equals={acme.id}"))
    assert "Ana Acme" in html and "Bruno Beta" not in html and "Sofía Soporte" not in html
    html = text_of(admin_panel.get("/panel/usuarios/?flt0_activo_equals=0"))
    assert "Bruno Beta" in html and "Ana Acme" not in html


def test_csv_export_has_no_secrets(admin_panel, make_usuario, make_empresa, db):
    acme = make_empresa(nombre="Acme SAS")
    usuario = make_usuario(nombre="Ana Acme", email="ana@acme.com", empresa_id=acme.id, otp_enabled=True,
                           otp_secret_enc="cifrado-secreto-otp", otp_last_step=123456)

    response = admin_panel.get("/panel/usuarios/export/csv/?search=acme")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = text_of(response).strip().splitlines()
    assert header.startswith("Id,Nombre,Correo,Rol,Empresa,Activo")
    assert len(rows) == 1 and rows[0].startswith(f"{usuario.id},Ana Acme,ana@acme.com,cliente,Acme SAS,sí")
    csv = text_of(response)
    for secret in (usuario.password_hash, "argon2", "cifrado-secreto-otp", "123456", "password",
                   "otp_secret"):
        assert secret not in csv

    details = text_of(admin_panel.get(f"/panel/usuarios/details/?id={usuario.id}"))
    assert "ana@acme.com" in details
    assert usuario.password_hash not in details and "cifrado-secreto-otp" not in details


# ---------------------------------------------------------------- create

def test_create_through_the_service(admin_panel, admin, make_empresa, db, audit_rows):
    acme = make_empresa(nombre="Acme SAS")
    response = submit(admin_panel, "/panel/usuarios/new/",
                       _user_form(nombre=" Carla ", email="Carla@Acme.com", empresa=str(acme.id),
                                  telefono="3001234567", password=NEW_PASSWORD), follow_redirects=True)
    assert response.status_code == 200
    usuario = db.session.scalar(select(Usuario).where(Usuario.email == "carla@acme.com"))
    assert usuario.nombre == "Carla" and usuario.empresa_id == acme.id and usuario.rol == Rol.CLIENTE
    assert usuario.telefono == "+573001234567" and usuario.is_active and not usuario.pendiente_activacion
    assert verify_password(usuario.password_hash, NEW_PASSWORD)
    [row] = audit_rows("usuarios", usuario.id)
    assert row.accion.value == "crear" and row.usuario_id == admin.id
    assert "password_hash" not in row.valores_nuevos and usuario.password_hash not in str(row.valores_nuevos)


def test_create_refused_by_the_password_rule(admin_panel, db, audit_rows):
    response = submit(admin_panel, "/panel/usuarios/new/",
                       _user_form(nombre="Débil", email="debil@acme.com", password="corta"))
    html = text_of(response)
    assert response.status_code == 200
    assert "La contraseña no cumple la política de seguridad." in html
    assert "Debe incluir una letra mayúscula." in html and "Debe tener al menos 8 caracteres." in html
    assert db.session.scalar(select(Usuario).where(Usuario.email == "debil@acme.com")) is None
    assert audit_rows("usuarios") == []


def test_create_refused_when_the_email_is_taken(admin_panel, make_usuario, db):
    make_usuario(email="ana@acme.com")
    before = db.session.scalar(select(func.count()).select_from(Usuario))
    response = submit(admin_panel, "/panel/usuarios/new/",
                       _user_form(nombre="Otra Ana", email="ANA@acme.com", password=NEW_PASSWORD))
    assert response.status_code == 200
    assert "Ya existe un usuario con ese correo." in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Usuario)) == before


# ---------------------------------------------------------------- edit

def test_edit_through_the_service(admin_panel, admin, make_usuario, make_empresa, db, audit_rows):
    acme = make_empresa(nombre="Acme SAS")
    usuario = make_usuario(nombre="Ana", email="ana@acme.com")
    url = f"/panel/usuarios/edit/?id={usuario.id}"
    form = text_of(admin_panel.get(url))
    assert 'value="ana@acme.com"' in form and 'name="password"' not in form

    response = submit(admin_panel, url, _user_form(nombre="Ana María", email="ana@acme.com", rol="soporte",
                                                    empresa=str(acme.id)), follow_redirects=True)
    assert response.status_code == 200
    usuario = _fresh(db, usuario.id)
    assert (usuario.nombre, usuario.rol, usuario.empresa_id) == ("Ana María", Rol.SOPORTE, acme.id)
    [row] = audit_rows("usuarios", usuario.id)
    assert row.accion.value == "actualizar" and row.usuario_id == admin.id
    assert row.valores_nuevos == {"nombre": "Ana María", "rol": "soporte", "empresa_id": acme.id}


def test_edit_refused_when_the_email_is_taken(admin_panel, make_usuario, db, audit_rows):
    make_usuario(email="bruno@acme.com")
    usuario = make_usuario(nombre="Ana", email="ana@acme.com")
    response = submit(admin_panel, f"/panel/usuarios/edit/?id={usuario.id}",
                       _user_form(nombre="Ana", email="bruno@acme.com"))
    assert "Ya existe un usuario con ese correo." in text_of(response)
    assert _fresh(db, usuario.id).email == "ana@acme.com" and audit_rows("usuarios") == []


@pytest.mark.parametrize(("change", "message"), [
    ({"rol": "cliente"}, "No puede cambiar su propio rol."),
    ({"is_active": None}, "No puede desactivar su propia cuenta."),  # the box left unticked
])
def test_an_admin_cannot_demote_or_deactivate_themselves(admin_panel, admin, db, audit_rows, change, message):
    response = submit(admin_panel, f"/panel/usuarios/edit/?id={admin.id}",
                       _user_form(**{"nombre": "Admin", "email": admin.email, "rol": "admin", **change}))
    assert response.status_code == 200 and message in text_of(response)
    admin = _fresh(db, admin.id)
    assert admin.rol == Rol.ADMIN and admin.is_active and audit_rows("usuarios") == []


# ---------------------------------------------------------------- Cambiar contraseña

def test_change_password_ends_the_users_sessions(admin_panel, admin, soporte_user, soporte_panel, db,
                                                 audit_rows):
    assert soporte_panel.get("/panel/").status_code == 200
    url = f"/panel/usuarios/password/?id={soporte_user.id}"
    assert "Cambiar contraseña de Soporte" in text_of(admin_panel.get(url))

    response = submit(admin_panel, url, {"password": NEW_PASSWORD, "confirmacion": NEW_PASSWORD},
                       follow_redirects=True)
    assert "Se cambió la contraseña" in text_of(response)
    assert verify_password(_fresh(db, soporte_user.id).password_hash, NEW_PASSWORD)
    assert _open_sessions(db, soporte_user.id) == 0
    assert soporte_panel.get("/panel/").status_code == 302  # signed out
    [row] = audit_rows("usuarios", soporte_user.id)
    assert row.usuario_id == admin.id and row.valores_nuevos == {"password": "cambiada"}


def test_changing_your_own_password_keeps_your_panel_session(admin_panel, admin, db):
    submit(admin_panel, f"/panel/usuarios/password/?id={admin.id}",
            {"password": NEW_PASSWORD, "confirmacion": NEW_PASSWORD})
    assert verify_password(_fresh(db, admin.id).password_hash, NEW_PASSWORD)
    assert admin_panel.get("/panel/usuarios/").status_code == 200


@pytest.mark.parametrize(("password", "confirmacion", "message"), [
    ("sinmayuscula1!", "sinmayuscula1!", "Debe incluir una letra mayúscula."),
    (NEW_PASSWORD, "Otra#Clave42", "Las contraseñas no coinciden."),
])
def test_change_password_refused(admin_panel, make_usuario, db, audit_rows, password, confirmacion, message):
    usuario = make_usuario()
    old_hash = usuario.password_hash
    response = submit(admin_panel, f"/panel/usuarios/password/?id={usuario.id}",
                       {"password": password, "confirmacion": confirmacion})
    assert response.status_code == 200 and message in text_of(response)
    assert _fresh(db, usuario.id).password_hash == old_hash and audit_rows("usuarios") == []


# ---------------------------------------------------------------- Activar / Desactivar, delete

def test_toggle_button(admin_panel, admin, make_usuario, token_for, db, audit_rows):
    usuario = make_usuario(nombre="Ana")
    token_for(usuario)  # an open API session
    list_url = "/panel/usuarios/"
    token = page_token(admin_panel, list_url)
    assert f"/panel/usuarios/estado/?id={usuario.id}" in text_of(admin_panel.get(list_url))

    response = admin_panel.post(f"/panel/usuarios/estado/?id={usuario.id}&url={list_url}",
                                data={"csrf_token": token}, follow_redirects=True)
    assert "Se cambió el estado del usuario." in text_of(response)
    assert _fresh(db, usuario.id).is_active is False and _open_sessions(db, usuario.id) == 0
    admin_panel.post(f"/panel/usuarios/estado/?id={usuario.id}", data={"csrf_token": token})
    assert _fresh(db, usuario.id).is_active is True
    desactivar, activar = audit_rows("usuarios", usuario.id)
    assert desactivar.valores_nuevos == {"is_active": False} and activar.valores_nuevos == {"is_active": True}
    assert {desactivar.usuario_id, activar.usuario_id} == {admin.id}


def test_toggle_refused_on_yourself(admin_panel, admin, db, audit_rows):
    token = page_token(admin_panel, "/panel/usuarios/")
    response = admin_panel.post(f"/panel/usuarios/estado/?id={admin.id}", data={"csrf_token": token},
                                follow_redirects=True)
    assert "No puede desactivar su propia cuenta." in text_of(response)
    assert _fresh(db, admin.id).is_active and audit_rows("usuarios") == []


def test_delete_through_the_service(admin_panel, admin, make_usuario, db, audit_rows):
    usuario = make_usuario(email="ana@acme.com")
    token = page_token(admin_panel, "/panel/usuarios/")
    response = admin_panel.post("/panel/usuarios/delete/", data={"id": usuario.id, "csrf_token": token},
                                follow_redirects=True)
    assert response.status_code == 200
    assert _fresh(db, usuario.id) is None
    [row] = audit_rows("usuarios", usuario.id)
    assert row.accion.value == "eliminar" and row.usuario_id == admin.id

    response = admin_panel.post("/panel/usuarios/delete/", data={"id": admin.id, "csrf_token": token},
                                follow_redirects=True)
    assert "No puede eliminar su propia cuenta." in text_of(response)
    assert _fresh(db, admin.id) is not None


# ---------------------------------------------------------------- CSRF and access

@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_posts_without_a_valid_csrf_token_change_nothing(admin_panel, make_usuario, db, audit_rows, token):
    usuario = make_usuario(nombre="Ana", email="ana@acme.com")
    old_hash = usuario.password_hash
    page_token(admin_panel, "/panel/usuarios/")
    data = {} if token is None else {"csrf_token": token}

    response = admin_panel.post(f"/panel/usuarios/estado/?id={usuario.id}", data=data, follow_redirects=True)
    assert "El formulario no es válido o venció" in text_of(response)
    admin_panel.post(f"/panel/usuarios/password/?id={usuario.id}",
                     data={**data, "password": NEW_PASSWORD, "confirmacion": NEW_PASSWORD})
    admin_panel.post(f"/panel/usuarios/edit/?id={usuario.id}",
                     data={**data, **_user_form(nombre="Cambiada", email="ana@acme.com")})
    admin_panel.post("/panel/usuarios/new/",
                     data={**data, **_user_form(nombre="Nueva", email="nueva@acme.com",
                                                password=NEW_PASSWORD)})
    admin_panel.post("/panel/usuarios/delete/", data={**data, "id": usuario.id})

    usuario = _fresh(db, usuario.id)
    assert usuario is not None and usuario.is_active and usuario.nombre == "Ana"
    assert usuario.password_hash == old_hash
    assert db.session.scalar(select(Usuario).where(Usuario.email == "nueva@acme.com")) is None
    assert audit_rows("usuarios") == []


def test_soporte_and_anonymous_cannot_act(client, soporte_panel, make_usuario, db):
    usuario = make_usuario()
    token = page_token(soporte_panel, "/panel/")
    for who, expected in ((soporte_panel, 403), (client, 302)):
        assert who.post(f"/panel/usuarios/estado/?id={usuario.id}",
                        data={"csrf_token": token}).status_code == expected
        assert who.post(f"/panel/usuarios/password/?id={usuario.id}",
                        data={"csrf_token": token, "password": NEW_PASSWORD,
                              "confirmacion": NEW_PASSWORD}).status_code == expected
    usuario = _fresh(db, usuario.id)
    assert usuario.is_active and verify_password(usuario.password_hash, PASSWORD)


def test_a_customer_cannot_sign_in(client, cliente):
    token = page_token(client, "/panel/login")
    response = client.post("/panel/login", data={"email": cliente.email, "password": PASSWORD,
                                                 "csrf_token": token})
    assert response.status_code == 403
    assert client.get("/panel/usuarios/").status_code == 302
