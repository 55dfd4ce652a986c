"""The panel's company screens: companies (search, filter, CSV, create and edit through the
services with the unique NIT, Desactivar/Activar buttons) and their API keys (created on the
company's page with the key shown once, listed without key or hash, revoked with a button)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend.empresas.api_keys import find_active_key, hash_key
from backend.empresas.models import ApiKey, Empresa, EstadoEmpresa
from tests.panel.conftest import count_rows, csrf_token, fresh, page_token, submit, text_of

KEY_RE = re.compile(r"sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
FORM = {"nit": "", "nombre": "", "contacto": "", "email": "", "telefono": "", "direccion": "",
        "ciudad": "", "pais": ""}










# ---------------------------------------------------------------- list, search, filter, CSV

def test_list_search_filter_and_sort(admin_panel, make_empresa):
    make_empresa(nombre="Acme SAS", nit="900123456-7", ciudad="Bogotá")
    make_empresa(nombre="Beta Ltda", nit="800555444-1")
    make_empresa(nombre="Gamma Inactiva", nit="811000111-2", estado=EstadoEmpresa.INACTIVA)

    html = text_of(admin_panel.get("/panel/empresas/"))
    assert all(nombre in html for nombre in ("Acme SAS", "Beta Ltda", "Gamma Inactiva"))
    assert "Desactivar" in html and "Activar" in html

    html = text_of(admin_panel.get("/panel/empresas/?search=acme"))
    assert "Acme SAS" in html and "Beta Ltda" not in html
    html = text_of(admin_panel.get("/panel/empresas/?search=800555"))  # part of the NIT
    assert "Beta Ltda" in html and "Acme SAS" not in html

    html = text_of(admin_panel.get("/panel/empresas/?flt0_estado_equals=inactiva"))
    assert "Gamma Inactiva" in html and "Acme SAS" not in html and "Beta Ltda" not in html

    response = admin_panel.get("/panel/empresas/?flt0_estado_equals=borrada")  # not a state: ignored
    assert response.status_code == 200
    assert "Gamma Inactiva" in text_of(response) and "Acme SAS" in text_of(response)

    html = text_of(admin_panel.get("/panel/empresas/?sort=0&desc=1"))  # by NIT, descending
    assert html.index("900123456-7") < html.index("811000111-2") < html.index("800555444-1")


def test_csv_export(admin_panel, make_empresa):
    make_empresa(nombre="Acme SAS", nit="900123456-7", email="info@acme.co")
    make_empresa(nombre="Beta Ltda", nit="800555444-1", estado=EstadoEmpresa.INACTIVA)

    response = admin_panel.get("/panel/empresas/export/csv/?flt0_estado_equals=activa")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = text_of(response).strip().splitlines()
    assert lines[0].startswith("Id,NIT,Nombre,Contacto,Correo")
    assert len(lines) == 2 and "900123456-7,Acme SAS" in lines[1] and "info@acme.co" in lines[1]


# ---------------------------------------------------------------- create and edit

def test_create_through_the_service(admin_panel, admin, db, audit_rows):
    response = submit(admin_panel, "/panel/empresas/new/",
                       {**FORM, "nit": "900.777.888-1", "nombre": "  Nueva SAS ", "pais": "co"},
                       follow_redirects=True)
    assert response.status_code == 200
    empresa = db.session.scalar(select(Empresa).where(Empresa.nombre == "Nueva SAS"))
    # Loaded as the JSON API loads it: NIT without dots, name trimmed, country upper-cased.
    assert empresa.nit == "900777888-1" and empresa.pais == "CO" and empresa.estado == EstadoEmpresa.ACTIVA
    [row] = audit_rows("empresas", empresa.id)
    assert row.accion.value == "crear" and row.usuario_id == admin.id
    assert row.valores_nuevos["nit"] == "900777888-1"


def test_create_refused_when_the_nit_is_taken(admin_panel, make_empresa, db, audit_rows):
    make_empresa(nombre="Acme SAS", nit="900123456-7")
    before = count_rows(db, Empresa)

    response = submit(admin_panel, "/panel/empresas/new/",
                       {**FORM, "nit": "900.123.456-7", "nombre": "Otra"})
    assert response.status_code == 200
    html = text_of(response)
    assert "Ya existe una empresa con el NIT 900123456-7." in html
    assert "Ya está registrado." in html  # beside the NIT field
    assert count_rows(db, Empresa) == before and audit_rows("empresas") == []


def test_create_refused_by_the_schema(admin_panel, db):
    response = submit(admin_panel, "/panel/empresas/new/",
                       {**FORM, "nit": "12-AB", "nombre": "Mala", "telefono": "abc"})
    html = text_of(response)
    assert response.status_code == 200
    assert "NIT inválido" in html and "Teléfono inválido." in html
    assert count_rows(db, Empresa) == 0


def test_edit_through_the_service(admin_panel, admin, make_empresa, db, audit_rows):
    empresa = make_empresa(nombre="Acme SAS", nit="900123456-7")
    url = f"/panel/empresas/edit/?id={empresa.id}"
    form = text_of(admin_panel.get(url))
    assert 'value="900123456-7"' in form and 'value="Acme SAS"' in form

    response = submit(admin_panel, url, {**FORM, "nit": "900123456-7", "nombre": "Acme Global SAS",
                                          "ciudad": "Medellín"}, follow_redirects=True)
    assert response.status_code == 200
    empresa = fresh(db, Empresa, empresa.id)
    assert empresa.nombre == "Acme Global SAS" and empresa.ciudad == "Medellín"
    [row] = audit_rows("empresas", empresa.id)
    assert row.accion.value == "actualizar" and row.usuario_id == admin.id
    assert row.valores_anteriores == {"nombre": "Acme SAS", "ciudad": None}
    assert row.valores_nuevos == {"nombre": "Acme Global SAS", "ciudad": "Medellín"}


def test_edit_refused_when_the_nit_belongs_to_another(admin_panel, make_empresa, db, audit_rows):
    make_empresa(nombre="Beta Ltda", nit="800555444-1")
    empresa = make_empresa(nombre="Acme SAS", nit="900123456-7")
    url = f"/panel/empresas/edit/?id={empresa.id}"

    response = submit(admin_panel, url, {**FORM, "nit": "800555444-1", "nombre": "Acme Renombrada"})
    assert response.status_code == 200
    assert "Ya existe una empresa con el NIT 800555444-1." in text_of(response)
    empresa = fresh(db, Empresa, empresa.id)
    assert (empresa.nit, empresa.nombre) == ("900123456-7", "Acme SAS")
    assert audit_rows("empresas") == []


# ---------------------------------------------------------------- Desactivar / Activar

def test_deactivate_and_activate_buttons(admin_panel, admin, make_empresa, db, audit_rows):
    empresa = make_empresa(nombre="Acme SAS")
    details = f"/panel/empresas/details/?id={empresa.id}"
    token = page_token(admin_panel, details)

    response = admin_panel.post(f"/panel/empresas/desactivar/?id={empresa.id}&url={details}",
                                data={"csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200 and "La empresa quedó inactiva." in text_of(response)
    assert fresh(db, Empresa, empresa.id).estado == EstadoEmpresa.INACTIVA
    assert "Activar" in text_of(response)  # the details page now offers the way back

    response = admin_panel.post(f"/panel/empresas/activar/?id={empresa.id}", data={"csrf_token": token},
                                follow_redirects=True)
    assert "La empresa quedó activa." in text_of(response)
    assert fresh(db, Empresa, empresa.id).estado == EstadoEmpresa.ACTIVA

    baja, alta = audit_rows("empresas", empresa.id)
    # The soft delete is an `eliminar` that keeps the row, with the whole record on both sides.
    assert baja.accion.value == "eliminar" and baja.valores_nuevos["estado"] == "inactiva"
    assert baja.valores_nuevos["nit"] == empresa.nit
    assert alta.accion.value == "actualizar" and alta.valores_nuevos == {"estado": "activa"}
    assert {baja.usuario_id, alta.usuario_id} == {admin.id}


def test_no_hard_delete(admin_panel, make_empresa, db):
    empresa = make_empresa()
    token = page_token(admin_panel, "/panel/empresas/")
    admin_panel.post("/panel/empresas/delete/", data={"id": empresa.id, "csrf_token": token})
    assert fresh(db, Empresa, empresa.id).estado == EstadoEmpresa.ACTIVA


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_posts_without_a_valid_csrf_token_change_nothing(admin_panel, make_empresa, db, audit_rows, token):
    empresa = make_empresa(nombre="Acme SAS", nit="900123456-7")
    data = {} if token is None else {"csrf_token": token}
    page_token(admin_panel, "/panel/empresas/")  # the session has a CSRF secret: only the token is wrong

    response = admin_panel.post(f"/panel/empresas/desactivar/?id={empresa.id}", data=data,
                                follow_redirects=True)
    assert "El formulario no es válido o venció" in text_of(response)
    response = admin_panel.post("/panel/empresas/new/", data={**data, **FORM, "nit": "811222333-4",
                                                              "nombre": "Sin token"})
    assert response.status_code == 200
    response = admin_panel.post(f"/panel/empresas/edit/?id={empresa.id}",
                                data={**data, **FORM, "nit": "900123456-7", "nombre": "Cambiada"})
    assert response.status_code == 200
    response = admin_panel.post(f"/panel/empresas/api-key/?id={empresa.id}", data={**data, "nombre": "x"})
    assert response.status_code == 200 and not KEY_RE.search(text_of(response))

    empresa = fresh(db, Empresa, empresa.id)
    assert (empresa.nombre, empresa.estado) == ("Acme SAS", EstadoEmpresa.ACTIVA)
    assert count_rows(db, Empresa) == 1 and count_rows(db, ApiKey) == 0
    assert audit_rows("empresas") == [] and audit_rows("api_keys") == []


# ---------------------------------------------------------------- API keys

def test_create_a_key_shows_it_once(admin_panel, admin, make_empresa, db, audit_rows):
    empresa = make_empresa(nombre="Acme SAS")
    url = f"/panel/empresas/api-key/?id={empresa.id}"
    response = submit(admin_panel, url, {"nombre": "Instancia A"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [key] = KEY_RE.findall(text_of(response))
    assert "no se volverá a mostrar" in text_of(response)

    row = db.session.scalar(select(ApiKey))
    assert row.empresa_id == empresa.id and row.nombre == "Instancia A" and row.creado_por == admin.id
    assert row.key_hash == hash_key(key) and key.startswith(row.prefijo + "_")
    assert find_active_key(key).id == row.id

    # Never again: not on the company's page, not in the list, not in the CSV; nor the hash.
    for page in (f"/panel/empresas/details/?id={empresa.id}", "/panel/api-keys/",
                 f"/panel/api-keys/details/?id={row.id}", "/panel/api-keys/export/csv/"):
        html = text_of(admin_panel.get(page))
        assert row.prefijo in html and key not in html and row.key_hash not in html, page

    [audit] = audit_rows("api_keys", row.id)
    assert audit.accion.value == "crear" and audit.usuario_id == admin.id
    assert "key_hash" not in audit.valores_nuevos and key not in str(audit.valores_nuevos)


def test_keys_screen_search_filter_csv_and_revoke(admin_panel, admin, make_empresa, company_key, db,
                                                  audit_rows):
    acme, beta = make_empresa(nombre="Acme SAS"), make_empresa(nombre="Beta Ltda")
    company_key(acme, "Acme prod")
    beta_key = company_key(beta, "Beta prod")
    beta_row = db.session.scalar(select(ApiKey).where(ApiKey.empresa_id == beta.id))

    html = text_of(admin_panel.get(f"/panel/api-keys/?flt0_empresa_equals={beta.id}"))
    assert "Beta prod" in html and "Acme prod" not in html
    html = text_of(admin_panel.get("/panel/api-keys/?search=acme+prod"))
    assert "Acme prod" in html and "Beta prod" not in html

    token = page_token(admin_panel, "/panel/api-keys/")
    response = admin_panel.post(f"/panel/api-keys/revocar/?id={beta_row.id}", data={"csrf_token": token},
                                follow_redirects=True)
    assert "La API key quedó revocada." in text_of(response)
    assert fresh(db, ApiKey, beta_row.id).revoked_at is not None
    assert find_active_key(beta_key) is None
    audit = audit_rows("api_keys", beta_row.id)[-1]
    assert audit.accion.value == "actualizar" and audit.usuario_id == admin.id
    assert set(audit.valores_nuevos) == {"revoked_at"}

    # Revoked keys are filtered out with "Revocada: no"; the CSV says which is which.
    html = text_of(admin_panel.get("/panel/api-keys/?flt0_revocada_empty=1"))
    assert "Acme prod" in html and "Beta prod" not in html
    csv = text_of(admin_panel.get("/panel/api-keys/export/csv/"))
    assert "Acme SAS" in csv and "Beta Ltda" in csv and ",revocada" in csv and ",activa" in csv
    assert beta_key not in csv and beta_row.key_hash not in csv


def test_revoke_from_the_company_page(admin_panel, make_empresa, company_key, db):
    empresa = make_empresa(nombre="Acme SAS")
    company_key(empresa, "Instancia A")
    row = db.session.scalar(select(ApiKey))
    details = f"/panel/empresas/details/?id={empresa.id}"
    html = text_of(admin_panel.get(details))
    assert f"/panel/api-keys/revocar/?id={row.id}" in html and "Nueva API key" in html

    response = admin_panel.post(f"/panel/api-keys/revocar/?id={row.id}&url={details}",
                                data={"csrf_token": csrf_token(html)})
    assert response.status_code == 302 and response.headers["Location"].endswith(details)
    assert fresh(db, ApiKey, row.id).revoked_at is not None


def test_revoking_an_unknown_key_shows_the_error(admin_panel, db):
    token = page_token(admin_panel, "/panel/api-keys/")
    response = admin_panel.post("/panel/api-keys/revocar/?id=999", data={"csrf_token": token},
                                follow_redirects=True)
    assert "La API key no existe." in text_of(response)


# ---------------------------------------------------------------- who may see them


def test_soporte_and_anonymous_cannot_act(client, soporte_panel, make_empresa, company_key, db):
    empresa = make_empresa()
    company_key(empresa)
    key = db.session.scalar(select(ApiKey))
    token = page_token(soporte_panel, "/panel/")
    for who, expected in ((soporte_panel, 403), (client, 302)):
        data = {"csrf_token": token}
        assert who.post(f"/panel/empresas/desactivar/?id={empresa.id}", data=data).status_code == expected
        assert who.post(f"/panel/api-keys/revocar/?id={key.id}", data=data).status_code == expected
        assert who.post(f"/panel/empresas/api-key/?id={empresa.id}", data=data).status_code == expected
    assert fresh(db, Empresa, empresa.id).estado == EstadoEmpresa.ACTIVA
    assert fresh(db, ApiKey, key.id).revoked_at is None and count_rows(db, ApiKey) == 1


def test_a_customer_cannot_sign_in(client, cliente):
    token = page_token(client, "/panel/login")
    response = client.post("/panel/login", data={"email": cliente.email, "password": "Secreta#123",
                                                 "csrf_token": token})
    assert response.status_code == 403
    assert client.get("/panel/empresas/").status_code == 302
