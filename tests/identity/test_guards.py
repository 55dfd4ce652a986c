"""The role guards (backend/identity/guards.py): every /admin path (companies, users,
catalogue, subscriptions, audit) refuses anonymous callers (401) and non-admin roles (403),
and changes nothing; the /account subscription paths refuse anonymous callers."""
from __future__ import annotations

import pytest

from tests.conftest import assert_error

ADMIN_PATHS = [
    ("GET", "/admin/empresas"), ("POST", "/admin/empresas"),
    ("GET", "/admin/empresas/1"), ("PUT", "/admin/empresas/1"),
    ("DELETE", "/admin/empresas/1"), ("POST", "/admin/empresas/1/activar"),
    ("GET", "/admin/usuarios"), ("POST", "/admin/usuarios"),
    ("GET", "/admin/usuarios/1"), ("PUT", "/admin/usuarios/1"),
    ("POST", "/admin/usuarios/1/cambiar-password"), ("POST", "/admin/usuarios/1/toggle-estado"),
    ("DELETE", "/admin/usuarios/1"),
    ("GET", "/admin/planes"), ("POST", "/admin/planes"), ("GET", "/admin/planes/1"),
    ("PUT", "/admin/planes/1"), ("DELETE", "/admin/planes/1"),
    ("GET", "/admin/servicios"), ("POST", "/admin/servicios"), ("GET", "/admin/servicios/1"),
    ("PUT", "/admin/servicios/1"), ("POST", "/admin/servicios/1/toggle"),
    ("DELETE", "/admin/servicios/1"),
    ("GET", "/admin/planes/1/servicios"), ("POST", "/admin/planes/1/servicios"),
    ("POST", "/admin/planes/1/servicios/1"), ("PUT", "/admin/planes/1/servicios/1"),
    ("DELETE", "/admin/planes/1/servicios/1"), ("GET", "/admin/planes-servicios/resumen"),
    ("GET", "/admin/suscripciones"), ("POST", "/admin/suscripciones"),
    ("GET", "/admin/suscripciones/1"),
    ("POST", "/admin/suscripciones/1/renovar"), ("POST", "/admin/suscripciones/1/cancelar"),
    ("POST", "/admin/suscripciones/1/suspender"), ("POST", "/admin/suscripciones/1/reactivar"),
    ("POST", "/admin/suscripciones/1/descuento"),
    ("GET", "/admin/auditoria"),
]
ACCOUNT_PATHS = [
    ("GET", "/account/subscriptions"), ("GET", "/account/suscripciones"),
    ("PATCH", "/account/subscriptions/1"),
]


def test_the_list_covers_every_route_of_this_area(app):
    """A new route in these blueprints must be added to the lists above."""
    mine = ("admin_empresas.", "admin_usuarios.", "admin_catalogo.", "admin_suscripciones.",
            "admin_auditoria.", "account_suscripciones.")
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith(mine)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = {(m, p.replace("/1", "/<int:x>")) for m, p in ADMIN_PATHS + ACCOUNT_PATHS}
    normalised = {(m, _generic(r)) for m, r in routes}
    assert normalised == listed


def _generic(rule: str) -> str:
    import re

    return re.sub(r"<int:\w+>", "<int:x>", rule)


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS + ACCOUNT_PATHS)
def test_anonymous_is_refused(client, method, path):
    response = client.open(path, method=method, json={})
    assert_error(response, 401, "no_autenticado")


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS)
@pytest.mark.parametrize("who", ["soporte", "cliente"])
def test_non_admin_roles_are_forbidden(client, request, db, method, path, who):
    headers = request.getfixturevalue(f"{who}_headers")
    before = _snapshot(db)
    response = client.open(path, method=method, json={}, headers=headers)
    assert_error(response, 403, "prohibido")
    assert _snapshot(db) == before  # the refused call changed nothing (ids like 1 may exist)


def _snapshot(db) -> dict:
    from sqlalchemy import func, select

    from backend.core.audit import Auditoria
    from backend.empresas.models import Empresa
    from backend.identity.models import Usuario

    db.session.expire_all()
    return {
        "usuarios": [(u.id, u.is_active, u.rol, u.password_hash)
                     for u in db.session.scalars(select(Usuario).order_by(Usuario.id))],
        "empresas": [(e.id, e.nombre, e.estado)
                     for e in db.session.scalars(select(Empresa).order_by(Empresa.id))],
        "auditoria": db.session.scalar(select(func.count()).select_from(Auditoria)),
    }


def test_a_revoked_session_is_refused(client, admin, admin_headers, db):
    from backend.identity.services.sessions import revoke_user_sessions

    revoke_user_sessions(admin.id, "test")
    db.session.commit()
    assert_error(client.get("/admin/empresas", headers=admin_headers), 401, "no_autenticado")
