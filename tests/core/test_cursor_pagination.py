"""core.pagination: following `next_cursor` reads every row of a list exactly once, in the
list's order and with its filters; `page` answers as the contract says; a bad, tampered or
foreign cursor is a 422 envelope; `total` is exact up to `TOTAL_CAP` and a flagged lower bound
beyond it."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from backend.catalogo.models import Plan
from backend.core import audit, pagination
from backend.core.audit import AccionAuditoria, Auditoria
from backend.core.pagination import paginate
from backend.empresas.models import Empresa, EstadoEmpresa
from backend.soporte.models import EstadoTicket, Modalidad, SoporteSuscripcion, SoporteTicket, SoporteTipo
from backend.suscripciones.models import Suscripcion
from tests.conftest import assert_error

API_KEY = "test-global-api-key"


def follow(client, url: str, headers: dict, per_page: int) -> tuple[list[int], list[dict]]:
    """Every id reached from the first page by `next_cursor`, and every answer."""
    sep = "&" if "?" in url else "?"
    answers = [client.get(f"{url}{sep}per_page={per_page}", headers=headers).get_json()]
    while "next_cursor" in answers[-1]:
        assert len(answers) < 100, "the cursor never ends"
        response = client.get(f"{url}{sep}per_page={per_page}&cursor={answers[-1]['next_cursor']}",
                              headers=headers)
        assert response.status_code == 200, response.get_json()
        answers.append(response.get_json())
    return [item["id"] for answer in answers for item in answer["items"]], answers


@pytest.fixture
def audit_rows(db):
    """23 audit rows of `empresas` and 11 of `planes`, interleaved."""
    with audit.disabled():
        for i in range(34):
            db.session.add(Auditoria(tabla="planes" if i % 3 == 2 else "empresas", registro_id=str(i),
                                     accion=AccionAuditoria.CREAR, valores_nuevos={"n": i}))
        db.session.commit()


def test_cursor_reads_the_audit_trail_newest_first_each_row_once(client, db, admin_headers, audit_rows):
    everything = list(db.session.scalars(select(Auditoria.id).order_by(Auditoria.id.desc())))
    ids, answers = follow(client, "/admin/auditoria", admin_headers, per_page=4)
    assert ids == everything and len(set(ids)) == len(ids)
    assert [a["page"] for a in answers] == list(range(1, len(answers) + 1))
    assert all(a["total"] == len(everything) and a["per_page"] == 4 for a in answers)
    assert len(answers[-1]["items"]) == (len(everything) % 4 or 4)

    planes = list(db.session.scalars(select(Auditoria.id).where(Auditoria.tabla == "planes")
                                     .order_by(Auditoria.id.desc())))
    ids, answers = follow(client, "/admin/auditoria?tabla=planes", admin_headers, per_page=3)
    assert ids == planes and len(planes) == 11 and len(answers) == 4
    assert all(a["total"] == 11 for a in answers)


def test_cursor_pages_are_the_offset_pages(client, admin_headers, audit_rows):
    by_page = [client.get(f"/admin/auditoria?per_page=5&page={p}", headers=admin_headers).get_json()
               for p in (1, 2, 3)]
    second = client.get(f"/admin/auditoria?per_page=5&cursor={by_page[0]['next_cursor']}",
                        headers=admin_headers).get_json()
    third = client.get(f"/admin/auditoria?per_page=5&cursor={second['next_cursor']}",
                       headers=admin_headers).get_json()
    assert second["items"] == by_page[1]["items"] and second["page"] == 2
    assert third["items"] == by_page[2]["items"] and third["page"] == 3
    # `page` is ignored next to a cursor; `per_page` may change between pages.
    again = client.get(f"/admin/auditoria?per_page=5&page=7&cursor={by_page[0]['next_cursor']}",
                       headers=admin_headers).get_json()
    assert again["items"] == by_page[1]["items"]
    wider = client.get(f"/admin/auditoria?per_page=10&cursor={by_page[0]['next_cursor']}",
                       headers=admin_headers).get_json()
    assert wider["items"] == by_page[1]["items"] + by_page[2]["items"]


def test_page_answers_stay_the_contract(client, admin_headers, make_empresa):
    for n in range(5):
        make_empresa(nombre=f"Alfa {n}")
    last = client.get("/admin/empresas?per_page=2&page=3", headers=admin_headers).get_json()
    assert set(last) == {"items", "total", "page", "per_page"}  # no next page, exact total
    assert (last["total"], last["page"], last["per_page"], len(last["items"])) == (5, 3, 2, 1)
    middle = client.get("/admin/empresas?per_page=2&page=2", headers=admin_headers).get_json()
    assert set(middle) == {"items", "total", "page", "per_page", "next_cursor"}
    beyond = client.get("/admin/empresas?per_page=2&page=9", headers=admin_headers).get_json()
    assert beyond == {"items": [], "total": 5, "page": 9, "per_page": 2}
    assert client.get("/admin/empresas", headers=admin_headers).get_json()["per_page"] == 20


def test_cursor_with_search_and_filters_companies_oldest_first(client, db, admin_headers, make_empresa):
    for n in range(14):
        make_empresa(nombre=f"{'Alfa' if n % 2 else 'Beta'} {n}",
                     estado=EstadoEmpresa.INACTIVA if n % 4 == 1 else EstadoEmpresa.ACTIVA)
    alfa = [e.id for e in db.session.scalars(select(Empresa).order_by(Empresa.id)) if "Alfa" in e.nombre]
    ids, _ = follow(client, "/admin/empresas?q=alfa", admin_headers, per_page=2)
    assert ids == alfa and len(alfa) == 7
    inactivas_alfa = [e.id for e in db.session.scalars(select(Empresa).order_by(Empresa.id))
                      if "Alfa" in e.nombre and e.estado == EstadoEmpresa.INACTIVA]
    ids, _ = follow(client, "/admin/empresas?q=alfa&estado=inactiva", admin_headers, per_page=1)
    assert ids == inactivas_alfa and len(ids) == 4


def _tickets(db, empresa, otra, n: int) -> None:
    with audit.disabled():
        tipo = SoporteTipo(nombre="Base", modalidad=Modalidad.POR_TICKETS, precio=Decimal("1.00"),
                           max_tickets=1000)
        plan = Plan(nombre="P", precio_mensual=Decimal("1.00"), precio_anual=Decimal("10.00"))
        db.session.add_all([tipo, plan])
        db.session.flush()
        for e in (empresa, otra):
            s = Suscripcion(empresa_id=e.id, plan_id=plan.id, periodo="mensual", estado="activa",
                            fecha_inicio=date.today(), fecha_fin=date.today() + timedelta(days=29),
                            precio_pagado=Decimal("1.00"))
            db.session.add(s)
            db.session.flush()
            db.session.add(SoporteSuscripcion(empresa_id=e.id, suscripcion_id=s.id, soporte_tipo_id=tipo.id,
                                              fecha_inicio=date.today(), precio_actual=Decimal("1.00"),
                                              fecha_fin=date.today() + timedelta(days=29)))
        for i in range(n):
            db.session.add(SoporteTicket(empresa_id=(empresa if i % 3 else otra).id, titulo=f"T{i}",
                                         descripcion="d", estado=EstadoTicket.CERRADO if i % 2 else
                                         EstadoTicket.ABIERTO))
        db.session.commit()


def test_cursor_through_ticket_lists(client, db, admin_headers, empresa, make_empresa):
    otra = make_empresa()
    _tickets(db, empresa, otra, 19)
    newest_first = select(SoporteTicket.id).order_by(SoporteTicket.id.desc())
    abiertos = list(db.session.scalars(newest_first.where(SoporteTicket.estado == EstadoTicket.ABIERTO)))
    ids, _ = follow(client, "/admin/soporte-tickets?estado=abierto", admin_headers, per_page=3)
    assert ids == abiertos and len(ids) == 10
    propios = list(db.session.scalars(newest_first.where(SoporteTicket.empresa_id == empresa.id)))
    headers = {"X-API-Key": API_KEY, "X-Empresa-Id": str(empresa.id)}
    ids, _ = follow(client, "/api/internal/support/tickets", headers, per_page=4)
    assert ids == propios and len(ids) == 12


def test_keyset_on_a_non_unique_order_ties_broken_by_the_primary_key(app, db, make_empresa):
    for n in range(11):
        make_empresa(estado=EstadoEmpresa.INACTIVA if n % 3 else EstadoEmpresa.ACTIVA)
    stmt = select(Empresa).order_by(Empresa.estado.desc())
    expected = [e.id for e in db.session.scalars(stmt.order_by(Empresa.id))]
    seen, cursor = [], None
    with app.test_request_context():
        while True:
            answer = paginate(stmt, per_page=2, cursor=cursor)
            seen += [e.id for e in answer["items"]]
            cursor = answer.get("next_cursor")
            if cursor is None:
                break
    assert seen == expected


@pytest.mark.parametrize("mangle", [
    lambda c: "no-es-un-cursor",
    lambda c: c[:-2] + ("AA" if c[-2:] != "AA" else "BB"),  # signature changed
    lambda c: ("x" if c[0] != "x" else "y") + c[1:],  # payload changed, signature kept
    lambda c: c[: len(c) // 2],  # cut short
])
def test_malformed_or_tampered_cursor_is_422(client, admin_headers, audit_rows, mangle):
    cursor = client.get("/admin/auditoria?per_page=2", headers=admin_headers).get_json()["next_cursor"]
    response = client.get(f"/admin/auditoria?per_page=2&cursor={mangle(cursor)}", headers=admin_headers)
    body = assert_error(response, 422, "validacion")
    assert list(body["details"]) == ["cursor"]


def test_cursor_of_another_list_or_other_filters_is_refused(client, admin_headers, audit_rows, make_empresa):
    for _ in range(3):
        make_empresa()
    of_companies = client.get("/admin/empresas?per_page=1", headers=admin_headers).get_json()["next_cursor"]
    body = assert_error(client.get(f"/admin/auditoria?cursor={of_companies}", headers=admin_headers),
                        422, "validacion")
    assert "otra lista" in body["details"]["cursor"][0]
    of_planes = client.get("/admin/auditoria?tabla=planes&per_page=2",
                           headers=admin_headers).get_json()["next_cursor"]
    assert_error(client.get(f"/admin/auditoria?tabla=empresas&cursor={of_planes}", headers=admin_headers),
                 422, "validacion")
    assert client.get(f"/admin/auditoria?tabla=planes&cursor={of_planes}",
                      headers=admin_headers).status_code == 200


def test_total_is_exact_up_to_the_cap_then_a_flagged_lower_bound(client, admin_headers, audit_rows,
                                                                   monkeypatch):
    # 34 rows (and the admin's own audit row): a cap of 10 makes the list "huge".
    total = client.get("/admin/auditoria", headers=admin_headers).get_json()["total"]
    assert total >= 34
    monkeypatch.setattr(pagination, "TOTAL_CAP", 10)
    first = client.get("/admin/auditoria?per_page=4", headers=admin_headers).get_json()
    assert (first["total"], first["total_exact"]) == (10, False)
    deep = client.get("/admin/auditoria?per_page=4&page=5", headers=admin_headers).get_json()
    assert (deep["total"], deep["total_exact"]) == (20, False)  # the rows up to this page's end
    last_page = -(-total // 4)
    last = client.get(f"/admin/auditoria?per_page=4&page={last_page}", headers=admin_headers).get_json()
    if total % 4:  # a partial last page tells the exact total
        assert last["total"] == total and "total_exact" not in last
    by_cursor = client.get(f"/admin/auditoria?per_page=4&cursor={first['next_cursor']}",
                           headers=admin_headers).get_json()
    assert (by_cursor["total"], by_cursor["total_exact"]) == (10, False)
    small = client.get("/admin/auditoria?tabla=planes", headers=admin_headers).get_json()
    assert small["total"] == 11 and "total_exact" not in small  # over the cap, but one page: exact
    tiny = client.get("/admin/auditoria?tabla=nada", headers=admin_headers).get_json()
    assert tiny == {"items": [], "total": 0, "page": 1, "per_page": 20}


def test_cursor_request_runs_as_many_statements_as_a_page(client, db, admin_headers, audit_rows,
                                                          count_queries):
    first = client.get("/admin/auditoria?per_page=3", headers=admin_headers).get_json()
    db.session.expire_all()
    with count_queries() as by_page:
        client.get("/admin/auditoria?per_page=3&page=2", headers=admin_headers)
    db.session.expire_all()
    with count_queries() as by_cursor:
        client.get(f"/admin/auditoria?per_page=3&cursor={first['next_cursor']}", headers=admin_headers)
    assert by_cursor["n"] == by_page["n"]


def test_spec_documents_cursor_and_the_page_keys(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/admin/auditoria", "/admin/empresas", "/admin/usuarios", "/admin/soporte-tickets",
                 "/api/internal/support/tickets"):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"] if p["in"] == "query"}
        assert {"page", "per_page", "cursor"} <= names, path
    page = spec["components"]["schemas"]["AuditoriaPage"]["properties"]
    assert {"items", "total", "page", "per_page", "next_cursor", "total_exact"} <= set(page)
    assert "10,000" in page["total"]["description"]


@pytest.mark.parametrize("url,headers", [
    ("/public/planes", {}), ("/api/planes", {"X-API-Key": API_KEY}), ("/public/servicios", {}),
])
def test_every_list_that_offers_a_cursor_takes_it(client, make_plan, url, headers):
    """A `next_cursor` is only useful where `?cursor=` is read: following it from the public
    and licence catalogues reaches every row once (plans ordered by price, ties by id)."""
    from decimal import Decimal

    for n in range(7):
        make_plan(servicios={f"Servicio {n}": 1}, precio_mensual=Decimal(f"{n % 3}0.00"))
    ids, answers = follow(client, url, headers, per_page=3)
    expected = client.get(f"{url}?per_page=100", headers=headers).get_json()
    assert len(answers) == 3 and ids == [item["id"] for item in expected["items"]]
    assert len(set(ids)) == len(ids) == expected["total"] >= 7
