"""The panel's catalogue screens: plans (with their services and quantities on a sub-form) and
services (with an Activar/Desactivar button), every change through catalogo.services: its
409 rules (a plan in use, a service included in a plan) show as errors."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.catalogo.models import Plan, PlanServicio, Servicio
from tests.panel.conftest import count_rows, fresh, page_token, submit, text_of

PLAN_FORM = {"nombre": "", "descripcion": "", "precio_mensual": "100.00", "precio_anual": "1000.00",
             "activo": "y"}
SERVICIO_FORM = {"nombre": "", "descripcion": "", "url_api": "", "activo": "y"}










def _servicio_id(db, nombre: str) -> int:
    return db.session.scalar(select(Servicio.id).where(Servicio.nombre == nombre))


# ---------------------------------------------------------------- plans: list and CSV

def test_plans_list_search_filter_and_csv(admin_panel, make_plan):
    make_plan(nombre="Básico", precio_mensual=Decimal("50.00"), servicios={"Facturas": 100})
    make_plan(nombre="Empresarial", precio_mensual=Decimal("300.00"),
              servicios={"Facturas": 1000, "Nómina": 50})
    make_plan(nombre="Legado", activo=False)

    html = text_of(admin_panel.get("/panel/planes/"))
    assert "Básico" in html and "Empresarial" in html and "Facturas × 1000; Nómina × 50" in html
    assert html.index("Básico") < html.index("Empresarial")  # cheapest first
    html = text_of(admin_panel.get("/panel/planes/?search=empre"))
    assert "Empresarial" in html and "Básico" not in html
    html = text_of(admin_panel.get("/panel/planes/?flt0_activo_equals=0"))
    assert "Legado" in html and "Básico" not in html

    response = admin_panel.get("/panel/planes/export/csv/?flt0_activo_equals=1")
    assert response.mimetype == "text/csv"
    header, *rows = text_of(response).strip().splitlines()
    assert header.startswith("Id,Nombre,Descripción,Precio mensual,Precio anual,Activo")
    assert len(rows) == 2 and any("Empresarial,,300.00,1000.00,sí,no,Facturas × 1000; Nómina × 50" in r
                                  for r in rows)


def test_plans_list_queries_do_not_grow_with_rows(admin_panel, make_plan, count_queries):
    make_plan(servicios={"Facturas": 1})
    with count_queries() as few:
        admin_panel.get("/panel/planes/")
    for n in range(8):
        make_plan(servicios={"Facturas": n + 1, f"Extra {n}": 1})
    with count_queries() as many:
        admin_panel.get("/panel/planes/")
    assert many["n"] == few["n"]


# ---------------------------------------------------------------- plans: create, edit, delete

def test_create_plan_through_the_service(admin_panel, admin, db, audit_rows):
    response = submit(admin_panel, "/panel/planes/new/",
                       {**PLAN_FORM, "nombre": " Pro ", "precio_mensual": "120.5", "seleccionado": "y"},
                       follow_redirects=True)
    assert response.status_code == 200
    plan = db.session.scalar(select(Plan))
    assert plan.nombre == "Pro" and plan.precio_mensual == Decimal("120.50") and plan.seleccionado
    [row] = audit_rows("planes", plan.id)
    assert row.accion.value == "crear" and row.usuario_id == admin.id


@pytest.mark.parametrize(("values", "message"), [
    ({"nombre": "Básico"}, "Ya existe un registro con el nombre «Básico»."),
    ({"nombre": "Negativo", "precio_mensual": "-1"}, "Debe ser mayor o igual a 0."),
    ({"nombre": "Centavos", "precio_anual": "10.555"}, "Máximo dos decimales."),
])
def test_create_plan_refused(admin_panel, make_plan, db, audit_rows, values, message):
    make_plan(nombre="Básico")
    response = submit(admin_panel, "/panel/planes/new/", {**PLAN_FORM, **values})
    assert response.status_code == 200 and message in text_of(response)
    assert count_rows(db, Plan) == 1 and audit_rows("planes") == []


def test_edit_plan(admin_panel, admin, make_plan, db, audit_rows):
    make_plan(nombre="Básico")
    plan = make_plan(nombre="Pro", precio_mensual=Decimal("100.00"))
    url = f"/panel/planes/edit/?id={plan.id}"
    response = submit(admin_panel, url, {**PLAN_FORM, "nombre": "Pro", "precio_mensual": "110.00"},
                       follow_redirects=True)
    assert response.status_code == 200
    assert fresh(db, Plan, plan.id).precio_mensual == Decimal("110.00")
    [row] = audit_rows("planes", plan.id)
    assert row.usuario_id == admin.id and row.valores_nuevos == {"precio_mensual": 110.0}

    response = submit(admin_panel, url, {**PLAN_FORM, "nombre": "Básico"})
    assert "Ya existe un registro con el nombre «Básico»." in text_of(response)
    assert fresh(db, Plan, plan.id).nombre == "Pro" and len(audit_rows("planes")) == 1


def test_delete_plan_in_use_is_refused(admin_panel, make_plan, make_empresa, make_suscripcion, db,
                                       audit_rows):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10})
    make_suscripcion(make_empresa(), plan)
    token = page_token(admin_panel, "/panel/planes/")
    response = admin_panel.post("/panel/planes/delete/", data={"id": plan.id, "csrf_token": token},
                                follow_redirects=True)
    assert "El plan tiene 1 suscripción(es); desactívelo en lugar de eliminarlo." in text_of(response)
    assert fresh(db, Plan, plan.id) is not None and count_rows(db, PlanServicio) == 1
    assert audit_rows("planes") == []


def test_delete_unused_plan(admin_panel, admin, make_plan, db, audit_rows):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10})
    servicio_id = _servicio_id(db, "Facturas")
    token = page_token(admin_panel, "/panel/planes/")
    admin_panel.post("/panel/planes/delete/", data={"id": plan.id, "csrf_token": token})
    assert fresh(db, Plan, plan.id) is None and count_rows(db, PlanServicio) == 0
    [row] = audit_rows("planes", plan.id)
    assert row.accion.value == "eliminar" and row.usuario_id == admin.id
    assert row.valores_anteriores["servicios"] == [{"id": servicio_id, "cantidad": 10}]


# ---------------------------------------------------------------- a plan's services

def test_plan_services_sub_form(admin_panel, admin, make_plan, db, audit_rows):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10, "Nómina": 5})
    otro = make_plan(nombre="Otro", servicios={"Soporte": 1})
    facturas, nomina, soporte = (_servicio_id(db, n) for n in ("Facturas", "Nómina", "Soporte"))
    url = f"/panel/planes/servicios/?id={plan.id}"
    html = text_of(admin_panel.get(url))
    assert "Servicios del plan Pro" in html
    assert f'name="servicio_{facturas}"' in html and 'value="10"' in html and 'value="5"' in html

    # Facturas changes, Nómina goes, Soporte comes: one audit row each.
    response = submit(admin_panel, url, {f"servicio_{facturas}": "20", f"servicio_{nomina}": "",
                                          f"servicio_{soporte}": "3"}, follow_redirects=True)
    assert "Se guardaron los servicios del plan." in text_of(response)
    db.session.expire_all()
    actuales = {ps.servicio_id: ps.cantidad for ps in db.session.scalars(
        select(PlanServicio).where(PlanServicio.plan_id == plan.id))}
    assert actuales == {facturas: 20, soporte: 3}
    rows = {r.registro_id: r for r in audit_rows("plan_servicios")}
    assert rows[f"{plan.id}:{facturas}"].accion.value == "actualizar"
    assert rows[f"{plan.id}:{nomina}"].accion.value == "eliminar"
    assert rows[f"{plan.id}:{soporte}"].accion.value == "crear"
    assert {r.usuario_id for r in rows.values()} == {admin.id}
    assert [ps.cantidad for ps in fresh(db, Plan, otro.id).plan_servicios] == [1]


def test_plan_services_sub_form_refuses_bad_quantities(admin_panel, make_plan, db, audit_rows):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10})
    facturas = _servicio_id(db, "Facturas")
    response = submit(admin_panel, f"/panel/planes/servicios/?id={plan.id}", {f"servicio_{facturas}": "0"})
    assert response.status_code == 200 and "Entero de 1 en adelante." in text_of(response)
    assert [ps.cantidad for ps in fresh(db, Plan, plan.id).plan_servicios] == [10]
    assert audit_rows("plan_servicios") == []


# ---------------------------------------------------------------- services

def test_services_list_search_filter_and_csv(admin_panel, make_plan, db):
    make_plan(servicios={"Facturas": 1, "Nómina": 1})
    nomina = db.session.get(Servicio, _servicio_id(db, "Nómina"))
    nomina.activo = False
    db.session.commit()

    html = text_of(admin_panel.get("/panel/servicios/?search=factu"))
    assert "Facturas" in html and "Nómina" not in html
    html = text_of(admin_panel.get("/panel/servicios/?flt0_activo_equals=0"))
    assert "Nómina" in html and "Facturas" not in html
    csv = text_of(admin_panel.get("/panel/servicios/export/csv/"))
    assert csv.startswith("Id,Nombre,Descripción,URL de la API,Activo")
    assert "Facturas,,/api/facturas,sí" in csv and "Nómina,,/api/nómina,no" in csv


def test_create_and_edit_service(admin_panel, admin, db, audit_rows):
    submit(admin_panel, "/panel/servicios/new/",
            {**SERVICIO_FORM, "nombre": "Facturas", "url_api": "/api/f"})
    servicio = db.session.scalar(select(Servicio))
    assert (servicio.nombre, servicio.url_api, servicio.activo) == ("Facturas", "/api/f", True)

    response = submit(admin_panel, "/panel/servicios/new/", {**SERVICIO_FORM, "nombre": "Facturas"})
    assert "Ya existe un registro con el nombre «Facturas»." in text_of(response)
    assert count_rows(db, Servicio) == 1

    submit(admin_panel, f"/panel/servicios/edit/?id={servicio.id}",
            {**SERVICIO_FORM, "nombre": "Facturación", "url_api": "/api/f"})
    assert fresh(db, Servicio, servicio.id).nombre == "Facturación"
    crear, editar = audit_rows("servicios", servicio.id)
    assert crear.accion.value == "crear" and editar.valores_nuevos == {"nombre": "Facturación"}
    assert {crear.usuario_id, editar.usuario_id} == {admin.id}


def test_service_toggle_button(admin_panel, admin, make_plan, db, audit_rows):
    make_plan(servicios={"Facturas": 1})
    servicio_id = _servicio_id(db, "Facturas")
    token = page_token(admin_panel, "/panel/servicios/")
    response = admin_panel.post(f"/panel/servicios/alternar/?id={servicio_id}", data={"csrf_token": token},
                                follow_redirects=True)
    assert "Se cambió el estado del servicio." in text_of(response)
    assert fresh(db, Servicio, servicio_id).activo is False
    [row] = audit_rows("servicios", servicio_id)
    assert row.valores_nuevos == {"activo": False} and row.usuario_id == admin.id


def test_delete_service_rule(admin_panel, admin, make_plan, db, audit_rows):
    make_plan(servicios={"Facturas": 1})
    incluido = _servicio_id(db, "Facturas")
    token = page_token(admin_panel, "/panel/servicios/")
    response = admin_panel.post("/panel/servicios/delete/", data={"id": incluido, "csrf_token": token},
                                follow_redirects=True)
    assert "El servicio está incluido en 1 plan(es)" in text_of(response)
    assert fresh(db, Servicio, incluido) is not None and audit_rows("servicios") == []

    submit(admin_panel, "/panel/servicios/new/", {**SERVICIO_FORM, "nombre": "Suelto"})
    suelto = _servicio_id(db, "Suelto")
    admin_panel.post("/panel/servicios/delete/", data={"id": suelto, "csrf_token": token})
    assert fresh(db, Servicio, suelto) is None
    assert [r.accion.value for r in audit_rows("servicios", suelto)] == ["crear", "eliminar"]


# ---------------------------------------------------------------- CSRF and access

@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_posts_without_a_valid_csrf_token_change_nothing(admin_panel, make_plan, db, audit_rows, token):
    plan = make_plan(nombre="Pro", servicios={"Facturas": 10})
    facturas = _servicio_id(db, "Facturas")
    page_token(admin_panel, "/panel/planes/")
    data = {} if token is None else {"csrf_token": token}

    response = admin_panel.post(f"/panel/servicios/alternar/?id={facturas}", data=data, follow_redirects=True)
    assert "El formulario no es válido o venció" in text_of(response)
    admin_panel.post(f"/panel/planes/servicios/?id={plan.id}", data={**data, f"servicio_{facturas}": "99"})
    admin_panel.post(f"/panel/planes/edit/?id={plan.id}", data={**data, **PLAN_FORM, "nombre": "Cambiado"})
    admin_panel.post("/panel/planes/new/", data={**data, **PLAN_FORM, "nombre": "Nuevo"})
    admin_panel.post("/panel/planes/delete/", data={**data, "id": plan.id})
    admin_panel.post("/panel/servicios/delete/", data={**data, "id": facturas})

    plan = fresh(db, Plan, plan.id)
    assert plan.nombre == "Pro" and [ps.cantidad for ps in plan.plan_servicios] == [10]
    assert fresh(db, Servicio, facturas).activo is True and count_rows(db, Plan) == 1
    assert audit_rows("planes") == [] and audit_rows("servicios") == [] and audit_rows("plan_servicios") == []


def test_soporte_and_anonymous_cannot_act(client, soporte_panel, make_plan, db):
    plan = make_plan(servicios={"Facturas": 10})
    facturas = _servicio_id(db, "Facturas")
    token = page_token(soporte_panel, "/panel/")
    for who, expected in ((soporte_panel, 403), (client, 302)):
        assert who.post(f"/panel/servicios/alternar/?id={facturas}",
                        data={"csrf_token": token}).status_code == expected
        assert who.post(f"/panel/planes/servicios/?id={plan.id}",
                        data={"csrf_token": token, f"servicio_{facturas}": "1"}).status_code == expected
        response = who.post("/panel/planes/delete/", data={"csrf_token": token, "id": plan.id})
        assert response.status_code == expected
    assert fresh(db, Servicio, facturas).activo is True
    assert [ps.cantidad for ps in fresh(db, Plan, plan.id).plan_servicios] == [10]


def test_a_customer_cannot_sign_in(client, cliente):
    token = page_token(client, "/panel/login")
    response = client.post("/panel/login", data={"email": cliente.email, "password": "Secreta#123",
                                                 "csrf_token": token})
    assert response.status_code == 403 and client.get("/panel/planes/").status_code == 302
