"""Outages of what the app depends on: with the database unreachable every request that needs it
answers 503 `no_disponible` with Retry-After (never a 500, never a hang); with the rate limiter's
Redis gone the limits are counted in memory and requests keep working."""
from __future__ import annotations

import logging
import os
import time

import pymysql
import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import OperationalError

from backend import create_app
from backend.core.errors import handle_database_error
from backend.extensions import db, limiter
from backend.identity.models import LogAcceso, Usuario
from tests.conftest import PASSWORD, assert_error, assert_throttled, make_config

# Nobody listens on port 1: connections are refused at once (connect_timeout bounds the rest).
DEAD_DATABASE = "mysql+pymysql://nobody@127.0.0.1:1/nothing?charset=utf8mb4&connect_timeout=2"
DEAD_REDIS = "redis://127.0.0.1:1/0"
LOGIN = {"email": "nadie@example.com", "password": "Incorrecta#1"}
MYSQL = os.environ.get("DATABASE_URL", "").startswith("mysql")


@pytest.fixture
def restore_limiter(app):
    """The limiter is one object for every app: give it back to the session app afterwards."""
    yield
    limiter.init_app(app)


@pytest.fixture
def no_database(restore_limiter):
    return create_app(make_config(SQLALCHEMY_DATABASE_URI=DEAD_DATABASE)).test_client()


def _dead_redis_app(app, **settings):
    other = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                   RATELIMIT_STORAGE_URI=DEAD_REDIS, **settings))
    with other.app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()  # in-memory SQLite is per engine
    return other


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("get", "/public/planes", {}),
    ("post", "/auth/login", {"json": LOGIN}),
    ("get", "/api/suscripcion-activa/900123456-7", {"headers": {"X-API-Key": "test-global-api-key"}}),
    ("get", "/api/planes", {"headers": {"X-API-Key": "test-global-api-key"}}),
])
def test_database_unreachable_is_503_with_retry_after(no_database, caplog, method, path, kwargs):
    with caplog.at_level(logging.INFO, logger="backend"):
        started = time.monotonic()
        response = getattr(no_database, method)(path, **kwargs)
        elapsed = time.monotonic() - started
    assert elapsed < 10, elapsed
    assert_error(response, 503, "no_disponible")
    assert 0 < int(response.headers["Retry-After"]) <= 60
    warnings = [r for r in caplog.records if r.name == "backend.errors"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING, warnings
    # A sign-in's throttle keys read the database: its failure there is not taken for an
    # outage of the limiter's own storage (the limits stay where they are counted).
    assert not [r for r in caplog.records if r.name == "backend.ratelimit"]
    assert limiter._storage_dead is False
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = caplog.text + "".join(str(r.exc_info) for r in caplog.records)
    assert "SELECT" not in logged and "[SQL" not in logged and "parameters" not in logged


def test_database_keeps_being_tried_on_every_request(no_database):
    """Nothing is remembered between requests: each one tries the database again."""
    for _ in range(3):
        assert_error(no_database.get("/public/planes"), 503, "no_disponible")


@pytest.mark.parametrize("orig", [
    pymysql.err.OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"),
    pymysql.err.OperationalError(1213, "Deadlock found when trying to get lock"),
])
def test_other_database_errors_stay_500(app, orig):
    """A lost lock race (core.persistence.retry_on_lock_conflict gave up) is not an outage."""
    with app.test_request_context("/x"):
        response = handle_database_error(OperationalError("UPDATE t SET a=1", {}, orig))
    assert response.status_code == 500
    assert response.get_json()["error"] == "error_interno"
    assert "Retry-After" not in response.headers


def test_limiter_redis_down_sign_in_and_forgot_keep_working(app, make_usuario, caplog, restore_limiter):
    other = _dead_redis_app(app)
    with other.app_context():
        make_usuario(email="vive@example.com")
    client = other.test_client()
    with caplog.at_level(logging.WARNING, logger="backend"):
        assert_error(client.post("/auth/login", json=LOGIN), 401, "credenciales_invalidas")
        ok = client.post("/auth/login", json={"email": "vive@example.com", "password": PASSWORD})
        assert ok.status_code == 200, ok.get_json()
        forgot = client.post("/auth/password/forgot", json={"email": "vive@example.com"})
        assert forgot.status_code == 202, forgot.get_json()
    outage = [r for r in caplog.records if r.name == "backend.ratelimit"]
    assert outage and "in-memory" in outage[0].getMessage()


def test_limiter_redis_down_still_throttles_from_memory(app, restore_limiter):
    client = _dead_redis_app(app, AUTH_RATE_IP="2/minute").test_client()
    statuses = [client.post("/auth/login", json=LOGIN).status_code for _ in range(2)]
    assert statuses == [401, 401]
    assert_throttled(client.post("/auth/login", json=LOGIN))


def test_a_limit_on_every_request_is_still_checked(app, client):
    """The limiter skips its before-request check only while no limit applies to every
    request (core.ratelimit): a default limit, once set, is enforced on any route."""
    from flask_limiter import Limit

    manager = limiter.limit_manager
    saved = manager._default_limits
    limiter.reset()
    manager.set_default_limits([Limit("2/minute", key_function=lambda: "t-every-request").bind(limiter)])
    try:
        codes = [client.get("/health").status_code for _ in range(3)]
    finally:
        manager.set_default_limits(saved)
        limiter.reset()
    assert codes == [200, 200, 429]
    assert client.get("/health").status_code == 200  # no default limit: not checked


if MYSQL:

    def test_connection_lost_during_the_sign_in_throttle_check_is_503(app, client, make_usuario,
                                                                      caplog):
        """The connection dies between two queries of a sign-in's limit check (the account key,
        then whether this address is trusted): the answer is the outage's 503, the limiter keeps
        its storage, nothing is written, and the next sign-in works. (Flask-Limiter took the
        error for an outage of its Redis and checked again on the broken session: a 500.)"""
        usuario = make_usuario(email="vive@example.com")
        killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        killed = []

        def kill_first_access_log_query(conn, cursor, statement, *_):
            if "log_accesos" in statement and not killed:
                killed.append(conn.connection.dbapi_connection.thread_id())
                with killer.connect() as other:
                    other.execute(text(f"KILL {int(killed[0])}"))

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", kill_first_access_log_query)
        try:
            with caplog.at_level(logging.INFO, logger="backend"):
                response = client.post("/auth/login", json={"email": "vive@example.com",
                                                            "password": PASSWORD})
        finally:
            event.remove(engine, "before_cursor_execute", kill_first_access_log_query)
            killer.dispose()
        assert killed
        assert_error(response, 503, "no_disponible")
        assert int(response.headers["Retry-After"]) > 0
        assert limiter._storage_dead is False
        assert not [r for r in caplog.records if r.name == "backend.ratelimit"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert db.session.scalar(select(func.count()).select_from(LogAcceso)) == 0
        assert db.session.get(Usuario, usuario.id).last_login_at is None

        again = client.post("/auth/login", json={"email": "vive@example.com", "password": PASSWORD})
        assert again.status_code == 200, again.get_json()
        assert db.session.scalar(select(func.count()).select_from(LogAcceso)) == 1
