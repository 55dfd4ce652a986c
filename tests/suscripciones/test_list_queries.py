"""The subscription lists (/admin/suscripciones, /account/subscriptions) and the plan lists
they build on (/admin/planes, /admin/planes-servicios/resumen) load their nested plan and
services in a fixed number of queries, whatever the number of rows."""
from __future__ import annotations

import pytest


def _queries(client, count_queries, path, headers) -> int:
    with count_queries() as counter:
        response = client.get(path, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"]
    return counter["n"]


@pytest.mark.parametrize("path", ["/admin/planes", "/admin/planes-servicios/resumen",
                                  "/admin/suscripciones", "/account/subscriptions"])
def test_list_queries_do_not_grow_with_rows(client, count_queries, make_plan, make_suscripcion,
                                            empresa, cliente_headers, admin_headers, path,
                                            make_empresa):
    headers = cliente_headers if path.startswith("/account") else admin_headers
    plan = make_plan(servicios={"A": 1, "B": 2})
    make_suscripcion(empresa, plan)
    one = _queries(client, count_queries, path, headers)
    for n in range(4):
        other = make_plan(servicios={"A": n + 1, f"C{n}": 1})
        make_suscripcion(empresa, other, estado="cancelada")
        make_suscripcion(make_empresa(), other)
    assert _queries(client, count_queries, path, headers) == one
