"""The licence cache in Redis (REDIS_URL): shared entries, version bump on change, no outage."""
from __future__ import annotations

from sqlalchemy import event

from backend.licencia import cache
from backend.licencia import services as licencia

URL = "/api/suscripcion-activa/900111222-3"


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
        client, db, licence_redis, make_empresa, make_plan, make_suscripcion, global_headers):
    sus = make_suscripcion(make_empresa(nit="900111222-3"), make_plan(servicios={"A": 1}))
    version = int(licence_redis.get(cache.VERSION_KEY) or 0)

    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
    keys = [k.decode() for k in licence_redis.keys("licencia:v*:nit:900111222-3:*")]
    assert keys == [f"licencia:v{version}:nit:900111222-3:{licencia.hoy().isoformat()}"]
    ttl = licence_redis.ttl(keys[0])
    assert 0 < ttl <= 30
    # A second call is answered from Redis.
    assert _queries(db, lambda: client.get(URL, headers=global_headers)) == 0

    sus.estado = "cancelada"
    db.session.commit()
    assert int(licence_redis.get(cache.VERSION_KEY)) == version + 1
    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "CANCELADA"


def test_redis_outage_falls_back_to_the_database(client, unreachable_redis, make_empresa,
                                                 make_plan, make_suscripcion, global_headers):
    make_suscripcion(make_empresa(nit="900111222-3"), make_plan())
    response = client.get(URL, headers=global_headers)
    assert response.status_code == 200 and response.get_json()["codigo"] == "VALIDA"
