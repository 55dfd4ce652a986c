"""Probes, OpenAPI and Swagger UI, the SPA build and the development-mode note."""
from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from backend import create_app
from backend.core.api import api
from tests.conftest import assert_error, make_config


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_get_and_head(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    head = client.head("/healthz")
    assert head.status_code == 200 and head.data == b""


def test_ready_ok(client):
    response = client.get("/ready")
    assert response.status_code == 200
    # The storage it is configured with (here the local folder) is checked too.
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}


def test_ready_503_when_database_unreachable():
    app = create_app(make_config(
        SQLALCHEMY_DATABASE_URI="mysql+pymysql://nobody@127.0.0.1:1/nothing",
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"connect_timeout": 2}}))
    body = assert_error(app.test_client().get("/ready"), 503, "no_disponible")
    assert body["details"]["checks"]["database"].startswith("error: ")


def test_ready_checks_redis(app):
    good = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                  REDIS_URL="redis://127.0.0.1:6379/15"))
    checks = good.test_client().get("/ready").get_json()["checks"]
    assert checks["redis:127.0.0.1:6379/15"] == "ok"
    bad = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                 REDIS_URL="redis://127.0.0.1:1/0"))
    body = assert_error(bad.test_client().get("/ready"), 503, "no_disponible")
    assert body["details"]["checks"]["redis:127.0.0.1:1/0"].startswith("error: ")


def test_openapi_is_valid_and_every_operation_has_a_summary(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    assert spec["info"]["title"]
    operations = [(path, method, op) for path, item in spec["paths"].items()
                  for method, op in item.items() if method in {"get", "post", "put", "patch", "delete"}]
    assert ("/health", "get") in {(p, m) for p, m, _ in operations}
    missing = [f"{m.upper()} {p}" for p, m, op in operations if not op.get("summary")]
    assert missing == []
    error = spec["components"]["schemas"]["Error"]["properties"]
    assert set(error) == {"error", "message", "details"}


def test_docs_served_from_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert "http://" not in html and "https://" not in html  # no CDN
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and len(bundle.data) > 100_000
    assert client.get("/static/docs/init.js").status_code == 200


def test_dev_mode_note_without_build(client):
    body = client.get("/").get_json()
    assert body["modo"] == "desarrollo"
    assert body["frontend_dev_url"] == "http://localhost:4200"


@pytest.fixture
def spa_client(app, tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html><title>SPA</title><app-root></app-root>")
    (tmp_path / "main.js").write_text("console.log('spa')")
    spa = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                 FRONTEND_DIST=str(tmp_path)))
    return spa.test_client()


def test_spa_index_and_assets(spa_client):
    index = spa_client.get("/")
    assert index.status_code == 200 and b"<app-root>" in index.data
    asset = spa_client.get("/main.js")
    assert asset.status_code == 200 and b"console.log" in asset.data


def test_spa_fallback_for_client_routes(spa_client):
    page = spa_client.get("/cuenta/perfil")
    assert page.status_code == 200 and b"<app-root>" in page.data
    assert "text/html" in page.headers["Content-Type"]


@pytest.mark.parametrize("path", ["/api/nada", "/admin/nada", "/auth/nada", "/public/nada", "/docs/nada"])
def test_spa_never_answers_api_paths(spa_client, path):
    assert_error(spa_client.get(path), 404, "no_encontrado")


def test_spa_fallback_only_for_get(spa_client):
    assert_error(spa_client.post("/cuenta/perfil", json={}), 404, "no_encontrado")


def test_spa_cannot_escape_dist(spa_client, tmp_path):
    # A file next to the dist folder: a path that climbs out of it must not reach it.
    secret = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    secret.write_text("TOP-SECRET")
    index = spa_client.get("/").data
    for path in (f"/../{secret.name}", f"/%2e%2e/{secret.name}", "/../../etc/passwd"):
        response = spa_client.get(path)
        assert b"TOP-SECRET" not in response.data and b"root:" not in response.data, path
        assert response.status_code == 200 and response.data == index, path  # the SPA fallback


def test_the_openapi_document_is_written_on_first_read_with_every_api_route():
    """Documenting the blueprints waits for the first read of the spec (a tenth of a worker's
    start-up otherwise); when read, every route of every API blueprint is in it, once."""
    app = create_app(make_config())
    assert api._undocumented  # nothing written yet
    spec = app.test_client().get("/openapi.json").get_json()
    assert not api._undocumented
    documented = {(re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
                  for path, item in spec["paths"].items() for method in item if method != "parameters"}
    names = set(app.extensions["flask-smorest"]["blp_name_to_api"])
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in names
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert len(routes) > 100
    assert routes <= documented
    assert len(spec["tags"]) == len({tag["name"] for tag in spec["tags"]}) == len(names)
