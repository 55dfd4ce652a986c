"""Word-prefix search (core.search): the normalisation, `?q=` on companies, users and tickets,
the terms kept by the session hook (insert, update, delete, rollback), `flask search reindex`,
and (MariaDB) the search subquery read as a range of the terms index."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import insert, select, text

from backend.core.search import (
    QUERY_PARTS_MAX,
    TERM_MAX,
    TERMS_MAX,
    Search,
    TerminoBusqueda,
    query_prefixes,
    terms,
)
from backend.empresas.models import Empresa
from backend.identity.models import Usuario
from backend.soporte.models import SoporteTicket

MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")


def _terms(db, tabla: str, registro_id: int) -> set[str]:
    return set(db.session.scalars(select(TerminoBusqueda.termino).where(
        TerminoBusqueda.tabla == tabla, TerminoBusqueda.registro_id == registro_id)))


# ---------------------------------------------------------------- normalisation

def test_terms_fold_accents_and_case_and_split_on_anything_else():
    assert terms(["Comercializadora MEDELLÍN Ñandú", None, "ﬁnca Straße"]) == [
        "comercializadora", "medellin", "nandu", "finca", "strasse"]
    assert terms(["a_b%c"]) == ["a", "b", "c", "abc", "bc"]


def test_terms_keep_a_pasted_nit_and_email_whole():
    assert terms(["900123456-7"]) == ["900123456", "7", "9001234567"]
    assert terms(["900.123.456-7"]) == ["900", "123", "456", "7", "9001234567", "1234567", "4567"]
    assert terms(["carla@acme.com"]) == ["carla", "acme", "com", "carlaacmecom", "acmecom"]


def test_terms_are_capped_in_length_and_number():
    assert terms(["x" * 100]) == ["x" * TERM_MAX]
    many = terms([" ".join(f"palabra{i}" for i in range(500))])
    assert len(many) == TERMS_MAX and many[0] == "palabra0"


def test_query_prefixes():
    assert query_prefixes(None) is None and query_prefixes("   ") is None
    assert query_prefixes("%") == [] and query_prefixes(" _ -- . ") == []
    assert query_prefixes("Medellín,  ACME") == ["medellin", "acme"]
    assert query_prefixes("900.123.456-7") == ["9001234567"]
    assert query_prefixes("carla@acme.com") == ["carlaacmecom"]
    assert query_prefixes("fac factura") == ["factura"]  # "fac" is implied by "factura"
    assert len(query_prefixes(" ".join(f"p{i}" for i in range(20)))) == QUERY_PARTS_MAX


# ---------------------------------------------------------------- ?q= on the lists

@pytest.fixture
def empresas(make_empresa):
    return {
        "medellin": make_empresa(nit="900123456-7", nombre="Comercializadora Medellín S.A.S."),
        "bogota": make_empresa(nit="800.765.432-1", nombre="Acme Bogotá Ltda"),
        "acme": make_empresa(nit="811111111", nombre="ACME Medellín Logística"),
    }


def _ids(client, headers, url: str) -> list[int]:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


@pytest.mark.parametrize(("q", "expected"), [
    ("medellin", ["medellin", "acme"]),          # accents and case
    ("MEDELLÍN", ["medellin", "acme"]),
    ("medell", ["medellin", "acme"]),            # the beginning of a word
    ("dellin", []),                              # the middle of a word: no
    ("acme medellin", ["acme"]),                 # every part (AND)
    ("medellin   comercial", ["medellin"]),
    ("acme zzz", []),
    ("900123456-7", ["medellin"]),               # a NIT as stored
    ("900.123.456-7", ["medellin"]),             # with dots
    ("900123456", ["medellin"]),                 # without the check digit
    ("900.123.456", ["medellin"]),
    ("9001234567", ["medellin"]),                # without separators
    ("800765432-1", ["bogota"]),                 # stored with dots, pasted without
    ("8007654321", ["bogota"]),
    ("765", ["bogota"]),                         # a group of a NIT written with dots
    ("23456", []),                               # the middle of a number: no
    ("s.a.s", ["medellin"]),
    ("%", []), ("_", []), ("-.-", []),           # no word at all: nothing
    ("  ", ["medellin", "bogota", "acme"]),      # blank: no filter
])
def test_company_search(client, admin_headers, empresas, q, expected):
    url = "/admin/empresas?q=" + q.replace("%", "%25")
    assert _ids(client, admin_headers, url) == [empresas[k].id for k in expected]


@pytest.mark.parametrize(("q", "expected"), [
    ("carla@acme.com", ["carla"]),               # an email whole
    ("CARLA@ACME.COM", ["carla"]),
    ("carla@acme", ["carla"]),
    ("acme.com", ["carla", "cesar"]),            # its domain
    ("acme", ["carla", "cesar", "acmeo"]),
    ("carla", ["carla"]),
    ("arla", []),
    ("perez", ["carla"]),                        # "Pérez" in the name
    ("cesar", ["cesar"]),                        # "César"
    ("carla acme", ["carla"]),
])
def test_user_search(client, admin, admin_headers, make_usuario, q, expected):
    users = {
        "carla": make_usuario(nombre="Carla Pérez", email="carla@acme.com"),
        "cesar": make_usuario(nombre="César Ruiz", email="cesar.ruiz@acme.com.co"),
        "acmeo": make_usuario(nombre="Ana Acmeó", email="ana@otra.org"),
    }
    assert _ids(client, admin_headers, f"/admin/usuarios?q={q}") == [users[k].id for k in expected]


def test_ticket_search_title_and_description(client, admin_headers, empresa, db):
    a = SoporteTicket(empresa_id=empresa.id, titulo="Error al facturar", descripcion="Sale un error 500.")
    b = SoporteTicket(empresa_id=empresa.id, titulo="Lentitud", descripcion="La FACTURACIÓN tarda.")
    db.session.add_all([a, b])
    db.session.commit()
    url = "/admin/soporte-tickets?q="
    assert _ids(client, admin_headers, url + "factur") == [b.id, a.id]
    assert _ids(client, admin_headers, url + "facturacion tarda") == [b.id]
    assert _ids(client, admin_headers, url + "error 50") == [a.id]
    assert _ids(client, admin_headers, url + "turar") == []


def test_search_composes_with_filters_and_cursor(client, admin_headers, make_empresa):
    from backend.empresas.models import EstadoEmpresa

    made = [make_empresa(nombre=f"Andina {i}", estado=EstadoEmpresa.INACTIVA if i % 2 else
                         EstadoEmpresa.ACTIVA) for i in range(5)]
    make_empresa(nombre="Caribe")
    body = client.get("/admin/empresas?q=andina&per_page=2", headers=admin_headers).get_json()
    seen = [e["id"] for e in body["items"]]
    while "next_cursor" in body:
        body = client.get(f"/admin/empresas?q=andina&per_page=2&cursor={body['next_cursor']}",
                          headers=admin_headers).get_json()
        seen += [e["id"] for e in body["items"]]
    assert seen == [e.id for e in made] and body["total"] == 5
    inactive = _ids(client, admin_headers, "/admin/empresas?q=andina&estado=inactiva")
    assert inactive == [made[1].id, made[3].id]


# ---------------------------------------------------------------- the terms kept

def test_terms_follow_insert_update_and_delete(db, empresa):
    assert _terms(db, "empresas", empresa.id) >= {"acme", "900123456", "9001234567"}
    empresa.nombre = "Zeta Global"
    db.session.commit()
    found = _terms(db, "empresas", empresa.id)
    assert {"zeta", "global"} <= found and "acme" not in found
    empresa.email = "otro@zeta.com"  # not a searched column: terms untouched
    db.session.commit()
    assert _terms(db, "empresas", empresa.id) == found
    usuario = Usuario(nombre="Borrable", email="borrable@example.com", password_hash="x", rol="cliente")
    db.session.add(usuario)
    db.session.commit()
    assert "borrable" in _terms(db, "usuarios", usuario.id)
    db.session.delete(usuario)
    db.session.commit()
    assert _terms(db, "usuarios", usuario.id) == set()


def test_terms_of_a_rolled_back_change_are_gone(db, empresa):
    before = _terms(db, "empresas", empresa.id)
    nueva = Empresa(nit="700111222-3", nombre="Fantasma")
    db.session.add(nueva)
    empresa.nombre = "Cambio Deshecho"
    db.session.flush()
    nueva_id = nueva.id
    assert "fantasma" in _terms(db, "empresas", nueva_id)
    db.session.rollback()
    assert _terms(db, "empresas", nueva_id) == set()
    assert _terms(db, "empresas", empresa.id) == before
    assert db.session.scalars(Search(Empresa, "fantasma").apply(select(Empresa))).all() == []


def test_updated_company_is_found_by_its_new_name_only(client, admin_headers, empresa):
    response = client.put(f"/admin/empresas/{empresa.id}", json={"nombre": "Quimbaya Andina"},
                          headers=admin_headers)
    assert response.status_code == 200
    assert _ids(client, admin_headers, "/admin/empresas?q=quimb") == [empresa.id]
    assert _ids(client, admin_headers, "/admin/empresas?q=acme") == []


def test_reindex_command_rebuilds_terms_of_rows_loaded_outside_the_orm(db, runner, empresa):
    db.session.execute(insert(Empresa).values(nit="123456789-0", nombre="Cargada Por Lote",
                                              estado="activa", created_at=empresa.created_at,
                                              updated_at=empresa.created_at))
    db.session.execute(insert(TerminoBusqueda).values(tabla="empresas", termino="huerfano",
                                                      registro_id=999_999))
    db.session.commit()
    loaded = db.session.scalar(select(Empresa.id).where(Empresa.nit == "123456789-0"))
    assert _terms(db, "empresas", loaded) == set()
    result = runner.invoke(args=["search", "reindex", "--batch", "100"])
    assert result.exit_code == 0, result.output
    assert "empresas 2" in result.output
    assert {"cargada", "lote", "1234567890"} <= _terms(db, "empresas", loaded)
    assert "acme" in _terms(db, "empresas", empresa.id)
    assert _terms(db, "empresas", 999_999) == set()
    assert db.session.scalars(Search(Empresa, "cargada por").apply(select(Empresa.id))).all() == [loaded]


# ---------------------------------------------------------------- MariaDB: the index serves it

if MYSQL:
    def test_search_subquery_is_a_range_of_the_terms_index(db, empresa):
        # Enough terms of other words and records that the statistics tell a range from a scan.
        db.session.execute(insert(TerminoBusqueda), [
            {"tabla": "empresas", "termino": f"palabra{i % 500}", "registro_id": 1000 + i}
            for i in range(5000)])
        db.session.commit()
        db.session.execute(text("ANALYZE TABLE terminos_busqueda"))
        sub = Search(Empresa, "acme").apply(select(Empresa.id)).compile(
            db.engine, compile_kwargs={"literal_binds": True})
        terms_sql = str(sub).split("IN (", 1)[1].rsplit(")", 1)[0]
        plan = db.session.execute(text(f"EXPLAIN {terms_sql}")).mappings().all()
        [row] = plan
        assert row["table"] == "terminos_busqueda" and row["type"] == "range", plan
        assert row["key"] == "PRIMARY", plan
