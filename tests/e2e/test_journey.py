"""End to end, against a live gunicorn (see conftest.py), over HTTP only: a company signs up
through the SPA, staff activate it and issue an API key, its SaaS instance checks the
licence (signed), staff suspend it, and the customer secures the account with 2FA."""
from __future__ import annotations

import base64
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, DEMO_NIT, SAAS_API_KEY

pytestmark = pytest.mark.integration

PASSWORD = "Cliente#2024x"


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _new_company() -> dict:
    tag = secrets.token_hex(4)
    nit = f"9{secrets.randbelow(10**8):08d}-{secrets.randbelow(10)}"
    return {"nit": nit, "email": f"owner-{tag}@cliente.example.com", "nombre": f"Cliente {tag} S.A.S."}


def _sign_up(live, http, company: dict, plan: dict) -> tuple[dict, dict]:
    """SPA: public sign-up, activation code from the real email, confirm → (sign-up answer, token pair)."""
    answer = http.post(live.url("/public/suscripcion"), json={
        "empresa": {"nit": company["nit"], "nombre": company["nombre"], "contacto": "Ana Pérez"},
        "usuario": {"nombre": "Ana Pérez", "email": company["email"], "password": PASSWORD},
        "plan_id": plan["id"], "periodo": "mensual",
    })
    assert answer.status_code == 201, answer.text
    signup = answer.json()
    assert signup["registro_token"]
    assert signup["empresa"]["nit"] == company["nit"]
    assert signup["suscripcion"]["estado"] == "inactiva"
    assert signup["usuario"]["email_verificado"] is False

    email = live.mailbox.wait_for(company["email"])
    assert "activación" in email["Subject"]
    code = re.search(r"\b(\d{6})\b", live.mailbox.text(email)).group(1)

    # A session that is not yet confirmed cannot sign in.
    refused = http.post(live.url("/auth/login"), json={"email": company["email"], "password": PASSWORD})
    assert refused.status_code == 403 and refused.json()["error"] == "cuenta_pendiente_activacion"

    confirmed = http.post(live.url("/auth/registro/confirmar-otp"),
                          json={"registro_token": signup["registro_token"], "code": code})
    assert confirmed.status_code == 200, confirmed.text
    pair = confirmed.json()
    assert pair["token_type"] == "Bearer" and pair["access_token"] and pair["refresh_token"]
    assert pair["usuario"]["email"] == company["email"] and pair["usuario"]["email_verificado"] is True
    return signup, pair


def _plan_profesional(http, live) -> dict:
    answer = http.get(live.url("/public/planes"))
    assert answer.status_code == 200
    planes = {p["nombre"]: p for p in answer.json()["items"]}
    assert {"Básico", "Profesional", "Empresarial"} <= set(planes)
    return planes["Profesional"]


