"""Who may use the support desk's staff routes: every route of the `admin_soporte_*`
blueprints (read from the URL map, so a new one is covered at once) refuses anonymous
callers (401) and customers (403) without changing anything, and lets `admin` and `soporte`
staff through; `soporte` staff are refused everywhere else under /admin (tests/identity)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from backend.core.audit import Auditoria
from backend.soporte.models import SoportePago, SoporteSuscripcion, SoporteTicket, SoporteTipo


def _staff_routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method, re.sub(r"<int:\w+>", "1", rule.rule))
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin_soporte_")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_the_routes_are_the_four_support_areas(app):
    routes = _staff_routes(app)
    assert len(routes) >= 25
    assert {path.split("/")[2] for _, path in routes} == {
        "soporte-tipos", "soporte-suscripciones", "soporte-pagos", "soporte-tickets"}


def _counts(db) -> dict:
    db.session.expire_all()
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (SoporteTipo, SoporteSuscripcion, SoportePago, SoporteTicket, Auditoria)}


def test_anonymous_and_customers_are_refused_and_change_nothing(app, client, db, cliente_headers):
    before = _counts(db)
    wrong = []
    for method, path in _staff_routes(app):
        anonymous = client.open(path, method=method, json={})
        customer = client.open(path, method=method, json={}, headers=cliente_headers)
        got = ((anonymous.status_code, anonymous.get_json()["error"]),
               (customer.status_code, customer.get_json()["error"]))
        if got != ((401, "no_autenticado"), (403, "prohibido")):
            wrong.append((method, path, got))
    assert wrong == []
    assert _counts(db) == before


def test_admin_and_soporte_staff_get_past_the_guard(app, client, admin_headers, soporte_headers):
    wrong = []
    for method, path in _staff_routes(app):
        for headers in (admin_headers, soporte_headers):
            # Past the guard each call is judged on its own (nothing with id 1 exists: 404,
            # or 422 for an empty body), never refused for the role or the session.
            response = client.open(path, method=method, json={}, headers=headers)
            if response.status_code in (401, 403):
                wrong.append((method, path, response.status_code))
    assert wrong == []
