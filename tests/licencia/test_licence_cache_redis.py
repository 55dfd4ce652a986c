"""The licence cache in Redis (REDIS_URL): shared entries, version bump on change, no outage."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import event

from backend.licencia import services as licencia

# Our own Redis database number (13), on the server CI provides.
_base = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
REDIS_URL = f"{_base}/13"
URL = "/api/suscripcion-activa/900111222-3"


@pytest.fixture
def redis_cache(app, monkeypatch):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    app.extensions.pop("licencia_redis", None)
    yield client
    app.extensions.pop("licencia_redis", None)
    client.flushdb()
    client.close()


def _queries(db, call) -> int:
    count = []

    def listener(*_args, **_kwargs):
        count.append(1)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(count)


def test_entries_live_in_redis_and_changes_bump_the_version(
        client, db, redis_cache, make_empresa, make_plan, make_suscripcion, global_headers):
    sus = make_suscripcion(make_empresa(nit="900111222-3"), make_plan(servicios={"A": 1}))
    version = int(redis_cache.get(licencia.VERSION_KEY) or 0)

    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
    keys = [k.decode() for k in redis_cache.keys("licencia:v*:nit:900111222-3:*")]
    assert keys == [f"licencia:v{version}:nit:900111222-3:{licencia.hoy().isoformat()}"]
    ttl = redis_cache.ttl(keys[0])
    assert 0 < ttl <= 30
    # A second call is answered from Redis.
    assert _queries(db, lambda: client.get(URL, headers=global_headers)) == 0

    sus.estado = "cancelada"
    db.session.commit()
    assert int(redis_cache.get(licencia.VERSION_KEY)) == version + 1
    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "CANCELADA"


def test_redis_outage_falls_back_to_the_database(app, client, monkeypatch, make_empresa,
                                                 make_plan, make_suscripcion, global_headers):
    make_suscripcion(make_empresa(nit="900111222-3"), make_plan())
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens
    app.extensions.pop("licencia_redis", None)
    try:
        response = client.get(URL, headers=global_headers)
    finally:
        app.extensions.pop("licencia_redis", None)
    assert response.status_code == 200 and response.get_json()["codigo"] == "VALIDA"
