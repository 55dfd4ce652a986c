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


def test_answers_cached_together_expire_apart(app, client, licence_redis, make_empresa, make_plan,
                                              make_suscripcion, global_headers):
    """Each answer is kept between 3/4 of LICENSE_CACHE_SECONDS and all of it, so that a warm-up
    does not send every company to the database again at the same moment."""
    ttl_ms = app.config["LICENSE_CACHE_SECONDS"] * 1000
    plan = make_plan()
    nits = [f"90011122{i}-3" for i in range(6)]
    for nit in nits:
        make_suscripcion(make_empresa(nit=nit), plan)
        assert client.get(f"/api/suscripcion-activa/{nit}", headers=global_headers).status_code == 200
    lifetimes = [licence_redis.pttl(key) for key in licence_redis.keys("licencia:v*:nit:*")]
    assert len(lifetimes) == len(nits)
    assert all(ttl_ms * (1 - cache.TTL_SPREAD) - 1_000 < ms <= ttl_ms for ms in lifetimes), lifetimes
    assert max(lifetimes) - min(lifetimes) > 500  # spread (6 draws over 7.5 s: about 5 s apart)
