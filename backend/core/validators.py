"""Field validators and normalisers shared by every schema that takes these fields."""
from __future__ import annotations

import re

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
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
    try:
        result = validate_email(value or "", check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationError("Correo electrónico inválido.") from exc
    return email_key(result.normalized)


class _Normalized(fields.String):
    normalizer = staticmethod(lambda v: v)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        return self.normalizer(value.strip())


class Nit(_Normalized):
    normalizer = staticmethod(normalize_nit)


class Phone(_Normalized):
    normalizer = staticmethod(normalize_phone)


class Country(_Normalized):
    normalizer = staticmethod(normalize_country)


class Email(_Normalized):
    normalizer = staticmethod(normalize_email)


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


class Trimmed(fields.String):
    """A string with surrounding spaces removed; blank counts as missing when required."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.required and not value:
            raise ValidationError("No puede estar vacío.")
        return value
