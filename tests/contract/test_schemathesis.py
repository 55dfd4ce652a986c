"""Property-based contract run: schemathesis reads the app's own `/openapi.json` (in process,
through WSGI) and, for every operation, sends generated requests, valid (positive) and invalid
(negative), as each caller the operation knows: the admin, a `soporte` staff user and a
customer (`cliente`) with bearer tokens, a per-company API key (with `X-Empresa-Id`) on the
licence and internal support routes, nobody on public ones. Every answer must be no 5xx, a
documented status and match its documented schema; and a request the spec calls valid must not
be refused as invalid (422/400): the spec states every rule the API enforces.

Bounded and deterministic for CI: a few derandomized examples per operation and mode. Half of
the cases name the ids of existing rows in their path (the other half keep the generated ones,
mostly unknown rows), so that found resources are exercised too. Before every case that may
change data (any method but GET and HEAD) the world is laid anew with fresh tokens, so logout,
password changes, session revocation or deleting a user cannot spoil later cases (nothing is
excluded for being destructive)."""
from __future__ import annotations

import json
import os
import tempfile
from functools import cache

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.contract import world as world_mod

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
# `CONTRACT_SURVEY=<file>`: instead of failing on a refused spec-valid request, count them per
# operation (JSON lines appended to the file), with more examples: how the spec and the API
# disagree, e.g. `CONTRACT_SURVEY=/tmp/s.jsonl pytest tests/contract -k positive`.
SURVEY = os.environ.get("CONTRACT_SURVEY")
if SURVEY:
    EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 4}
# `CONTRACT_STATS=<file>`: append how many cases and calls each operation and mode ran.
STATS = os.environ.get("CONTRACT_STATS")
SAFE = {"GET", "HEAD"}
STAFF_AND_CUSTOMER = ("cliente", "soporte", "admin")  # the admin last: its changes are the big ones

# A spec-valid request may still be refused by a rule that spans fields, which JSON Schema as
# apispec writes it cannot state (each is in the description of its body): the refusal's
# message tells these apart from a shape the spec should have stated.
CROSS_FIELD_RULES = (
    "Envíe otp_code o backup_code (uno de los dos).",        # /auth/login/otp, /auth/otp/disable
    "Envíe `servicios` o `servicio_ids` (solo uno).",        # POST /admin/planes/{id}/servicios
    "Un servicio aparece más de una vez.",                   # the same
    "Requerido para la modalidad",                           # max_tickets / max_horas by modalidad
    "No puede ser anterior a fecha_inicio.",                 # support subscription dates
    "No puede ser anterior a desde.",                        # statistics period
)
# Fields whose rule the spec does not state yet, each with the reason; a refusal naming only
# these fields is tolerated. Remove an entry once its owner documents the rule.
SPEC_GAPS: dict[str, dict[str, str]] = {}
# Values only the server can issue: a made-up one is refused like a made-up token.
OPAQUE = {"cursor"}
# Refusals about the rows a request names (a well-formed id of no row, a user of another
# company), not about its shape: the spec cannot know which rows exist.
STATE_RULES = ("No existe.", "La empresa no existe.", "El usuario no es de esa empresa.",
               "Debe ser un usuario activo de staff.", "La suscripción no es de esa empresa.",
               "El tipo de soporte no está activo.", "Servicios inexistentes",
               "Plan inexistente o inactivo.")
# Ids in a body that `known` cases point at existing rows (as with path ids).
BODY_IDS = {"empresa_id": "empresa_id", "plan_id": "plan_id", "suscripcion_id": "suscripcion_id",
            "soporte_suscripcion_id": "soporte_suscripcion_id", "soporte_tipo_id": "tipo_id",
            "servicio_id": "servicio_id", "usuario_id": "usuario_id", "asignado_a": "soporte_id"}


@cache
def _spec_operations() -> list[tuple[str, bool]]:
    """Every operation of the spec as `METHOD /path`, and whether it takes any input (read once
    at collection from an app on a throwaway SQLite database: the spec depends on the code
    only)."""
    from backend import create_app
    from tests.conftest import make_config

    base = tempfile.mkdtemp(prefix="spec-")
    app = create_app(make_config(
        SQLALCHEMY_DATABASE_URI="sqlite://", UPLOAD_FOLDER=f"{base}/uploads",
        MAIL_OUTBOX_DIR=f"{base}/outbox", LOCATION_DB_PATH=f"{base}/location.sqlite3",
        LICENSE_SIGNING_KEY_PATH=f"{base}/license.pem"))
    spec = app.test_client().get("/openapi.json").get_json()
    methods = ("get", "head", "post", "put", "patch", "delete")
    return [(f"{method.upper()} {path}",
             bool(item.get("parameters") or item[method].get("parameters")
                  or item[method].get("requestBody")))
            for path, item in spec["paths"].items() for method in item if method in methods]


