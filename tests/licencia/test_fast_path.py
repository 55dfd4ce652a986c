"""The licence check answered before Flask (licencia.fast_path): the same bytes as Flask's answer,
cached or computed, taken only when every condition holds, never staler than the cache rules
allow, and left to Flask when computing fails."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pymysql
import pytest
import time_machine
from flask import request_started
from sqlalchemy.exc import OperationalError

from backend.core.logging_setup import RequestIdFilter
from backend.licencia import cache, signing
from backend.licencia import services as licencia
from backend.licencia.fast_path import LicenceFastPath

NIT = "900555111-2"
URL = f"/api/suscripcion-activa/{NIT}"


def _noon(seconds: float = 0.0) -> datetime:
    """Today at noon UTC (plus `seconds`): within the subscriptions the fixtures make, which
    run from yesterday to a month ahead, whatever day the tests run."""
    return datetime.combine(date.today(), datetime.min.time(), UTC) + timedelta(hours=12,
                                                                                seconds=seconds)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def flask_requests(app):
    """How many requests reached Flask (the fast path never starts one)."""
    seen = []

    def count(_sender, **_extra):
        seen.append(1)

    request_started.connect(count, app)
    yield seen
    request_started.disconnect(count, app)


@pytest.fixture
def computed(monkeypatch):
    """How many times a licence was computed from the database."""
    made = []
    compute = licencia._compute

    def counting(*args, **kwargs):
        made.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(licencia, "_compute", counting)
    return made


@pytest.fixture
def flask_only(monkeypatch):
    """A context in which Flask answers every check (the fast path stands aside)."""

    @contextmanager
    def standing_aside():
        with monkeypatch.context() as patch:
            patch.setattr(LicenceFastPath, "_answer", lambda *_args: None)
            yield

    return standing_aside


@pytest.fixture
def company(make_empresa, make_plan, make_suscripcion):
    plan = make_plan(servicios={"Facturación": 3, "Nómina": 1})
    return make_suscripcion(make_empresa(nit=NIT), plan)


def _pair(client, url, flask_requests, flask_only, *, computed_twice: bool = False, **kwargs):
    """(Flask's answer, the next identical request's answer, whether the second reached Flask),
    at one frozen instant so that `ts` and the signature are the same. Flask computes the first;
    the second is the cached answer, or, `computed_twice`, computed again."""
    with time_machine.travel(_noon(), tick=False):
        licencia.invalidate_cache()
        before = len(flask_requests)
        with flask_only():
            first = client.get(url, **kwargs)
        if computed_twice:
            licencia.invalidate_cache()
        second = client.get(url, **kwargs)
    assert len(flask_requests) - before >= 1  # Flask answered the first
    return first, second, len(flask_requests) - before == 2


def _headers(response) -> list[tuple[str, str]]:
    return sorted(response.headers.items())


@pytest.mark.parametrize("estado,codigo", [
    ("activa", "VALIDA"), ("cancelada", "CANCELADA"), ("suspendida", "SUSPENDIDA"),
])
@pytest.mark.parametrize("computed_twice", [False, True], ids=["cached", "computed"])
def test_the_fast_paths_answer_is_flasks_byte_for_byte(client, db, company, flask_requests,
                                                       flask_only, computed, global_headers,
                                                       verify_signature, estado, codigo,
                                                       computed_twice):
    company.estado = estado
    db.session.commit()
    headers = {**global_headers, "X-Request-ID": "bench-1"}
    first, second, both_in_flask = _pair(client, URL + "?nonce=abc-123", flask_requests,
                                         flask_only, computed_twice=computed_twice,
                                         headers=headers)
    assert not both_in_flask
    assert len(computed) == 1 + computed_twice
    assert first.status_code == second.status_code == 200
    assert second.get_json()["codigo"] == codigo and second.get_json()["nonce"] == "abc-123"
    assert second.data == first.data
    assert _headers(second) == _headers(first)
    verify_signature(second)


@pytest.mark.parametrize("computed_twice", [False, True], ids=["cached", "computed"])
def test_unknown_nit_404_and_https_headers_match(client, flask_requests, flask_only,
                                                 global_headers, computed_twice):
    url = "/api/suscripcion-activa/123456789-0"
    first, second, both_in_flask = _pair(client, url, flask_requests, flask_only,
                                         computed_twice=computed_twice, headers=global_headers,
                                         base_url="https://localhost")
    assert not both_in_flask
    assert first.status_code == second.status_code == 404
    assert second.get_json()["codigo"] == "EMPRESA_NO_ENCONTRADA"
    assert second.get_json()["error"] == "no_encontrado"
    assert second.data == first.data
    # Each answer has its own request id; everything else is the same.
    assert [h for h in _headers(second) if h[0] != "X-Request-ID"] == [
        h for h in _headers(first) if h[0] != "X-Request-ID"]
    assert "Strict-Transport-Security" in second.headers


def test_the_access_line_is_the_same(client, company, flask_requests, flask_only, global_headers,
                                     caplog):
    caplog.handler.addFilter(RequestIdFilter())  # as the project's handlers do
    with caplog.at_level(logging.INFO, logger="backend.api"):
        _pair(client, URL, flask_requests, flask_only,
              headers={**global_headers, "X-Request-ID": "r-7"})
    lines = [(r.request_id, r.getMessage().rsplit(" ", 2)[0]) for r in caplog.records
             if r.name == "backend.api"]
    assert lines == [("r-7", f"GET {URL} 200")] * 2


@pytest.mark.parametrize("case", [
    "company_key", "origin", "bad_nonce", "two_nonces", "body", "wrong_key", "bad_nit",
])
def test_anything_unusual_is_left_to_flask(client, company, company_key, flask_requests,
                                           global_headers, case):
    url, headers, kwargs = URL, dict(global_headers), {}
    if case == "company_key":
        headers["X-API-Key"] = company_key(company.empresa)
    elif case == "origin":
        headers["Origin"] = "http://localhost:4200"
    elif case == "bad_nonce":
        url += "?nonce=" + "x" * 129
    elif case == "two_nonces":
        url += "?nonce=a&nonce=b"
    elif case == "body":
        kwargs["json"] = {"nonce": "a"}
    elif case == "wrong_key":
        headers["X-API-Key"] = "not-the-key"
    elif case == "bad_nit":
        url = "/api/suscripcion-activa/abc"
    client.get(URL, headers=global_headers)  # the answer is cached
    before = len(flask_requests)
    response = client.get(url, headers=headers, **kwargs)
    assert len(flask_requests) == before + 1
    expected = {"bad_nonce": 422, "wrong_key": 401, "bad_nit": 422}.get(case, 200)
    assert response.status_code == expected, response.get_json()
    if case == "origin":
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:4200"


def test_a_change_is_answered_at_once(client, db, company, flask_requests, global_headers):
    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
    before = len(flask_requests)
    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
    assert len(flask_requests) == before  # served before Flask
    company.estado = "cancelada"
    db.session.commit()
    assert client.get(URL, headers=global_headers).get_json()["codigo"] == "CANCELADA"


def test_without_cache_every_check_is_computed(app, client, company, flask_requests, computed,
                                               global_headers, monkeypatch):
    monkeypatch.setitem(app.config, "LICENSE_CACHE_SECONDS", 0)
    before = len(flask_requests)
    for _ in range(3):
        assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
    assert len(computed) == 3
    assert len(flask_requests) == before  # computed before Flask


def test_a_check_whose_computing_fails_is_left_to_flask(client, company, flask_requests,
                                                        global_headers, monkeypatch):
    """The database lost: the fast path stands aside and Flask answers 503 `no_disponible`, as
    for any request (and the access line is Flask's, once)."""
    gone = OperationalError("SELECT", {}, pymysql.err.OperationalError(2013, "Lost connection"))

    def lost(*_args, **_kwargs):
        raise gone

    monkeypatch.setattr(licencia, "_compute", lost)
    before = len(flask_requests)
    response = client.get(URL, headers=global_headers)
    assert len(flask_requests) == before + 1
    assert response.status_code == 503 and response.get_json()["error"] == "no_disponible"
    assert response.headers["Retry-After"]
    assert "X-Signature" not in response.headers


def _wait_for(predicate, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def test_another_process_change_empties_this_process_memory(app, client, company, flask_requests,
                                                            computed, global_headers, licence_redis):
    """Another process announces a change the way licencia.cache does (INCR + PUBLISH on its
    own connection): this process stops serving its memory within moments."""
    shared = licencia.shared_layer(app)
    assert _wait_for(shared.memory_usable)
    client.get(URL, headers=global_headers)
    before = len(flask_requests)
    client.get(URL, headers=global_headers)
    assert len(flask_requests) == before  # from memory
    generation = cache.memory.generation

    licence_redis.incr(cache.VERSION_KEY)
    licence_redis.publish(cache.CHANNEL, "1")
    assert _wait_for(lambda: cache.memory.generation > generation, 2.0)
    before = len(computed)
    client.get(URL, headers=global_headers)
    assert len(computed) == before + 1  # the memory (and Redis) emptied: computed again


def test_without_the_change_channel_memory_is_not_used(client, company, computed,
                                                       global_headers, unreachable_redis):
    """Redis unreachable: no announcement can arrive, so nothing is served from memory (and the
    database answers every check)."""
    for _ in range(3):
        response = client.get(URL, headers=global_headers)
        assert response.status_code == 200 and response.get_json()["codigo"] == "VALIDA"
    assert len(computed) == 3


def test_a_fresh_process_is_answered_from_redis_before_flask(app, client, company, flask_requests,
                                                             computed, global_headers, licence_redis):
    """Another process computed the answer (it is in Redis); this process's memory does not
    have it: the fast path reads it from Redis, for no longer than Redis keeps it."""
    shared = licencia.shared_layer(app)
    assert _wait_for(shared.memory_usable)
    first = client.get(URL, headers=global_headers)  # computed, stored in Redis and memory
    [key] = licence_redis.keys(f"licencia:v*:nit:{NIT}:*")
    licence_redis.pexpire(key, 5_000)
    cache.memory.bump()  # as a process that never saw this NIT
    before = len(flask_requests)
    second = client.get(URL, headers=global_headers)
    assert len(flask_requests) == before and len(computed) == 1  # from Redis, before Flask
    assert second.get_json()["codigo"] == first.get_json()["codigo"] == "VALIDA"
    [(expires_at, _)] = list(cache.memory._data.values())
    assert expires_at - time.monotonic() <= 5.0  # kept no longer than Redis keeps it


@pytest.fixture
def signatures(monkeypatch):
    """How many times an answer was signed."""
    made = []
    sign = signing.Signer.sign

    def counting(self, data):
        made.append(data)
        return sign(self, data)

    monkeypatch.setattr(signing.Signer, "sign", counting)
    return made


def test_checks_within_one_second_share_one_signature(client, company, global_headers, signatures,
                                                      verify_signature):
    """Nonce-less checks of one cached answer within one second get the same bytes, signed
    once; the next second signs again, with its own `ts`."""
    with time_machine.travel(_noon(0.1), tick=False) as clock:
        before = len(signatures)
        answers = [client.get(URL, headers=global_headers) for _ in range(4)]  # the first computes
        assert len(signatures) == before + 1
        assert {a.data for a in answers} == {answers[0].data}
        assert len({a.headers["X-Request-ID"] for a in answers}) == 4  # headers are per request
        assert answers[0].get_json()["ts"] == _ts(_noon())
        clock.move_to(_noon(1))
        later = client.get(URL, headers=global_headers)
    assert len(signatures) == before + 2
    assert later.get_json()["ts"] == _ts(_noon(1))
    assert later.get_json()["codigo"] == answers[0].get_json()["codigo"] == "VALIDA"
    for response in (*answers, later):
        verify_signature(response)


def test_a_change_within_the_second_is_signed_afresh(client, db, company, computed,
                                                     global_headers, verify_signature):
    with time_machine.travel(_noon(), tick=False):
        client.get(URL, headers=global_headers)
        assert client.get(URL, headers=global_headers).get_json()["codigo"] == "VALIDA"
        company.estado = "suspendida"
        db.session.commit()
        before = len(computed)
        client.get(URL, headers=global_headers)  # the new answer, computed and cached
        after = client.get(URL, headers=global_headers)
    assert len(computed) == before + 1
    assert after.get_json()["codigo"] == "SUSPENDIDA"
    verify_signature(after)


def test_a_nonce_is_signed_every_time(client, company, global_headers, signatures,
                                      verify_signature):
    with time_machine.travel(_noon(), tick=False):
        client.get(URL, headers=global_headers)
        before = len(signatures)
        answers = [client.get(f"{URL}?nonce=n{i}abcdef", headers=global_headers) for i in range(2)]
    assert len(signatures) == before + 2
    assert [a.get_json()["nonce"] for a in answers] == ["n0abcdef", "n1abcdef"]
    for response in answers:
        verify_signature(response)
