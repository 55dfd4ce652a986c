"""The spec states the rules the API enforces: every pattern, enum and range it documents for a
field with a custom rule describes input that the rule accepts (a subset where the real rule
cannot be written in JSON Schema), and the health probes document their bodies."""
from __future__ import annotations

import re
from datetime import date

import pycountry
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from backend.core.schemas import FECHA_PATTERN
from backend.core.validators import (
    COUNTRY_CODES,
    EMAIL_PATTERN,
    NIT_PATTERN,
    NOT_BLANK_PATTERN,
    PASSWORD_MAX_LENGTH,
    PASSWORD_MIN_LENGTH,
    PASSWORD_PATTERN,
    PHONE_PATTERN,
    normalize_country,
    normalize_email,
    normalize_nit,
    normalize_phone,
)
from backend.identity.services.passwords import password_problems

SAMPLES = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck))


def test_country_codes_are_pycountrys():
    assert list(COUNTRY_CODES) == sorted(c.alpha_2 for c in pycountry.countries)
    for code in COUNTRY_CODES:
        assert normalize_country(code.lower()) == code


@pytest.mark.parametrize(("pattern", "accept"), [
    (NIT_PATTERN, normalize_nit),
    (PHONE_PATTERN, normalize_phone),
    (EMAIL_PATTERN, normalize_email),
], ids=["nit", "phone", "email"])
def test_documented_pattern_is_accepted(pattern, accept):
    @SAMPLES
    @given(st.from_regex(pattern, fullmatch=True))
    def accepted(value):
        accept(value)

    accepted()


def test_documented_patterns_refuse_what_the_rule_refuses():
    for value in ("prioridad", "", "١٢٣٤٥٦"):
        with pytest.raises(ValidationError):
            normalize_nit(value)
        assert not re.search(NIT_PATTERN, value)


def test_password_pattern_is_the_rule():
    @SAMPLES
    @given(st.from_regex(PASSWORD_PATTERN, fullmatch=True).filter(
        lambda p: PASSWORD_MIN_LENGTH <= len(p) <= PASSWORD_MAX_LENGTH))
    def follows_rule(password):
        assert password_problems(password) == []

    follows_rule()
    for weak in ("Secreta123", "secreta#123", "SECRETA#123", "Secreta#abc", "Se#1"):
        assert password_problems(weak)
        assert not (re.search(PASSWORD_PATTERN, weak) and len(weak) >= PASSWORD_MIN_LENGTH)


def test_not_blank_pattern_means_something_is_left_after_strip():
    @SAMPLES
    @given(st.from_regex(NOT_BLANK_PATTERN))
    def not_blank(value):
        assert value.strip()

    not_blank()
    for blank in ("\x85", " \x1c\t", "\u3000"):
        assert not re.search(NOT_BLANK_PATTERN, blank)


def test_date_pattern_is_inside_the_accepted_range():
    @SAMPLES
    @given(st.from_regex(FECHA_PATTERN, fullmatch=True))
    def in_range(value):
        assert date(1900, 1, 1) <= date.fromisoformat(value) <= date(2999, 12, 31)

    in_range()


def test_spec_documents_the_rules(client):
    spec = client.get("/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    empresa = schemas["Empresa"]["properties"]
    assert empresa["nit"]["pattern"] == NIT_PATTERN
    assert empresa["telefono"]["pattern"] == PHONE_PATTERN
    assert empresa["email"]["pattern"] == EMAIL_PATTERN
    assert empresa["pais"]["enum"][:2] == ["AD", "AE"]
    assert empresa["nombre"]["pattern"] == NOT_BLANK_PATTERN
    registro = schemas["Registro"]["properties"]["password"]
    assert registro["pattern"] == PASSWORD_PATTERN and registro["minLength"] == 8
    assert "password_debil" in registro["description"]
    # Sign-in takes any stored password: no rule there.
    assert "pattern" not in schemas["Login"]["properties"]["password"]
    precio = schemas["Plan"]["properties"]["precio_mensual"]
    assert precio["type"] == "number" and precio["multipleOf"] == 0.01
    assert schemas["CerrarTicket"]["properties"]["horas"]["minimum"] == 0.01
    for path in ("/health", "/healthz", "/ready"):
        answer = spec["paths"][path]["get"]["responses"]["200"]
        assert "schema" in answer["content"]["application/json"], path
    assert "503" in spec["paths"]["/ready"]["get"]["responses"]


def test_ready_answers_match_their_documented_bodies(client):
    body = client.get("/ready").get_json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert client.get("/health").get_json() == {"status": "ok"}
