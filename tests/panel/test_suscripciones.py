"""The panel's subscription screen: list (filters empresa/estado/plan, search), CSV, creation
through services.crear, and the lifecycle buttons (renovar, suspender, reactivar, cancelar
with a motivo, descuento with a percentage) through the same services: the transition table
and the one-active-subscription rule hold and a refused move shows the service's message."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from backend.empresas.models import EstadoEmpresa
from backend.suscripciones.models import EstadoSuscripcion, Suscripcion
from tests.panel.conftest import page_token, submit, text_of

CELL = re.compile(r'<td class="col-empresa">\s*(.*?)\s*</td>')
ACTIVA, SUSPENDIDA = EstadoSuscripcion.ACTIVA, EstadoSuscripcion.SUSPENDIDA
CANCELADA, INACTIVA = EstadoSuscripcion.CANCELADA, EstadoSuscripcion.INACTIVA


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Suscripcion))


def _fresh(db, ident) -> Suscripcion:
    db.session.expire_all()
    return db.session.get(Suscripcion, ident)






def _press(client, accion: str, suscripcion_id: int):
    """Press a lifecycle button of the subscription's details page."""
    details = f"/panel/suscripciones/details/?id={suscripcion_id}"
    token = page_token(client, details)
    return client.post(f"/panel/suscripciones/{accion}/?id={suscripcion_id}&url={details}",
                       data={"csrf_token": token}, follow_redirects=True)


def _form(empresa, plan, **values) -> dict:
    data = {"empresa": str(empresa.id), "plan": str(plan.id), "periodo": "mensual", "fecha_inicio": "",
            "porcentaje_descuento": "0", "notas": ""}
    data.update(values)
    return data


@pytest.fixture
def plan(make_plan):
    return make_plan(nombre="Pro", precio_mensual=Decimal("100.00"), precio_anual=Decimal("1000.00"))


# ---------------------------------------------------------------- list, filters, CSV

def test_list_filters_search_and_csv(admin_panel, make_empresa, make_plan, make_suscripcion, plan):
    acme, beta = make_empresa(nombre="Acme SAS"), make_empresa(nombre="Beta Ltda")
    basico = make_plan(nombre="Básico")
    make_suscripcion(acme, plan, notas="acme-pro")
    make_suscripcion(beta, basico, estado="suspendida", notas="beta-basico")
    make_suscripcion(beta, plan, estado="cancelada", motivo_cancelacion="Cierre", notas="beta-pro")

    def listed(query: str) -> set[str]:
        """The companies in the list's rows (the filter's options name them all)."""
        return set(CELL.findall(text_of(admin_panel.get(f"/panel/suscripciones/{query}"))))

    assert listed("") == {"Acme SAS", "Beta Ltda"}
    assert listed(f"?flt0_empresa_equals={acme.id}") == {"Acme SAS"}
    assert listed("?flt0_estado_equals=suspendida") == {"Beta Ltda"}
    assert listed(f"?flt0_plan_equals={plan.id}&flt1_estado_equals=activa") == {"Acme SAS"}
    assert listed("?search=beta") == {"Beta Ltda"}
    assert listed("?flt0_estado_equals=zzz&flt1_empresa_equals=x") == {"Acme SAS", "Beta Ltda"}  # ignored

    response = admin_panel.get(f"/panel/suscripciones/export/csv/?flt0_empresa_equals={beta.id}")
    assert response.mimetype == "text/csv"
    header, *rows = text_of(response).strip().splitlines()
    assert header.startswith("Id,Empresa,Plan,Periodo,Estado,Inicio,Fin,Precio")
    assert len(rows) == 2
    assert any(",Beta Ltda,Pro,mensual,cancelada," in r and ",Cierre,beta-pro," in r for r in rows)
    assert any(",Beta Ltda,Básico,mensual,suspendida," in r for r in rows)


def test_buttons_follow_the_transition_table(admin_panel, make_empresa, make_suscripcion, plan):
    activa = make_suscripcion(make_empresa(), plan)
    suspendida = make_suscripcion(make_empresa(), plan, estado="suspendida")
    cancelada = make_suscripcion(make_empresa(), plan, estado="cancelada")

    def buttons(suscripcion) -> set[str]:
        html = text_of(admin_panel.get(f"/panel/suscripciones/details/?id={suscripcion.id}"))
        return {a for a in ("renovar", "suspender", "reactivar", "cancelar", "descuento")
                if f"/panel/suscripciones/{a}/?id={suscripcion.id}" in html}

    assert buttons(activa) == {"renovar", "suspender", "cancelar", "descuento"}
    assert buttons(suspendida) == {"reactivar", "cancelar", "descuento"}
    assert buttons(cancelada) == set()


# ---------------------------------------------------------------- create

