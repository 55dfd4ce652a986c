"""The panel's logs: the audit trail and the access log, read-only (nothing created, edited or
deleted), searchable (table, record, the user's name or email), filtered, and exported to CSV."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from backend.core.audit import AccionAuditoria, Auditoria
from backend.identity.models import LogAcceso
from tests.conftest import persist
from tests.panel.conftest import page_token, text_of

ROW_ID = re.compile(r'<td class="col-registro_id">\s*(.*?)\s*</td>')
ROW_EMAIL = re.compile(r'<td class="col-email">\s*(.*?)\s*</td>')




def _audit(db, tabla: str, registro_id: str, accion: str = "actualizar", usuario=None, **values) -> Auditoria:
    return persist(db, Auditoria(tabla=tabla, registro_id=registro_id, accion=AccionAuditoria(accion),
                                 usuario_id=usuario.id if usuario else None, ip="10.0.0.1", **values))


def _acceso(db, email: str, exitoso: bool = True, tipo: str = "login", **values) -> LogAcceso:
    return persist(db, LogAcceso(tipo=tipo, exitoso=exitoso, email=email, **values))


@pytest.fixture
def audit_log(db, admin, soporte_user):
    """Three audit rows by two staff members and one without an actor (a CLI command)."""
    return [
        _audit(db, "empresas", "7", "crear", admin, valores_nuevos={"nombre": "Acme SAS"}),
        _audit(db, "planes", "3", "actualizar", soporte_user, valores_anteriores={"precio_mensual": 100.0},
               valores_nuevos={"precio_mensual": 110.0}),
        _audit(db, "empresas", "9", "eliminar", None, valores_anteriores={"nombre": "Vieja"}),
    ]


# ---------------------------------------------------------------- the audit trail

def test_audit_list_search_and_filters(admin_panel, admin, soporte_user, audit_log):
    def records(query: str = "") -> list[str]:
        return ROW_ID.findall(text_of(admin_panel.get(f"/panel/auditoria/{query}")))

    assert records() == ["9", "3", "7"]  # newest first
    assert records("?search=planes") == ["3"]  # table
    assert records("?search=soporte@test.com") == ["3"]  # the user's email
    assert records("?search=Admin") == ["7"]  # the user's name
    assert records("?flt0_tabla_equals=empresas") == ["9", "7"]
    assert records("?flt0_registro_equals=9") == ["9"]
    assert records("?flt0_accion_equals=eliminar") == ["9"]
    assert records(f"?flt0_usuario_equals={soporte_user.id}") == ["3"]

    html = text_of(admin_panel.get("/panel/auditoria/"))
    assert "Soporte &lt;soporte@test.com&gt;" in html and "precio_mensual" in html


def test_a_panel_change_is_in_the_audit_screen(admin_panel, admin, make_empresa, db):
    empresa = make_empresa(nombre="Acme SAS")
    token = page_token(admin_panel, "/panel/empresas/")
    admin_panel.post(f"/panel/empresas/desactivar/?id={empresa.id}", data={"csrf_token": token})
    row = db.session.scalar(select(Auditoria).where(Auditoria.tabla == "empresas"))
    assert row.usuario_id == admin.id and row.ip == "127.0.0.1"

    details = text_of(admin_panel.get(f"/panel/auditoria/details/?id={row.id}"))
    assert "Admin &lt;admin@test.com&gt;" in details and "eliminar" in details
    assert "&#34;estado&#34;: &#34;inactiva&#34;" in details or '"estado": "inactiva"' in details


def test_audit_csv(admin_panel, admin, audit_log):
    response = admin_panel.get("/panel/auditoria/export/csv/?flt0_tabla_equals=planes")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *rows = text_of(response).strip().splitlines()
    assert header == ("Id,Fecha (UTC),Tabla,Registro,Acción,Usuario (id),Usuario,IP,Valores anteriores,"
                      "Valores nuevos")
    assert len(rows) == 1
    assert ',planes,3,actualizar,' in rows[0] and "Soporte <soporte@test.com>" in rows[0]
    assert '"{""precio_mensual"": 100.0}","{""precio_mensual"": 110.0}"' in rows[0]


def test_audit_rows_never_show_a_password_hash(admin_panel, admin, make_usuario, db):
    usuario = make_usuario(nombre="Ana")
    url = f"/panel/usuarios/password/?id={usuario.id}"
    admin_panel.post(url, data={"password": "Nueva#Clave42", "confirmacion": "Nueva#Clave42",
                                "csrf_token": page_token(admin_panel, url)})
    db.session.expire_all()
    new_hash = db.session.get(type(usuario), usuario.id).password_hash
    row = db.session.scalar(select(Auditoria).where(Auditoria.tabla == "usuarios"))
    for page, shown in (("/panel/auditoria/", "password"),
                        (f"/panel/auditoria/details/?id={row.id}", "cambiada"),
                        ("/panel/auditoria/export/csv/", "cambiada")):
        html = text_of(admin_panel.get(page))
        assert shown in html and new_hash not in html and "argon2" not in html, page


def test_the_audit_trail_is_read_only(admin_panel, audit_log, db):
    row = audit_log[0]
    assert admin_panel.get("/panel/auditoria/new/").status_code == 302
    assert admin_panel.get(f"/panel/auditoria/edit/?id={row.id}").status_code == 302
    html = text_of(admin_panel.get("/panel/auditoria/"))
    assert "/panel/auditoria/new/" not in html and "/panel/auditoria/delete/" not in html
    token = page_token(admin_panel, "/panel/auditoria/")
    admin_panel.post("/panel/auditoria/delete/", data={"id": row.id, "csrf_token": token})
    admin_panel.post("/panel/auditoria/action/", data={"action": "delete", "rowid": [row.id],
                                                       "csrf_token": token})
    admin_panel.post(f"/panel/auditoria/edit/?id={row.id}", data={"tabla": "x", "csrf_token": token})
    admin_panel.post("/panel/auditoria/new/", data={"tabla": "x", "registro_id": "1", "accion": "crear",
                                                    "csrf_token": token})
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Auditoria)) == 3
    assert db.session.get(Auditoria, row.id).tabla == "empresas"


def test_audit_list_queries_do_not_grow_with_rows(admin_panel, admin, make_usuario, db, count_queries):
    _audit(db, "empresas", "1", usuario=admin)
    with count_queries() as few:
        admin_panel.get("/panel/auditoria/")
    for n in range(10):
        _audit(db, "empresas", str(n + 2), usuario=make_usuario())
    with count_queries() as many:
        admin_panel.get("/panel/auditoria/")
    assert many["n"] == few["n"]


# ---------------------------------------------------------------- the access log

def test_access_log_list_search_filters_and_csv(admin_panel, admin, cliente, empresa, db):
    _acceso(db, "cliente@acme.com", usuario_id=cliente.id, empresa_id=empresa.id, ip="200.1.1.1",
            fecha=datetime(2030, 1, 1, 8, 0))
    _acceso(db, "intruso@example.com", exitoso=False, ip="66.6.6.6", detalle="password_incorrecta",
            fecha=datetime(2030, 1, 2, 8, 0))

    def emails(query: str = "") -> list[str]:
        return ROW_EMAIL.findall(text_of(admin_panel.get(f"/panel/accesos/{query}")))

    assert set(emails()) == {"admin@test.com", "cliente@acme.com", "intruso@example.com"}  # with the sign-in
    assert emails("?search=intruso") == ["intruso@example.com"]
    assert emails("?search=200.1.1") == ["cliente@acme.com"]
    assert emails("?search=Cliente+Acme") == ["cliente@acme.com"]  # the user's name
    assert emails("?flt0_exitoso_equals=0") == ["intruso@example.com"]
    assert emails(f"?flt0_empresa_equals={empresa.id}") == ["cliente@acme.com"]
    assert emails("?flt0_tipo_equals=login&flt1_correo_contains=acme") == ["cliente@acme.com"]
    html = text_of(admin_panel.get("/panel/accesos/?search=cliente"))
    assert "Acme SAS" in html and "Cliente Acme &lt;cliente@acme.com&gt;" in html

    response = admin_panel.get("/panel/accesos/export/csv/?flt0_exitoso_equals=0")
    assert response.mimetype == "text/csv"
    header, *rows = text_of(response).strip().splitlines()
    assert header.startswith("Id,Fecha (UTC),Tipo,Exitoso,Correo,Usuario (id),Usuario,Empresa (id),"
                             "Empresa,IP")
    assert len(rows) == 1 and ",login,no,intruso@example.com," in rows[0]
    assert ",66.6.6.6," in rows[0] and rows[0].endswith(",password_incorrecta")


def test_the_access_log_is_read_only(admin_panel, db):
    row = _acceso(db, "x@example.com")
    assert admin_panel.get("/panel/accesos/new/").status_code == 302
    assert admin_panel.get(f"/panel/accesos/edit/?id={row.id}").status_code == 302
    token = page_token(admin_panel, "/panel/accesos/")
    admin_panel.post("/panel/accesos/delete/", data={"id": row.id, "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(LogAcceso, row.id) is not None


# ---------------------------------------------------------------- who may see them


def test_a_customer_cannot_sign_in(client, cliente):
    token = page_token(client, "/panel/login")
    response = client.post("/panel/login", data={"email": cliente.email, "password": "Secreta#123",
                                                 "csrf_token": token})
    assert response.status_code == 403 and client.get("/panel/auditoria/").status_code == 302