def _staff_login(live, http) -> dict:
    answer = http.post(live.url("/auth/login"), json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert answer.status_code == 200, answer.text
    pair = answer.json()
    assert pair["usuario"]["rol"] == "admin"
    return pair


class Instance:
    """A SaaS instance: asks for its licence and verifies the signature with the published key."""

    def __init__(self, live, http, api_key: str):
        self.live, self.http, self.api_key = live, http, api_key
        info = http.get(live.url("/api/public-key"))
        assert info.status_code == 200
        info = info.json()
        assert info["algoritmo"] == "Ed25519" and info["kid"]
        self.kid = info["kid"]
        self.public_key = load_pem_public_key(info["public_key_pem"].encode())

    def verified(self, response) -> dict:
        """The body, after checking X-Signature over the exact bytes (raises if forged)."""
        signature = response.headers["X-Signature"]
        self.public_key.verify(base64.b64decode(signature), response.content)
        assert response.headers.get("X-Signature-Kid") == self.kid
        tampered = response.content.replace(b'"', b"'", 1)
        with pytest.raises(InvalidSignature):
            self.public_key.verify(base64.b64decode(signature), tampered)
        return response.json()

    def licence(self, nit: str, nonce: str | None = None, key: str | None = None, http=None):
        params = {"nonce": nonce} if nonce else None
        return (http or self.http).get(self.live.url(f"/api/suscripcion-activa/{nit}"), params=params,
                             headers={"X-API-Key": key or self.api_key})


def _burst_until_both_workers(live, instance, nit: str, phase: str, bursts: int = 10) -> set[str]:
    """Concurrent licence checks (sequential ones all land on the idle worker) until both
    gunicorn workers have answered at least one; returns every `codigo` seen."""
    codigos, sent = set(), 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(bursts):
            nonces = [f"{phase}-{sent + i}" for i in range(8)]
            sent += len(nonces)
            answers = pool.map(lambda n: instance.licence(nit, nonce=n, http=live.session()), nonces)
            for nonce, answer in zip(nonces, answers, strict=True):
                assert answer.status_code == 200
                body = instance.verified(answer)
                assert body["nonce"] == nonce
                codigos.add(body["codigo"])
                if body["codigo"] != "VALIDA":
                    assert body["activa"] is False and body["servicios"] == []
            if len(live.workers_that_served(f"nonce={phase}-", expected=sent)) == 2:
                return codigos
    pytest.fail(f"one gunicorn worker answered all {sent} concurrent licence checks ({phase})")


def test_sign_up_activation_and_licence_checks(live):
    spa, staff, saas = live.session(), live.session(), live.session()
    company = _new_company()

    # --- the SPA: catalogue, sign-up, activation code by email, the new account
    plan = _plan_profesional(spa, live)
    servicios_del_plan = {s["nombre"]: s["cantidad"] for s in plan["servicios"]}
    assert servicios_del_plan == {"Facturación electrónica": 1000, "Inventario": 1, "Usuarios": 10}
    signup, customer = _sign_up(live, spa, company, plan)
    empresa_id, suscripcion_id = signup["empresa"]["id"], signup["suscripcion"]["id"]

    profile = spa.get(live.url("/account/profile"), headers=_bearer(customer["access_token"]))
    assert profile.status_code == 200
    assert profile.json()["email"] == company["email"]
    assert profile.json()["empresa_id"] == empresa_id and profile.json()["rol"] == "cliente"

    mine = spa.get(live.url("/account/subscriptions"), headers=_bearer(customer["access_token"]))
    assert mine.status_code == 200
    assert mine.json()["total"] == 1
    [sub] = mine.json()["items"]
    assert sub["id"] == suscripcion_id and sub["estado"] == "inactiva" and sub["periodo"] == "mensual"
    assert sub["plan"]["id"] == plan["id"]
    assert {s["nombre"]: s["cantidad"] for s in sub["plan"]["servicios"]} == servicios_del_plan

    # The customer is not staff.
    forbidden = spa.get(live.url("/admin/empresas"), headers=_bearer(customer["access_token"]))
    assert forbidden.status_code == 403 and forbidden.json()["error"] == "prohibido"

    # --- staff: find the company, activate its subscription, give its instance a key
    admin = _staff_login(live, staff)
    as_admin = _bearer(admin["access_token"])
    found = staff.get(live.url("/admin/empresas"), params={"q": company["nit"]}, headers=as_admin)
    assert found.status_code == 200
    assert [e["id"] for e in found.json()["items"]] == [empresa_id]

    pending = staff.get(live.url("/admin/suscripciones"),
                        params={"empresa_id": empresa_id, "estado": "inactiva"}, headers=as_admin)
    assert [s["id"] for s in pending.json()["items"]] == [suscripcion_id]

    # Before activation the instance has no licence (SIN_SUSCRIPCION, signed).
    instance = Instance(live, saas, SAAS_API_KEY)
    before = instance.licence(company["nit"])
    assert before.status_code == 200
    assert instance.verified(before)["codigo"] == "SIN_SUSCRIPCION"

    activated = staff.post(live.url(f"/admin/suscripciones/{suscripcion_id}/reactivar"), headers=as_admin)
    assert activated.status_code == 200, activated.text
    assert activated.json()["estado"] == "activa"
    again = staff.post(live.url(f"/admin/suscripciones/{suscripcion_id}/reactivar"), headers=as_admin)
    assert again.status_code == 409 and again.json()["error"] == "conflicto"

    created = staff.post(live.url(f"/admin/empresas/{empresa_id}/api-keys"),
                         json={"nombre": "instancia producción"}, headers=as_admin)
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["api_key"].startswith(key["prefijo"])
    listed = staff.get(live.url(f"/admin/empresas/{empresa_id}/api-keys"), headers=as_admin)
    assert [k["id"] for k in listed.json()["items"]] == [key["id"]]
    assert "api_key" not in listed.json()["items"][0]

    audit = staff.get(live.url("/admin/auditoria"),
                      params={"tabla": "suscripciones", "registro_id": str(suscripcion_id)},
                      headers=as_admin)
    assert audit.status_code == 200
    [row] = audit.json()["items"]
    assert row["accion"] == "actualizar" and row["usuario_id"] == admin["usuario"]["id"]
    assert row["valores_anteriores"]["estado"] == "inactiva" and row["valores_nuevos"]["estado"] == "activa"
    audit_key = staff.get(live.url("/admin/auditoria"),
                          params={"tabla": "api_keys", "registro_id": str(key["id"])}, headers=as_admin)
    [row] = audit_key.json()["items"]
    assert row["accion"] == "crear" and row["usuario_id"] == admin["usuario"]["id"]
    assert key["api_key"] not in audit_key.text and "key_hash" not in row["valores_nuevos"]

    # --- the SaaS instance, with its own company key
    instance = Instance(live, saas, key["api_key"])
    answer = instance.licence(company["nit"], nonce="xyz")
    assert answer.status_code == 200
    body = instance.verified(answer)
    assert body["activa"] is True and body["codigo"] == "VALIDA" and body["nonce"] == "xyz"
    assert body["ts"].endswith("Z") and body["nit"] == company["nit"]
    assert body["empresa"] == {"id": empresa_id, "nit": company["nit"], "nombre": company["nombre"],
                               "estado": "activa"}
    assert body["suscripcion"]["id"] == suscripcion_id and body["suscripcion"]["estado"] == "activa"
    assert {s["nombre"]: s["cantidad"] for s in body["servicios"]} == servicios_del_plan
    # The answer is cached in Redis, shared by both gunicorn workers.
    assert live.redis.keys("licencia:v*")

    other = instance.licence(DEMO_NIT, key=key["api_key"])
    assert other.status_code == 403 and other.json()["error"] == "prohibido"
    for nit, codigo in ((company["nit"], "VALIDA"), (DEMO_NIT, "SIN_SUSCRIPCION")):
        with_global = instance.licence(nit, nonce="g1", key=SAAS_API_KEY)
        assert with_global.status_code == 200
        assert instance.verified(with_global)["codigo"] == codigo
    no_key = saas.get(live.url(f"/api/suscripcion-activa/{company['nit']}"))
    assert no_key.status_code == 401 and no_key.json()["error"] == "no_autenticado"

    services = saas.post(live.url("/api/verificar-servicios-activos"),
                         json={"nit": company["nit"], "servicios": ["Inventario", "Nómina"], "nonce": "s1"},
                         headers={"X-API-Key": key["api_key"]})
    assert services.status_code == 200
    body = instance.verified(services)
    assert body["nonce"] == "s1" and body["nit"] == company["nit"]
    assert body["servicios"] == {"Inventario": {"activo": True, "cantidad": 1},
                                 "Nómina": {"activo": False, "cantidad": 0}}

    # Both gunicorn workers answer VALIDA (and so hold or share a cached answer), staff
    # suspend, and at once both workers answer SUSPENDIDA: the cache is invalidated across
    # processes (through the version key in Redis, backend/licencia/services.py).
    assert _burst_until_both_workers(live, instance, company["nit"], "before") == {"VALIDA"}
    suspended = staff.post(live.url(f"/admin/suscripciones/{suscripcion_id}/suspender"), headers=as_admin)
    assert suspended.status_code == 200 and suspended.json()["estado"] == "suspendida"
    assert _burst_until_both_workers(live, instance, company["nit"], "after") == {"SUSPENDIDA"}
    services = saas.post(live.url("/api/verificar-servicios-activos"),
                         json={"nit": company["nit"], "servicios": ["Inventario"]},
                         headers={"X-API-Key": key["api_key"]})
    assert instance.verified(services)["servicios"] == {"Inventario": {"activo": False, "cantidad": 0}}

    audit = staff.get(live.url("/admin/auditoria"),
                      params={"tabla": "suscripciones", "registro_id": str(suscripcion_id)},
                      headers=as_admin)
    assert [(r["valores_anteriores"]["estado"], r["valores_nuevos"]["estado"])
            for r in audit.json()["items"]] == [("activa", "suspendida"), ("inactiva", "activa")]

    # --- observability: ids echoed, errors enveloped, log files by category
    request_id = "e2e-" + secrets.token_hex(6)
    traced = saas.get(live.url(f"/api/suscripcion-activa/{company['nit']}"),
                      headers={"X-API-Key": key["api_key"], "X-Request-ID": request_id})
    assert traced.headers["X-Request-ID"] == request_id
    unknown = spa.get(live.url("/api/no-such-route"), headers={"Accept": "application/json"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "no_encontrado"
    assert live.responses and all(r.headers.get("X-Request-ID") for r in live.responses)

    auth_log = (live.log_dir / "auth.log").read_text(encoding="utf-8")
    api_log = (live.log_dir / "api.log").read_text(encoding="utf-8")
    assert re.search(r"POST /auth/login 200 ", auth_log), auth_log[-2000:]
    assert re.search(r"POST /auth/registro/confirmar-otp 200 ", auth_log)
    assert re.search(rf"\[{request_id}\] backend\.api: GET /api/suscripcion-activa/"
                     rf"{re.escape(company['nit'])} 200 ", api_log), api_log[-2000:]
    assert re.search(r"GET /api/suscripcion-activa/\S+ 403 ", api_log)


def test_two_factor_sign_in_and_refresh_rotation(live):
    spa = live.session()
    _, pair = _sign_up(live, spa, _new_company(), _plan_profesional(spa, live))
    email = pair["usuario"]["email"]

    # --- 2FA on
    setup = spa.post(live.url("/auth/otp/setup"), headers=_bearer(pair["access_token"]))
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    assert setup.json()["provisioning_uri"].startswith("otpauth://totp/")
    activated = spa.post(live.url("/auth/otp/activate"), json={"otp_code": totp.now(), "password": PASSWORD},
                         headers=_bearer(pair["access_token"]))
    assert activated.status_code == 200, activated.text
    assert activated.json()["otp_enabled"] is True and len(activated.json()["backup_codes"]) == 10

    # --- log out: 204, and that access token is dead
    current = pair
    # Turning 2FA on keeps the session that did it.
    assert spa.get(live.url("/account/profile"), headers=_bearer(current["access_token"])).status_code == 200
    out = spa.post(live.url("/auth/logout"), headers=_bearer(current["access_token"]))
    assert out.status_code == 204
    dead = spa.get(live.url("/account/profile"), headers=_bearer(current["access_token"]))
    assert dead.status_code == 401 and dead.json()["error"] == "no_autenticado"
    dead_refresh = spa.post(live.url("/auth/refresh"), headers=_bearer(current["refresh_token"]))
    assert dead_refresh.status_code == 401

    # --- log in: password, then a challenge answered with a fresh TOTP code (the next step's,
    # accepted within the window and later than the one used to activate)
    challenge = spa.post(live.url("/auth/login"), json={"email": email, "password": PASSWORD})
    assert challenge.status_code == 202, challenge.text
    assert challenge.json()["requires_otp"] is True
    used = spa.post(live.url("/auth/login/otp"),
                    json={"challenge_token": challenge.json()["challenge_token"],
                          "otp_code": totp.at(time.time() - 30)})
    assert used.status_code == 401  # a step not later than the one already used
    signed_in = spa.post(live.url("/auth/login/otp"),
                         json={"challenge_token": challenge.json()["challenge_token"],
                               "otp_code": totp.at(time.time() + 30)})
    assert signed_in.status_code == 200, signed_in.text
    first = signed_in.json()
    assert first["usuario"]["otp_enabled"] is True
    assert spa.get(live.url("/account/profile"), headers=_bearer(first["access_token"])).status_code == 200

    # --- refresh rotation with reuse detection
    rotated = spa.post(live.url("/auth/refresh"), headers=_bearer(first["refresh_token"]))
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert spa.get(live.url("/account/profile"), headers=_bearer(second["access_token"])).status_code == 200

    reused = spa.post(live.url("/auth/refresh"), headers=_bearer(first["refresh_token"]))
    assert reused.status_code == 401 and reused.json()["error"] == "no_autenticado"
    assert spa.post(live.url("/auth/refresh"), headers=_bearer(second["refresh_token"])).status_code == 401
    assert spa.get(live.url("/account/profile"), headers=_bearer(second["access_token"])).status_code == 401

    auth_log = (live.log_dir / "auth.log").read_text(encoding="utf-8")
    assert re.search(r"POST /auth/login 202 ", auth_log)
    assert re.search(r"POST /auth/refresh 401 ", auth_log)