def test_create_through_the_service(admin_panel, admin, empresa, plan, db, audit_rows):
    response = submit(admin_panel, "/panel/suscripciones/new/",
                       _form(empresa, plan, fecha_inicio="2030-01-15", porcentaje_descuento="10",
                             renovacion_automatica="y", notas="Cliente grande"), follow_redirects=True)
    assert response.status_code == 200
    suscripcion = db.session.scalar(select(Suscripcion))
    assert suscripcion.estado == ACTIVA and suscripcion.empresa_id == empresa.id
    assert (suscripcion.fecha_inicio, suscripcion.fecha_fin) == (date(2030, 1, 15), date(2030, 2, 14))
    assert suscripcion.precio_pagado == Decimal("90.00") and suscripcion.creado_por == admin.id
    assert suscripcion.renovacion_automatica and suscripcion.notas == "Cliente grande"
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.accion.value == "crear" and row.usuario_id == admin.id


def test_create_refused_when_the_company_has_an_active_one(admin_panel, empresa, plan, make_suscripcion, db,
                                                           audit_rows):
    actual = make_suscripcion(empresa, plan)
    response = submit(admin_panel, "/panel/suscripciones/new/", _form(empresa, plan))
    assert response.status_code == 200
    assert f"La empresa ya tiene una suscripción activa (id {actual.id})" in text_of(response)
    assert _count(db) == 1 and audit_rows("suscripciones") == []


@pytest.mark.parametrize(("setup", "message"), [
    ("plan_inactivo", "El plan no está activo."),
    ("empresa_inactiva", "La empresa está inactiva"),
])
def test_create_refused_by_other_rules(admin_panel, empresa, plan, db, audit_rows, setup, message):
    if setup == "plan_inactivo":
        plan.activo = False
    else:
        empresa.estado = EstadoEmpresa.INACTIVA
    db.session.commit()
    response = submit(admin_panel, "/panel/suscripciones/new/", _form(empresa, plan))
    assert response.status_code == 200 and message in text_of(response)
    assert _count(db) == 0 and audit_rows("suscripciones") == []


@pytest.mark.parametrize(("porcentaje", "message"), [("120", "Debe estar entre 0 y 100."),
                                                     ("sNaN", "Debe ser un número.")])
def test_create_refused_by_the_form(admin_panel, empresa, plan, db, porcentaje, message):
    response = submit(admin_panel, "/panel/suscripciones/new/",
                       _form(empresa, plan, porcentaje_descuento=porcentaje))
    assert response.status_code == 200 and message in text_of(response)
    assert _count(db) == 0


def test_no_edit_and_no_delete(admin_panel, empresa, plan, make_suscripcion, db):
    suscripcion = make_suscripcion(empresa, plan)
    token = page_token(admin_panel, "/panel/suscripciones/")
    admin_panel.post(f"/panel/suscripciones/edit/?id={suscripcion.id}",
                     data={"csrf_token": token, "notas": "editada"})
    admin_panel.post("/panel/suscripciones/delete/", data={"csrf_token": token, "id": suscripcion.id})
    suscripcion = _fresh(db, suscripcion.id)
    assert suscripcion is not None and suscripcion.notas is None


# ---------------------------------------------------------------- lifecycle buttons

def test_suspend_reactivate_and_renew(admin_panel, admin, empresa, plan, make_suscripcion, db, audit_rows):
    fin = date.today() + timedelta(days=10)
    suscripcion = make_suscripcion(empresa, plan, fecha_fin=fin)

    response = _press(admin_panel, "suspender", suscripcion.id)
    assert "La suscripción quedó suspendida." in text_of(response)
    assert _fresh(db, suscripcion.id).estado == SUSPENDIDA
    response = _press(admin_panel, "reactivar", suscripcion.id)
    assert "La suscripción quedó activa." in text_of(response)
    assert _fresh(db, suscripcion.id).estado == ACTIVA
    response = _press(admin_panel, "renovar", suscripcion.id)
    assert "La suscripción se renovó." in text_of(response)
    renovada = _fresh(db, suscripcion.id)
    assert renovada.fecha_fin > fin + timedelta(days=27) and renovada.estado == ACTIVA

    rows = audit_rows("suscripciones", suscripcion.id)
    assert [r.valores_nuevos.get("estado") for r in rows] == ["suspendida", "activa", None]
    assert "fecha_fin" in rows[2].valores_nuevos
    assert {r.usuario_id for r in rows} == {admin.id}


def test_an_invalid_move_shows_the_services_message(admin_panel, empresa, plan, make_suscripcion, db,
                                                    audit_rows):
    suscripcion = make_suscripcion(empresa, plan, estado="suspendida")
    response = _press(admin_panel, "renovar", suscripcion.id)  # a stale page: renovar needs activa
    html = text_of(response)
    assert "No se puede aplicar «renovar» a una suscripción en estado suspendida." in html
    assert "estados_permitidos: activa" in html
    assert _fresh(db, suscripcion.id).estado == SUSPENDIDA and audit_rows("suscripciones") == []


def test_reactivating_while_another_is_active_is_refused(admin_panel, empresa, plan, make_suscripcion, db,
                                                         audit_rows):
    activa = make_suscripcion(empresa, plan)
    suspendida = make_suscripcion(empresa, plan, estado="suspendida")
    response = _press(admin_panel, "reactivar", suspendida.id)
    assert f"La empresa ya tiene una suscripción activa (id {activa.id})" in text_of(response)
    assert _fresh(db, suspendida.id).estado == SUSPENDIDA and audit_rows("suscripciones") == []


