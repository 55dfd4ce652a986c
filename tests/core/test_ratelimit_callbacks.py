"""A database error raised by a rate limit's own callback (its key, its exemption, the breach
it records) is answered as the app answers any database error: Flask-Limiter would take it for
an outage of its own storage, move the counters to memory and check again on a broken session."""
from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from backend import create_app
from backend.extensions import db, limiter
from tests.conftest import assert_error, make_config


@pytest.fixture
def limited_app(app):
    """An app of its own (routes cannot be added to the session's once it served a request);
    the limiter, one object for every app, is given back to the session's app afterwards."""
    other = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"]))
    yield other
    limiter.init_app(app)


def _broken_query(*_args):
    db.session.execute(text("SELECT * FROM no_such_table"))


def _route(flask_app, callback: str):
    """A route limited to one request a minute whose `callback` runs a failing query."""
    key = f"t-{uuid.uuid4().hex}"
    callbacks = {"key_func": lambda: key, callback: _broken_query}
    if callback == "key_func":
        callbacks["key_func"] = lambda: _broken_query() or key

    def limited():
        return {"ok": True}

    limited.__name__ = limited.__qualname__ = key  # Flask-Limiter keeps limits by view name
    flask_app.get(f"/test/{key}")(limiter.limit("1/minute", **callbacks)(limited))
    return f"/test/{key}"


@pytest.mark.parametrize(("callback", "requests_before"), [
    ("key_func", 0), ("exempt_when", 0), ("on_breach", 1),
])
def test_a_database_error_in_a_limit_callback_is_not_a_storage_outage(limited_app, caplog,
                                                                    callback, requests_before):
    path = _route(limited_app, callback)
    client = limited_app.test_client()
    for _ in range(requests_before):
        assert client.get(path).status_code == 200
    with caplog.at_level(logging.INFO, logger="backend"):
        response = client.get(path)
        after = client.get("/health")
    assert_error(response, 500, "error_interno")
    assert after.status_code == 200
    assert limiter._storage_dead is False
    assert not [r for r in caplog.records if r.name == "backend.ratelimit"]
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(unexpected) == 1, unexpected
    assert isinstance(unexpected[0].exc_info[1], DBAPIError)
    assert "no_such_table" in str(unexpected[0].exc_info[1])