def _runs() -> list:
    """Each operation in positive mode, and in negative mode where it takes input (with none
    there is nothing to make invalid)."""
    return [pytest.param(label, mode, id=f"{label}-{mode.value}")
            for label, has_input in _spec_operations()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            if has_input or mode is GenerationMode.POSITIVE]


@pytest.fixture(scope="session")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def callers_of(operation) -> tuple[str, ...]:
    schemes = {name for requirement in operation.definition.raw.get("security", [])
               for name in requirement}
    if "bearerAuth" in schemes:
        return STAFF_AND_CUSTOMER
    if "apiKey" in schemes:
        return ("api_key",)
    return ("anonymous",)


def headers_for(caller: str, operation, world: world_mod.World) -> dict[str, str]:
    if caller == "anonymous":
        return {}
    if caller == "api_key":
        return {"X-API-Key": world.api_key, "X-Empresa-Id": str(world.ids["empresa_id"])}
    pair = world.tokens[caller]
    token = pair["refresh_token"] if operation.path == "/auth/refresh" else pair["access_token"]
    return {"Authorization": f"Bearer {token}"}


def point_at_known_rows(case, caller: str, world: world_mod.World) -> None:
    """Point the case's path (the caller's own spare session) and the ids in its body at
    existing rows."""
    for name in list(case.path_parameters or {}):
        key = f"sesion_{caller}" if name == "sesion_id" else name
        if key in world.ids:
            case.path_parameters[name] = world.ids[key]
    if isinstance(case.body, dict):
        for name, key in BODY_IDS.items():
            if isinstance(case.body.get(name), int) and not isinstance(case.body[name], bool):
                case.body[name] = world.ids[key]


def _messages(details) -> list[str]:
    if isinstance(details, str):
        return [details]
    if isinstance(details, list):
        return [m for item in details for m in _messages(item)]
    if isinstance(details, dict):
        return [m for item in details.values() for m in _messages(item)]
    return []


def rejected_as_invalid(case, response, label: str) -> str | None:
    """Why a positive case's 400/422 breaks the contract, or None."""
    if response.status_code not in (400, 422):
        return None
    body = response.json() if response.headers.get("content-type", [""])[0].startswith(
        "application/json") else None
    if isinstance(body, dict) and body.get("error") not in ("validacion", "solicitud_invalida",
                                                            "password_debil"):
        return None  # a rule about the data's state (codigo_invalido, token_invalido...)
    details = body.get("details") if isinstance(body, dict) else None
    if isinstance(details, dict) and details and set(details) <= OPAQUE | set(SPEC_GAPS.get(label, {})):
        return None
    messages = _messages(details)
    if messages and all(m.startswith(STATE_RULES + CROSS_FIELD_RULES) for m in messages):
        return None
    return (f"{label}: spec-valid request refused with {response.status_code}: "
            f"{response.text[:500]}\nbody sent: {case.body!r}\nquery: {case.query!r}")


def run_operation(app, api_schema, label: str, mode: GenerationMode) -> dict:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    callers = callers_of(operation)
    state = {"world": None, "cases": 0, "calls": 0, "refused": 0, "examples": []}

    @settings(max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None,
              phases=[Phase.generate, Phase.shrink],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), known=st.booleans())
    def check(case, known):
        if state["world"] is None or operation.method.upper() not in SAFE:
            state["world"] = world_mod.build(app)
        world = state["world"]
        state["cases"] += 1
        for caller in callers:
            if known:
                point_at_known_rows(case, caller, world)
            response = case.call(headers=headers_for(caller, operation, world))
            state["calls"] += 1
            case.validate_response(response, checks=CHECKS)
            if mode is GenerationMode.POSITIVE and caller in ("admin", "api_key", "anonymous"):
                problem = rejected_as_invalid(case, response, label)
                if SURVEY and problem:
                    state["refused"] += 1
                    state["examples"] = [*state["examples"][:2], problem[:400]]
                else:
                    assert problem is None, problem

    check()
    if STATS:
        with open(STATS, "a") as out:
            out.write(json.dumps({"op": label, "mode": mode.value, "cases": state["cases"],
                                  "calls": state["calls"]}) + "\n")
    if SURVEY and mode is GenerationMode.POSITIVE:
        with open(SURVEY, "a") as out:
            out.write(json.dumps({"op": label, "cases": state["cases"], "refused": state["refused"],
                                  "examples": state["examples"]}) + "\n")
    return state


@pytest.mark.parametrize(("label", "mode"), _runs())
def test_operation_keeps_its_contract(app, api_schema, label, mode):
    run_operation(app, api_schema, label, mode)
