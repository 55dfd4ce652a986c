"""Field validators and normalisers shared by every schema that takes these fields."""
from __future__ import annotations

import importlib
import re
from typing import ClassVar

import pycountry
from marshmallow import ValidationError, fields, validate

NIT_RE = re.compile(r"^\d{5,15}(-\d)?$", re.ASCII)  # ASCII: not Arabic-Indic or other digits


def normalize_nit(value: str) -> str:
    """Digits with an optional `-` check digit (dots and spaces removed)."""
    cleaned = re.sub(r"[.\s]", "", value or "")
    if not NIT_RE.match(cleaned):
        raise ValidationError("NIT inválido: dígitos con un dígito de verificación opcional (900123456-7).")
    return cleaned


def normalize_phone(value: str, region: str = "CO") -> str:
    """E.164 (`+573001234567`); numbers without a prefix are read as Colombian."""
    phonenumbers = importlib.import_module("phonenumbers")  # on first use: 15 ms of a start
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError("Teléfono inválido.") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("Teléfono inválido.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased."""
    code = (value or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError("País inválido: use el código ISO de dos letras (CO).")
    return code


EMAIL_MAX_LENGTH = 255  # Usuario.email and LogAcceso.email


def email_key(value) -> str:
    """The one form an email is stored, looked up and throttled by: trimmed and lower-cased
    ("" for a non-string)."""
    return value.strip().lower() if isinstance(value, str) else ""


def normalize_email(value: str) -> str:
    """A syntactically valid address (no DNS lookup), in its `email_key` form."""
    email_validator = importlib.import_module("email_validator")  # on first use: 20 ms of a start
    try:
        result = email_validator.validate_email(value or "", check_deliverability=False)
    except email_validator.EmailNotValidError as exc:
        raise ValidationError("Correo electrónico inválido.") from exc
    return email_key(result.normalized)


# What the spec says of these fields (OpenAPI 3.0 / JSON Schema). Where the real rule cannot be
# written as a pattern (a phone number valid per `phonenumbers`, an address valid per
# `email-validator`), the description states it and the pattern is a subset of what is accepted:
# whatever matches it is accepted, so input the spec calls valid is never refused.
NIT_PATTERN = r"^[0-9]{5,15}(-[0-9])?$"
PHONE_PATTERN = r"^\+573(0[0-5]|1[0-9]|2[0-3])[0-9]{7}$"
EMAIL_PATTERN = (r"^[A-Za-z0-9]{1,20}([._+-][A-Za-z0-9]{1,20}){0,2}"
                 r"@[A-Za-z0-9]{1,20}(-[A-Za-z0-9]{1,20})?(\.[A-Za-z0-9]{1,20}){0,2}"
                 r"\.(com|org|net|co|io)$")
# The ISO 3166-1 alpha-2 codes pycountry knows, written out so that importing the schemas does
# not load pycountry's database into every process (tests/contract checks the two agree).
COUNTRY_CODES = (
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
)
# Unanchored: at least one character that is not a space as Python's `str.strip` sees it (the
# ECMA `\s` of JSON Schema misses \x1c-\x1f and \x85, which Python strips).
NOT_BLANK_PATTERN = r"[^\s\x1c-\x1f\x85]"

FIELD_DOCS = {
    "nit": {"pattern": NIT_PATTERN, "example": "900123456-7", "description": (
        "NIT: 5 to 15 ASCII digits with an optional `-` check digit; dots and spaces are "
        "removed first (`900.123.456-7` is read as `900123456-7`).")},
    "phone": {"pattern": PHONE_PATTERN, "example": "+573001234567", "description": (
        "A telephone number that libphonenumber (`phonenumbers`) holds valid for its region, "
        "in any usual notation; one without a `+` prefix is read as Colombian. Answered in "
        "E.164. The pattern shows the simplest accepted form (a Colombian mobile in E.164); "
        "any valid number of any country is accepted too.")},
    "email": {"format": "email", "maxLength": EMAIL_MAX_LENGTH, "pattern": EMAIL_PATTERN,
              "example": "ana@example.com", "description": (
                  "An address that `email-validator` accepts (syntax only, no DNS look-up: "
                  "RFC 5321/5322 with internationalised addresses); stored trimmed and "
                  "lower-cased. The pattern shows the common ASCII form; any address the "
                  "validator accepts is accepted too.")},
    "country": {"enum": list(COUNTRY_CODES), "example": "CO", "description": (
        "ISO 3166-1 alpha-2 code of an existing country (lower case is accepted and "
        "upper-cased).")},
}


class _Normalized(fields.String):
    normalizer = staticmethod(lambda v: v)
    doc: ClassVar[dict] = {}

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        doc = dict(self.doc)
        if "description" in metadata and "description" in doc:
            metadata = {**metadata, "description": f"{metadata['description']} {doc['description']}"}
        super().__init__(metadata={**doc, **metadata}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        return self.normalizer(value.strip())


class Nit(_Normalized):
    normalizer = staticmethod(normalize_nit)
    doc = FIELD_DOCS["nit"]


class Phone(_Normalized):
    normalizer = staticmethod(normalize_phone)
    doc = FIELD_DOCS["phone"]


class Country(_Normalized):
    normalizer = staticmethod(normalize_country)
    doc = FIELD_DOCS["country"]


class Email(_Normalized):
    normalizer = staticmethod(normalize_email)
    doc = FIELD_DOCS["email"]


PASSWORD_MAX_LENGTH = 128  # the password rule's maximum (identity.services.passwords)


class Password(fields.String):
    """A password in a body: write-only, documented as a password, and at most
    PASSWORD_MAX_LENGTH characters, so a hasher never gets megabytes to chew on (a longer one is
    422 before any hash is computed; the password rule itself is checked by the services)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("load_only", True)
        kwargs.setdefault("validate", validate.Length(max=PASSWORD_MAX_LENGTH))
        metadata = {"format": "password", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)


# The password rule of CONTRACT.md (identity.services.passwords checks it: 422 password_debil).
PASSWORD_MIN_LENGTH = 8
PASSWORD_PATTERN = r"^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])(?=.*[^A-Za-z0-9]).*$"
PASSWORD_RULE = (f"At least {PASSWORD_MIN_LENGTH} and at most {PASSWORD_MAX_LENGTH} characters "
                 "with an upper-case letter (A-Z), a lower-case letter (a-z), a digit and a "
                 "special character (anything else); otherwise 422 `password_debil` listing "
                 "what is missing.")


class NewPassword(Password):
    """A password being set (registration, reset, change, staff): the spec states the rule.
    A password only checked against the stored one (sign-in, re-authentication) is a plain
    `Password`: an old password that predates the rule must still work."""

    def __init__(self, **kwargs):
        metadata = kwargs.pop("metadata", {})
        description = " ".join(filter(None, [metadata.get("description"), PASSWORD_RULE]))
        metadata = {"minLength": PASSWORD_MIN_LENGTH, "pattern": PASSWORD_PATTERN,
                    "example": "Secreta#123", **metadata, "description": description}
        super().__init__(metadata=metadata, **kwargs)


class Trimmed(fields.String):
    """A string with surrounding spaces removed; blank counts as missing when required (and
    where a minimum length applies: the spec then says it needs a visible character)."""

    def __init__(self, **kwargs):
        validators = kwargs.get("validate")
        validators = validators if isinstance(validators, (list, tuple)) else [validators]
        needs_text = kwargs.get("required") or any(
            isinstance(v, validate.Length) and (v.min or 0) >= 1 for v in validators)
        has_pattern = any(isinstance(v, validate.Regexp) for v in validators)
        if needs_text and not has_pattern:
            kwargs["metadata"] = {"pattern": NOT_BLANK_PATTERN, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.required and not value:
            raise ValidationError("No puede estar vacío.")
        return value
