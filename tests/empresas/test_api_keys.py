"""Per-company API keys: /admin/empresas/:id/api-keys and `flask api-keys`."""
from __future__ import annotations

import hashlib
import re

import pytest

from tests.conftest import assert_error


def _url(empresa_id: int, key_id: int | None = None) -> str:
    base = f"/admin/empresas/{empresa_id}/api-keys"
    return base if key_id is None else f"{base}/{key_id}"


def test_create_list_revoke(client, db, admin, admin_headers, make_empresa):
    from backend.core.audit import Auditoria
    from backend.empresas.models import ApiKey

    empresa = make_empresa(nit="900111222-3")
    response = client.post(_url(empresa.id), json={"nombre": "Instancia A"}, headers=admin_headers)
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == {"id", "nombre", "prefijo", "api_key", "created_at"}
    assert created["nombre"] == "Instancia A"
    assert re.match(r"^sk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$", created["api_key"])
    assert created["api_key"].startswith(created["prefijo"] + "_")
    row = db.session.get(ApiKey, created["id"])
    assert row.key_hash == hashlib.sha256(created["api_key"].encode()).hexdigest()
    assert row.empresa_id == empresa.id and row.creado_por == admin.id
    assert created["api_key"] not in repr(vars(row))

    listing = client.get(_url(empresa.id), headers=admin_headers).get_json()
    assert listing["total"] == 1
    item = listing["items"][0]
    assert item["id"] == created["id"] and item["activa"] is True and item["revoked_at"] is None
    assert "api_key" not in item and "key_hash" not in item

    assert client.get("/api/planes", headers={"X-API-Key": created["api_key"]}).status_code == 200
    response = client.delete(_url(empresa.id, created["id"]), headers=admin_headers)
    assert response.status_code == 204
    assert_error(client.get("/api/planes", headers={"X-API-Key": created["api_key"]}), 401)
    assert client.delete(_url(empresa.id, created["id"]), headers=admin_headers).status_code == 204

    item = client.get(_url(empresa.id), headers=admin_headers).get_json()["items"][0]
    assert item["activa"] is False and item["revoked_at"].endswith("Z")

    audits = db.session.query(Auditoria).filter_by(tabla="api_keys").order_by(Auditoria.id).all()
    assert [a.accion.value for a in audits] == ["crear", "actualizar"]  # revoking twice: one row
    assert all(a.usuario_id == admin.id for a in audits)
    assert "key_hash" not in (audits[0].valores_nuevos or {})
    assert set(audits[1].valores_nuevos) == {"revoked_at"}


def test_create_without_body(client, db, admin, admin_headers, make_empresa):
    from backend.empresas.models import ApiKey

    empresa = make_empresa()
    response = client.post(_url(empresa.id), headers=admin_headers)
    assert response.status_code == 201 and response.get_json()["nombre"] is None
    created = response.get_json()
    row = db.session.query(ApiKey).one()
    assert (row.id, row.nombre, row.empresa_id, row.creado_por, row.revoked_at) == (
        created["id"], None, empresa.id, admin.id, None)
    assert row.key_hash == hashlib.sha256(created["api_key"].encode()).hexdigest()


def test_list_only_own_company(client, admin_headers, make_empresa, company_key):
    a, b = make_empresa(), make_empresa()
    company_key(a)
    company_key(b)
    company_key(b)
    assert client.get(_url(a.id), headers=admin_headers).get_json()["total"] == 1
    assert client.get(_url(b.id), headers=admin_headers).get_json()["total"] == 2


