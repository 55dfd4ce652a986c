"""Paging a search with many matches (core.search.Search with core.pagination.paginate): the
total is counted up to `Search.TOTAL_CAP`, and the page is looked for among the next
`WINDOW_ROWS` rows of the list before the plain statement is asked. Whichever answers, every
page holds the rows the plain searched statement gives, in its order, by `?page=` and by
cursor, ascending and descending, with other filters and several words. The caps are made small
here so that a few dozen rows exercise both ways."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.core.pagination import paginate
from backend.core.search import Search
from backend.empresas.models import Empresa, EstadoEmpresa

ROWS = 48
CAP = 6
WINDOW = 10


@pytest.fixture
def small_caps(monkeypatch):
    monkeypatch.setattr(Search, "TOTAL_CAP", CAP)
    monkeypatch.setattr(Search, "WINDOW_ROWS", WINDOW)


@pytest.fixture
def windows(monkeypatch):
    """What every `Search.window` call answered (None: the plain statement answered)."""
    answers = []
    window = Search.window

    def spy(self, *args, **kwargs):
        answers.append(window(self, *args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(Search, "window", spy)
    return answers


@pytest.fixture
def companies(make_empresa):
    """ROWS companies: every second one "Tairona", every third "Comercial", the last four alone
    "Remota" (matches far from the start of an ascending list), every fifth `inactiva`."""
    made = []
    for n in range(1, ROWS + 1):
        words = ["Tairona"] * (n % 2 == 0) + ["Comercial"] * (n % 3 == 0) + ["Remota"] * (n > ROWS - 4)
        estado = EstadoEmpresa.INACTIVA if n % 5 == 0 else EstadoEmpresa.ACTIVA
        made.append(make_empresa(nombre=" ".join([*words, f"Empresa {n}"]), estado=estado))
    return made


def _plain(db, stmt, q: str) -> list[int]:
    return [e.id for e in db.session.scalars(Search(Empresa, q).apply(stmt))]


def _by_pages(stmt, q: str, per_page: int) -> tuple[list[int], list[dict]]:
    ids, answers, page = [], [], 1
    while True:
        answer = paginate(stmt, page, per_page, search=Search(Empresa, q))
        answers.append(answer)
        ids += [e.id for e in answer["items"]]
        if "next_cursor" not in answer:
            return ids, answers
        page += 1


def _by_cursor(stmt, q: str, per_page: int) -> list[int]:
    answer = paginate(stmt, 1, per_page, search=Search(Empresa, q))
    ids = [e.id for e in answer["items"]]
    while "next_cursor" in answer:
        answer = paginate(stmt, 1, per_page, answer["next_cursor"], search=Search(Empresa, q))
        ids += [e.id for e in answer["items"]]
    return ids


LISTS = {
    "ascending": lambda: select(Empresa).order_by(Empresa.id),
    "descending": lambda: select(Empresa).order_by(Empresa.id.desc()),
    "activas, ascending": lambda: select(Empresa).where(Empresa.estado == EstadoEmpresa.ACTIVA)
    .order_by(Empresa.id),
    "by name (no window)": lambda: select(Empresa).order_by(Empresa.nombre),
}


@pytest.mark.parametrize("q", ["tairona", "remota", "tairona comercial", "empresa", "nadie"])
@pytest.mark.parametrize("order", list(LISTS))
@pytest.mark.parametrize("per_page", [2, 5])
def test_every_page_holds_the_plain_statements_rows(db, companies, small_caps, windows, q, order,
                                                    per_page):
    stmt = LISTS[order]()
    expected = _plain(db, stmt, q)
    by_pages, answers = _by_pages(stmt, q, per_page)
    assert by_pages == expected
    assert _by_cursor(stmt, q, per_page) == expected
    first = answers[0]
    if len(expected) <= CAP:
        assert first["total"] == len(expected) and "total_exact" not in first
    else:
        assert first["total"] == CAP and first["total_exact"] is False
        assert answers[-1]["total"] == len(expected) and "total_exact" not in answers[-1]
    if order.startswith("by name"):
        assert all(w is None for w in windows)  # not ordered by the key: the plain statement


def test_the_window_answers_when_it_holds_the_page_and_steps_aside_when_not(db, companies,
                                                                           small_caps, windows):
    ascending = select(Empresa).order_by(Empresa.id)
    answer = paginate(ascending, 1, 2, search=Search(Empresa, "tairona"))
    assert [e.id for e in answer["items"]] == [companies[1].id, companies[3].id]
    assert windows[-1] is not None  # the first ten rows hold the page (and one more)

    answer = paginate(ascending, 1, 2, search=Search(Empresa, "empresa remota"))
    assert [e.id for e in answer["items"]] == [c.id for c in companies[-4:-2]]
    assert windows == [windows[0]]  # four matches (under the cap): no window needed

    answer = paginate(ascending, 1, 2, search=Search(Empresa, "empresa"))
    assert windows[-1] is not None and answer["total_exact"] is False
    answer = paginate(ascending, 20, 2, search=Search(Empresa, "empresa"))  # rows 39-40
    assert windows[-1] is None  # beyond the first ten rows: the plain statement
    assert [e.id for e in answer["items"]] == [companies[38].id, companies[39].id]


def test_a_search_with_no_word_or_no_q(db, companies, small_caps):
    stmt = select(Empresa).order_by(Empresa.id)
    assert paginate(stmt, 1, 5, search=Search(Empresa, "%"))["items"] == []
    everything = paginate(stmt, 1, 5, search=Search(Empresa, "  "))
    assert everything["total"] == ROWS and [e.id for e in everything["items"]] == [
        c.id for c in companies[:5]]


def test_the_admin_list_counts_a_search_up_to_its_cap(client, admin_headers, companies, small_caps):
    body = client.get("/admin/empresas?q=tairona&per_page=3", headers=admin_headers).get_json()
    assert body["total"] == CAP and body["total_exact"] is False
    assert [i["id"] for i in body["items"]] == [c.id for c in companies[1:7:2]]
    body = client.get("/admin/empresas?q=remota", headers=admin_headers).get_json()
    assert body["total"] == 4 and "total_exact" not in body


def test_the_spec_documents_the_search_cap(client):
    spec = client.get("/openapi.json").get_json()
    page = spec["components"]["schemas"]["EmpresaPage"]["properties"]
    assert "1,000 with a search `q`" in page["total"]["description"]
    assert "1,000 with a search `q`" in page["total_exact"]["description"]