def test_cancel_with_a_reason(admin_panel, admin, empresa, plan, make_suscripcion, db, audit_rows):
    suscripcion = make_suscripcion(empresa, plan)
    url = f"/panel/suscripciones/cancelar/?id={suscripcion.id}"
    assert "La cancelación es definitiva." in text_of(admin_panel.get(url))
    response = submit(admin_panel, url, {"motivo": "  Cambió de proveedor "}, follow_redirects=True)
    assert "La suscripción quedó cancelada." in text_of(response)
    cancelada = _fresh(db, suscripcion.id)
    assert cancelada.estado == CANCELADA and cancelada.motivo_cancelacion == "Cambió de proveedor"
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.usuario_id == admin.id
    assert row.valores_nuevos == {"estado": "cancelada", "motivo_cancelacion": "Cambió de proveedor",
                                  "empresa_activa_id": None}

    response = submit(admin_panel, url, {"motivo": "otra vez"})  # cancelada is final
    assert "No se puede aplicar «cancelar» a una suscripción en estado cancelada." in text_of(response)
    assert _fresh(db, suscripcion.id).motivo_cancelacion == "Cambió de proveedor"


def test_discount_with_a_percentage(admin_panel, admin, empresa, plan, make_suscripcion, db, audit_rows):
    suscripcion = make_suscripcion(empresa, plan)
    url = f"/panel/suscripciones/descuento/?id={suscripcion.id}"
    response = submit(admin_panel, url, {"porcentaje": "25"}, follow_redirects=True)
    assert "Se cambió el descuento." in text_of(response)
    con_descuento = _fresh(db, suscripcion.id)
    assert con_descuento.porcentaje_descuento == Decimal("25.00")
    assert con_descuento.precio_pagado == Decimal("75.00")
    [row] = audit_rows("suscripciones", suscripcion.id)
    assert row.usuario_id == admin.id and row.valores_nuevos == {"porcentaje_descuento": 25.0,
                                                                 "precio_pagado": 75.0}

    for porcentaje, message in (("101", "Debe estar entre 0 y 100."), ("sNaN", "Debe ser un número."),
                                ("Infinity", "Debe ser un número.")):
        response = submit(admin_panel, url, {"porcentaje": porcentaje})
        assert response.status_code == 200 and message in text_of(response)
    assert _fresh(db, suscripcion.id).porcentaje_descuento == Decimal("25.00")
    assert len(audit_rows("suscripciones", suscripcion.id)) == 1


# ---------------------------------------------------------------- CSRF and access

@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_posts_without_a_valid_csrf_token_change_nothing(admin_panel, empresa, make_empresa, plan,
                                                         make_suscripcion, db, audit_rows, token):
    suscripcion = make_suscripcion(empresa, plan)
    otra = make_empresa()
    page_token(admin_panel, "/panel/suscripciones/")
    data = {} if token is None else {"csrf_token": token}

    for accion in ("suspender", "renovar"):
        response = admin_panel.post(f"/panel/suscripciones/{accion}/?id={suscripcion.id}", data=data,
                                    follow_redirects=True)
        assert "El formulario no es válido o venció" in text_of(response)
    admin_panel.post(f"/panel/suscripciones/cancelar/?id={suscripcion.id}", data={**data, "motivo": "x"})
    admin_panel.post(f"/panel/suscripciones/descuento/?id={suscripcion.id}",
                     data={**data, "porcentaje": "50"})
    admin_panel.post("/panel/suscripciones/new/", data={**data, **_form(otra, plan)})

    after = _fresh(db, suscripcion.id)
    assert (after.estado, after.fecha_fin, after.porcentaje_descuento) == (ACTIVA, suscripcion.fecha_fin,
                                                                          Decimal("0.00"))
    assert _count(db) == 1 and audit_rows("suscripciones") == []


def test_soporte_and_anonymous_cannot_act(client, soporte_panel, empresa, plan, make_suscripcion, db):
    suscripcion = make_suscripcion(empresa, plan)
    token = page_token(soporte_panel, "/panel/")
    for who, expected in ((soporte_panel, 403), (client, 302)):
        for accion in ("suspender", "renovar", "cancelar", "descuento"):
            response = who.post(f"/panel/suscripciones/{accion}/?id={suscripcion.id}",
                                data={"csrf_token": token, "motivo": "x", "porcentaje": "50"})
            assert response.status_code == expected, accion
    after = _fresh(db, suscripcion.id)
    assert after.estado == ACTIVA and after.porcentaje_descuento == Decimal("0.00")


def test_a_customer_cannot_sign_in(client, cliente):
    token = page_token(client, "/panel/login")
    response = client.post("/panel/login", data={"email": cliente.email, "password": "Secreta#123",
                                                 "csrf_token": token})
    assert response.status_code == 403 and client.get("/panel/suscripciones/").status_code == 302