def test_unknown_ids_are_404(client, db, admin_headers, make_empresa, company_key):
    from backend.empresas.models import ApiKey

    a, b = make_empresa(), make_empresa()
    company_key(b)
    key_b = db.session.query(ApiKey).one()
    assert_error(client.get(_url(9999), headers=admin_headers), 404, "no_encontrado")
    assert_error(client.post(_url(9999), json={}, headers=admin_headers), 404, "no_encontrado")
    assert_error(client.delete(_url(a.id, 9999), headers=admin_headers), 404, "no_encontrado")
    # A key of company b cannot be revoked through company a.
    assert_error(client.delete(_url(a.id, key_b.id), headers=admin_headers), 404, "no_encontrado")
    db.session.refresh(key_b)
    assert key_b.revoked_at is None


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_roles(client, db, make_empresa, make_usuario, auth_headers, soporte_headers, company_key,
               method):
    from backend.empresas.models import ApiKey

    empresa = make_empresa()
    company_key(empresa)
    key = db.session.query(ApiKey).one()
    url = _url(empresa.id, key.id) if method == "delete" else _url(empresa.id)
    call = getattr(client, method)
    assert_error(call(url), 401, "no_autenticado")
    assert_error(call(url, headers=soporte_headers), 403, "prohibido")
    cliente = make_usuario(empresa_id=empresa.id)
    assert_error(call(url, headers=auth_headers(cliente)), 403, "prohibido")
    # Nor does an API key authenticate staff routes.
    assert_error(call(url, headers={"X-API-Key": "test-global-api-key"}), 401, "no_autenticado")
    db.session.expire_all()
    assert [(k.id, k.revoked_at) for k in db.session.query(ApiKey)] == [(key.id, None)]


def test_malformed_bodies(client, db, admin_headers, make_empresa):
    from backend.empresas.models import ApiKey

    url = _url(make_empresa().id)
    assert_error(client.post(url, data="{", content_type="application/json", headers=admin_headers),
                 400, "solicitud_invalida")
    assert_error(client.post(url, data="x", content_type="text/plain", headers=admin_headers),
                 415, "tipo_no_soportado")
    body = assert_error(client.post(url, json={"nombre": "x" * 121}, headers=admin_headers), 422)
    assert "nombre" in body["details"]
    body = assert_error(client.post(url, json={"api_key": "mine"}, headers=admin_headers), 422)
    assert "api_key" in body["details"]
    assert db.session.query(ApiKey).count() == 0


# ---------------------------------------------------------------- CLI

def test_cli_create_list_revoke(runner, db, make_empresa, client):
    from backend.empresas.models import ApiKey

    empresa = make_empresa(nit="900111222-3")
    result = runner.invoke(args=["api-keys", "create", "900111222-3", "--nombre", "cli"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("sk_")
    row = db.session.query(ApiKey).one()
    assert row.nombre == "cli" and row.empresa_id == empresa.id

    listing = runner.invoke(args=["api-keys", "list", str(empresa.id)])
    assert listing.exit_code == 0 and row.prefijo in listing.output and "activa" in listing.output
    assert key not in listing.output

    headers = {"X-API-Key": key}
    assert client.get("/api/suscripcion-activa/900111222-3", headers=headers).status_code == 200
    result = runner.invoke(args=["api-keys", "revoke", "900111222-3", str(row.id)])
    assert result.exit_code == 0, result.output
    db.session.refresh(row)
    assert row.revoked_at is not None
    assert_error(client.get("/api/suscripcion-activa/900111222-3", headers=headers), 401)


def test_cli_errors(runner, db, make_empresa):
    from backend.empresas.models import ApiKey

    empresa = make_empresa()
    result = runner.invoke(args=["api-keys", "create", "no-such"])
    assert result.exit_code != 0 and "no company" in result.output
    assert db.session.query(ApiKey).count() == 0
    result = runner.invoke(args=["api-keys", "revoke", str(empresa.id), "999"])
    assert result.exit_code != 0 and "no existe" in result.output
    assert "(sin claves)" in runner.invoke(args=["api-keys", "list", str(empresa.id)]).output


# ---------------------------------------------------------------- the decorator helpers

def test_empresa_id_from_header(app, make_empresa, company_key):
    from flask import g

    from backend.core.errors import BadRequest, Forbidden
    from backend.empresas.api_key_auth import api_key_required, empresa_id_from_header

    a, b = make_empresa(), make_empresa()
    view = api_key_required(empresa_id_from_header)
    key = company_key(a)
    with app.test_request_context(headers={"X-API-Key": key, "X-Empresa-Id": str(a.id)}):
        assert view() == a.id and g.api_empresa_id == a.id
    with app.test_request_context(headers={"X-API-Key": key, "X-Empresa-Id": str(b.id)}), \
            pytest.raises(Forbidden):
        view()
    with app.test_request_context(headers={"X-API-Key": "test-global-api-key", "X-Empresa-Id": str(b.id)}):
        assert view() == b.id and g.api_empresa_id is None
    with app.test_request_context(headers={"X-API-Key": key, "X-Empresa-Id": "abc"}), \
            pytest.raises(BadRequest):
        view()
