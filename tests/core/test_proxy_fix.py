"""Behind a load balancer (PROXY_FIX_X_FOR=N), per-IP limits, the access log and HSTS see the
client from X-Forwarded-*; with the default (0) those headers are never believed."""
from __future__ import annotations

import logging

import pytest

from backend import create_app
from backend.core.logging_setup import configure_logging
from backend.extensions import db
from tests.conftest import make_config

BALANCER = {"REMOTE_ADDR": "10.0.0.5"}


def _app(app, **settings):
    proxied = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                     **settings))
    with proxied.app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()  # in-memory SQLite is per engine
    return proxied


@pytest.fixture
def restore_logging(app):
    yield
    configure_logging(app)  # leave the shared logger tree as the test app had it


def _from(client, ip: str, path: str = "/health", proto: str = "http", **kwargs):
    headers = {"X-Forwarded-For": ip, "X-Forwarded-Proto": proto}
    return client.get(path, headers=headers, environ_base=BALANCER, **kwargs)


def test_behind_one_proxy_the_client_address_and_scheme_are_seen(app, caplog, restore_logging):
    client = _app(app, PROXY_FIX_X_FOR=1, PROXY_FIX_X_PROTO=1).test_client()
    with caplog.at_level(logging.INFO, logger="backend"):
        response = _from(client, "203.0.113.7", "/api/nothing-here", proto="https")
    assert "Strict-Transport-Security" in response.headers
    lines = [r.getMessage() for r in caplog.records if "/api/nothing-here" in r.getMessage()]
    assert lines and lines[0].endswith("ip=203.0.113.7")


def test_only_the_configured_number_of_proxies_is_trusted(app, caplog, restore_logging):
    client = _app(app, PROXY_FIX_X_FOR=1).test_client()
    with caplog.at_level(logging.INFO, logger="backend"):
        # A client-forged entry before the balancer's own is not believed.
        _from(client, "1.2.3.4, 203.0.113.8", "/api/nothing-here")
    lines = [r.getMessage() for r in caplog.records if "/api/nothing-here" in r.getMessage()]
    assert lines and lines[0].endswith("ip=203.0.113.8")


def test_by_default_forwarded_headers_are_ignored(client, caplog):
    with caplog.at_level(logging.INFO, logger="backend"):
        response = _from(client, "203.0.113.7", "/api/nothing-here", proto="https")
    assert "Strict-Transport-Security" not in response.headers
    lines = [r.getMessage() for r in caplog.records if "/api/nothing-here" in r.getMessage()]
    assert lines and lines[0].endswith("ip=10.0.0.5")


def test_per_ip_limit_counts_each_client_not_the_balancer(app, restore_logging):
    client = _app(app, PROXY_FIX_X_FOR=1, AUTH_RATE_IP="2/minute").test_client()
    body = {"email": "nadie@example.com", "password": "Incorrecta#1"}

    def login(ip: str):
        return client.post("/auth/login", json=body, headers={"X-Forwarded-For": ip},
                           environ_base=BALANCER)

    assert [login("203.0.113.1").status_code for _ in range(3)] == [401, 401, 429]
    # Another client behind the same balancer is not locked out by the first one.
    assert login("203.0.113.2").status_code == 401
