"""GET /api/suscripcion-activa/:nit, POST /api/verificar-licencia, /api/planes, /api/public-key."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from cryptography.exceptions import InvalidSignature

from tests.conftest import assert_error

TODAY = date.today()


def _day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


# Each case: (name, setup(empresa, plan, make_suscripcion) -> None, empresa estado, codigo,
#             expected subscription estado or None)
CASES = [
    ("valida", lambda e, p, s: s(e, p), "activa", "VALIDA", "activa"),
    ("valida_ultimo_dia", lambda e, p, s: s(e, p, fecha_inicio=_day(-30), fecha_fin=_day(0)),
     "activa", "VALIDA", "activa"),
    ("valida_primer_dia", lambda e, p, s: s(e, p, fecha_inicio=_day(0), fecha_fin=_day(30)),
     "activa", "VALIDA", "activa"),
    ("sin_suscripcion", lambda e, p, s: None, "activa", "SIN_SUSCRIPCION", None),
    ("pendiente_inactiva", lambda e, p, s: s(e, p, estado="inactiva"), "activa", "SIN_SUSCRIPCION",
     "inactiva"),
    ("activa_futura", lambda e, p, s: s(e, p, fecha_inicio=_day(1), fecha_fin=_day(31)), "activa",
     "SIN_SUSCRIPCION", "activa"),
    ("vencida", lambda e, p, s: s(e, p, fecha_inicio=_day(-31), fecha_fin=_day(-1)), "activa",
     "VENCIDA", "activa"),
    ("suspendida", lambda e, p, s: s(e, p, estado="suspendida"), "activa", "SUSPENDIDA", "suspendida"),
    ("cancelada", lambda e, p, s: s(e, p, estado="cancelada"), "activa", "CANCELADA", "cancelada"),
    ("empresa_inactiva", lambda e, p, s: s(e, p), "inactiva", "EMPRESA_INACTIVA", "activa"),
    # Precedence: the activa subscription wins over newer non-active ones...
    ("activa_gana", lambda e, p, s: (s(e, p), s(e, p, estado="cancelada")), "activa", "VALIDA",
     "activa"),
    # ...and without one the most recent subscription explains the answer.
    ("la_mas_reciente", lambda e, p, s: (s(e, p, estado="suspendida"), s(e, p, estado="cancelada")),
     "activa", "CANCELADA", "cancelada"),
    ("reciente_pendiente", lambda e, p, s: (s(e, p, estado="cancelada"), s(e, p, estado="inactiva")),
     "activa", "SIN_SUSCRIPCION", "inactiva"),
]


@pytest.fixture
def plan(make_plan):
    return make_plan(nombre="Pro", servicios={"Facturacion": 100, "Inventario": 1})


@pytest.mark.parametrize("name,setup,empresa_estado,codigo,sus_estado", CASES, ids=[c[0] for c in CASES])
def test_codigo_cases(client, make_empresa, make_suscripcion, plan, global_headers, verify_signature,
                      name, setup, empresa_estado, codigo, sus_estado):
    empresa = make_empresa(nit="900111222-3", nombre="ACME", estado=empresa_estado)
    setup(empresa, plan, make_suscripcion)

    response = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers)

    assert response.status_code == 200
    verify_signature(response)
    body = response.get_json()
    assert body["codigo"] == codigo
    assert body["activa"] is (codigo == "VALIDA")
    assert body["empresa"] == {"id": empresa.id, "nit": "900111222-3", "nombre": "ACME",
                               "estado": empresa_estado}
    if sus_estado is None:
        assert body["suscripcion"] is None
    else:
        assert body["suscripcion"]["estado"] == sus_estado
        assert body["suscripcion"]["plan"] == {"id": plan.id, "nombre": "Pro"}
    if codigo == "VALIDA":
        assert body["servicios"] == [
            {"nombre": "Facturacion", "cantidad": 100, "url_api": "/api/facturacion"},
            {"nombre": "Inventario", "cantidad": 1, "url_api": "/api/inventario"},
        ]
    else:
        assert body["servicios"] == []
    assert body["ts"].endswith("Z")


def test_valida_body_exact(client, make_empresa, make_suscripcion, plan, global_headers):
    empresa = make_empresa(nit="900111222-3", nombre="ACME")
    sus = make_suscripcion(empresa, plan, periodo="anual", fecha_inicio=_day(-1), fecha_fin=_day(363))
    later = f"{_day(400).isoformat()}T03:04:05Z"
    with time_machine.travel(later, tick=False):
        # Past the subscription's end (a year ahead): exercise the clock too.
        late = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers).get_json()
    assert late["codigo"] == "VENCIDA" and late["ts"] == later

    body = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers).get_json()
    body.pop("ts")
    assert body == {
        "activa": True, "codigo": "VALIDA", "nit": "900111222-3",
        "empresa": {"id": empresa.id, "nit": "900111222-3", "nombre": "ACME", "estado": "activa"},
        "suscripcion": {"id": sus.id, "plan": {"id": plan.id, "nombre": "Pro"}, "periodo": "anual",
                        "fecha_inicio": _day(-1).isoformat(), "fecha_fin": _day(363).isoformat(),
                        "estado": "activa"},
        "servicios": [
            {"nombre": "Facturacion", "cantidad": 100, "url_api": "/api/facturacion"},
            {"nombre": "Inventario", "cantidad": 1, "url_api": "/api/inventario"},
        ],
    }


def test_inactive_service_not_granted(client, db, make_empresa, make_suscripcion, plan, global_headers):
    from backend.catalogo.models import Servicio

    make_suscripcion(make_empresa(nit="900111222-3"), plan)
    db.session.query(Servicio).filter_by(nombre="Inventario").one().activo = False
    db.session.commit()
    body = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers).get_json()
    assert [s["nombre"] for s in body["servicios"]] == ["Facturacion"]


def test_expires_when_the_day_passes(client, make_empresa, make_suscripcion, plan, global_headers):
    make_suscripcion(make_empresa(nit="900111222-3"), plan, fecha_inicio=_day(-5), fecha_fin=_day(0))
    assert client.get("/api/suscripcion-activa/900111222-3",
                      headers=global_headers).get_json()["codigo"] == "VALIDA"
    with time_machine.travel(_day(1).isoformat() + "T12:00:00Z"):
        body = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers).get_json()
    assert body["codigo"] == "VENCIDA" and body["activa"] is False


def test_unknown_nit_is_a_signed_404_licence(client, global_headers, verify_signature):
    response = client.get("/api/suscripcion-activa/123456789?nonce=abc", headers=global_headers)
    assert response.status_code == 404
    verify_signature(response)
    body = response.get_json()
    assert body["codigo"] == "EMPRESA_NO_ENCONTRADA" and body["activa"] is False
    assert body["empresa"] is None and body["suscripcion"] is None and body["servicios"] == []
    assert body["error"] == "no_encontrado" and body["message"]
    assert body["nonce"] == "abc"


def test_nit_with_dots_is_normalised(client, make_empresa, global_headers):
    make_empresa(nit="900111222-3")
    body = client.get("/api/suscripcion-activa/900.111.222-3", headers=global_headers).get_json()
    assert body["empresa"]["nit"] == "900111222-3"


def test_malformed_nit_is_422(client, global_headers):
    body = assert_error(client.get("/api/suscripcion-activa/abc", headers=global_headers), 422,
                        "validacion")
    assert "nit" in body["details"]


def test_bad_nonce_is_422(client, make_empresa, global_headers):
    make_empresa(nit="900111222-3")
    body = assert_error(client.get("/api/suscripcion-activa/900111222-3?nonce=" + "x" * 129,
                                   headers=global_headers), 422, "validacion")
    assert "nonce" in body["details"]


# ---------------------------------------------------------------- signature

def test_signature_and_nonce(client, make_empresa, make_suscripcion, plan, global_headers,
                             verify_signature):
    make_suscripcion(make_empresa(nit="900111222-3"), plan)
    response = client.get("/api/suscripcion-activa/900111222-3?nonce=n-123", headers=global_headers)
    verify_signature(response)
    assert response.get_json()["nonce"] == "n-123"
    assert response.headers["Cache-Control"] == "no-store"


def test_tampered_body_fails_verification(client, make_empresa, make_suscripcion, plan,
                                          global_headers, verify_signature):
    make_suscripcion(make_empresa(nit="900111222-3"), plan)
    response = client.get("/api/suscripcion-activa/900111222-3", headers=global_headers)
    response.data = response.data.replace(b'"activa": true', b'"activa": false').replace(
        b'"activa":true', b'"activa":false')
    assert b'"activa"' in response.data
    with pytest.raises(InvalidSignature):
        verify_signature(response)


def test_public_key(client, app):
    import hashlib

    from cryptography.hazmat.primitives import serialization

    response = client.get("/api/public-key")
    assert response.status_code == 200
    body = response.get_json()
    assert body["algoritmo"] == "Ed25519"
    assert set(body) == {"algoritmo", "kid", "public_key_pem", "keys"}
    assert body["keys"] == [{"kid": body["kid"], "public_key_pem": body["public_key_pem"], "actual": True}]
    key = serialization.load_pem_public_key(body["public_key_pem"].encode())
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert body["kid"] == hashlib.sha256(der).hexdigest()[:16]


# ---------------------------------------------------------------- authentication

def test_no_key_is_401(client, make_empresa):
    make_empresa(nit="900111222-3")
    assert_error(client.get("/api/suscripcion-activa/900111222-3"), 401, "no_autenticado")


@pytest.mark.parametrize("key", ["wrong", "sk_00000000_" + "a" * 43, "test-global-api-key-x"])
def test_wrong_key_is_401(client, make_empresa, key):
    make_empresa(nit="900111222-3")
    assert_error(client.get("/api/suscripcion-activa/900111222-3", headers={"X-API-Key": key}),
                 401, "no_autenticado")


def test_company_key_own_company(client, make_empresa, make_suscripcion, plan, company_key):
    empresa = make_empresa(nit="900111222-3")
    make_suscripcion(empresa, plan)
    response = client.get("/api/suscripcion-activa/900111222-3",
                          headers={"X-API-Key": company_key(empresa)})
    assert response.status_code == 200 and response.get_json()["codigo"] == "VALIDA"


def test_company_key_other_company_is_403(client, make_empresa, company_key):
    mine = make_empresa(nit="900111222-3")
    make_empresa(nit="800999888-1")
    headers = {"X-API-Key": company_key(mine)}
    assert_error(client.get("/api/suscripcion-activa/800999888-1", headers=headers), 403, "prohibido")
    # An unknown NIT is refused the same way: a company key cannot probe for NITs.
    assert_error(client.get("/api/suscripcion-activa/111111111", headers=headers), 403, "prohibido")


def test_revoked_company_key_is_401(client, db, make_empresa, company_key):
    from backend.empresas.api_keys import revoke_key

    empresa = make_empresa(nit="900111222-3")
    key = company_key(empresa)
    assert client.get("/api/suscripcion-activa/900111222-3", headers={"X-API-Key": key}).status_code == 200
    from backend.empresas.models import ApiKey

    revoke_key(empresa.id, db.session.query(ApiKey).one().id)
    assert_error(client.get("/api/suscripcion-activa/900111222-3", headers={"X-API-Key": key}),
                 401, "no_autenticado")


def test_company_key_use_is_recorded(client, db, make_empresa, company_key):
    from backend.empresas.models import ApiKey

    empresa = make_empresa(nit="900111222-3")
    key = company_key(empresa)
    client.get("/api/suscripcion-activa/900111222-3", headers={"X-API-Key": key})
    db.session.expire_all()
    assert db.session.query(ApiKey).one().last_used_at is not None


# ---------------------------------------------------------------- cache

def test_changes_are_seen_at_once(client, db, make_empresa, make_suscripcion, plan, global_headers):
    """Cached answers are dropped when a subscription or company changes (ORM commit)."""
    empresa = make_empresa(nit="900111222-3")
    sus = make_suscripcion(empresa, plan)
    url = "/api/suscripcion-activa/900111222-3"
    assert client.get(url, headers=global_headers).get_json()["codigo"] == "VALIDA"
    sus.estado = "suspendida"
    db.session.commit()
    assert client.get(url, headers=global_headers).get_json()["codigo"] == "SUSPENDIDA"
    from sqlalchemy import update

    from backend.empresas.models import Empresa

    db.session.execute(update(Empresa).where(Empresa.id == empresa.id).values(estado="inactiva"))
    db.session.commit()
    assert client.get(url, headers=global_headers).get_json()["codigo"] == "EMPRESA_INACTIVA"


def test_cache_hit_runs_no_query(app, client, db, make_empresa, make_suscripcion, plan, global_headers):
    from sqlalchemy import event

    make_suscripcion(make_empresa(nit="900111222-3"), plan)
    url = "/api/suscripcion-activa/900111222-3"
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get(url, headers=global_headers)
        first = len(statements)
        client.get(url, headers=global_headers)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert first == 1  # one indexed query for company, active subscription, plan and services
    assert len(statements) == first  # then a cache hit


def test_cache_disabled(app, client, db, make_empresa, make_suscripcion, plan, global_headers,
                        monkeypatch):
    from sqlalchemy import text

    monkeypatch.setitem(app.config, "LICENSE_CACHE_SECONDS", 0)
    empresa = make_empresa(nit="900111222-3")
    make_suscripcion(empresa, plan)
    url = "/api/suscripcion-activa/900111222-3"
    assert client.get(url, headers=global_headers).get_json()["codigo"] == "VALIDA"
    # A change made outside the ORM (no version bump) is still seen without a cache.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE empresas SET estado = 'inactiva' WHERE id = :id"), {"id": empresa.id})
    db.session.rollback()  # the test shares the request's session: end its snapshot (MariaDB)
    assert client.get(url, headers=global_headers).get_json()["codigo"] == "EMPRESA_INACTIVA"


# ---------------------------------------------------------------- verificar-licencia (JWT)

def test_verificar_licencia(client, make_empresa, make_usuario, make_suscripcion, plan, auth_headers,
                            verify_signature):
    empresa = make_empresa(nit="900111222-3")
    make_suscripcion(empresa, plan)
    usuario = make_usuario(empresa_id=empresa.id)
    response = client.post("/api/verificar-licencia", json={"nonce": "body-nonce"},
                           headers=auth_headers(usuario))
    assert response.status_code == 200
    verify_signature(response)
    body = response.get_json()
    assert body["codigo"] == "VALIDA" and body["empresa"]["id"] == empresa.id
    assert body["nonce"] == "body-nonce"


def test_verificar_licencia_without_body_and_query_nonce(client, make_empresa, make_usuario,
                                                          auth_headers):
    empresa = make_empresa(nit="900111222-3", estado="inactiva")
    usuario = make_usuario(empresa_id=empresa.id)
    response = client.post("/api/verificar-licencia?nonce=q1", headers=auth_headers(usuario))
    body = response.get_json()
    assert response.status_code == 200 and body["codigo"] == "EMPRESA_INACTIVA" and body["nonce"] == "q1"


def test_verificar_licencia_user_without_company(client, admin_headers, verify_signature):
    response = client.post("/api/verificar-licencia", headers=admin_headers)
    assert response.status_code == 404
    verify_signature(response)
    assert response.get_json()["codigo"] == "EMPRESA_NO_ENCONTRADA"


def test_verificar_licencia_refusals(client, make_usuario, auth_headers, global_headers):
    assert_error(client.post("/api/verificar-licencia"), 401, "no_autenticado")
    # An API key is not an access token.
    assert_error(client.post("/api/verificar-licencia", headers=global_headers), 401, "no_autenticado")
    headers = auth_headers(make_usuario())
    assert_error(client.post("/api/verificar-licencia", data="{bad", headers=headers,
                             content_type="application/json"), 400, "solicitud_invalida")
    assert_error(client.post("/api/verificar-licencia", data="nonce=1", headers=headers,
                             content_type="text/plain"), 415, "tipo_no_soportado")
    body = assert_error(client.post("/api/verificar-licencia", json={"otro": 1}, headers=headers),
                        422, "validacion")
    assert "otro" in body["details"]


# ---------------------------------------------------------------- /api/planes

def test_api_planes(client, make_plan, global_headers):
    make_plan(nombre="Oculto", activo=False)
    plan = make_plan(nombre="Visible", servicios={"Facturacion": 5})
    body = client.get("/api/planes", headers=global_headers).get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    assert body["items"][0]["id"] == plan.id
    assert body["items"][0]["servicios"][0]["nombre"] == "Facturacion"
    assert body["items"][0]["servicios"][0]["cantidad"] == 5


def test_api_planes_refusals(client, make_empresa, company_key):
    assert_error(client.get("/api/planes"), 401, "no_autenticado")
    assert_error(client.get("/api/planes", headers={"X-API-Key": "nope"}), 401, "no_autenticado")
    ok = client.get("/api/planes", headers={"X-API-Key": company_key(make_empresa())})
    assert ok.status_code == 200
    assert_error(client.get("/api/planes?per_page=1000", headers={"X-API-Key": "test-global-api-key"}),
                 422, "validacion")
