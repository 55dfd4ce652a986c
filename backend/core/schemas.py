"""Schema base and the wire formats of CONTRACT.md (UTC datetimes with Z, money as numbers)."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from marshmallow import RAISE, Schema, ValidationError, fields, validate


class BaseSchema(Schema):
    """Unknown keys are refused (422 naming them)."""

    class Meta:
        unknown = RAISE


class UTCDateTime(fields.DateTime):
    """ISO 8601 in UTC with `Z`; stored values are naive UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"

    def _deserialize(self, value, attr, data, **kwargs):
        parsed: datetime = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed


MONEY_MAX = 9_999_999_999.99  # below 1e10: what Numeric(12,2) holds


class Money(fields.Field):
    """A JSON number with two decimals in, `Decimal` inside, a number out."""

    def __init__(self, *, minimum: Decimal | int | None = 0, **kwargs):
        self.minimum = None if minimum is None else Decimal(minimum)
        doc = {"type": "number", "multipleOf": 0.01, "maximum": MONEY_MAX,
               "example": 100.0, "description": (
                   "Money: a JSON number with at most two decimals and below 10^10 (a string "
                   "holding such a number is read too).")}
        if self.minimum is not None:
            doc["minimum"] = float(self.minimum)
        super().__init__(metadata={**doc, **kwargs.pop("metadata", {})}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return float(Decimal(value).quantize(Decimal("0.01")))

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValidationError("Debe ser un número.")
        try:
            amount = Decimal(str(value))
        except InvalidOperation as exc:
            raise ValidationError("Debe ser un número.") from exc
        if not amount.is_finite():
            raise ValidationError("Debe ser un número.")
        # Before quantize: a huge value (1e30) cannot be quantized to cents (InvalidOperation).
        if abs(amount) >= Decimal("1e10"):
            raise ValidationError("Valor demasiado grande.")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValidationError("Máximo dos decimales.")
        if self.minimum is not None and amount < self.minimum:
            raise ValidationError(f"Debe ser mayor o igual a {self.minimum}.")
        return amount.quantize(Decimal("0.01"))


# Longest free text (descripcion, notas): a MySQL TEXT column holds 65,535 bytes, i.e.
# 16,383 four-byte characters; longer input is a 422, not a database error.
TEXT_MAX = 10_000

# Dates a body may carry (FECHA ranges in the domains' schemas): 1900-01-01 to 2999-12-31. The
# spec's pattern is a subset (days 01-28) that JSON Schema can state; any real date in the
# range is accepted.
FECHA_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$"


def fecha_doc(description: str = "") -> dict:
    """Spec metadata of a date limited to 1900-01-01..2999-12-31."""
    text = " ".join(filter(None, [description, "From 1900-01-01 to 2999-12-31."]))
    return {"pattern": FECHA_PATTERN, "description": text}


# Largest value of a signed 32-bit INTEGER column (MySQL/MariaDB `INT`): every id and count.
MAX_INT = 2**31 - 1


class Id(fields.Integer):
    """A row id in a body or query: 1..MAX_INT (a larger one would overflow the database driver)."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=MAX_INT, error="Id inválido."), **kwargs)


class EnumValue(fields.String):
    """A string restricted to an Enum's wire values; dumps the value of enum members."""

    def __init__(self, enum_cls, *, only=None, **kwargs):
        """`only`: the members a body may carry here, when fewer than the enum's (the spec lists
        just those)."""
        self.enum_cls = enum_cls
        values = [m.value for m in (only or enum_cls)]
        validators = [validate.OneOf(values, error="Debe ser uno de: {choices}.")]
        metadata = {"enum": values, **kwargs.pop("metadata", {})}
        super().__init__(validate=validators, metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return getattr(value, "value", value)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        for validator in self.validators:  # OneOf first, so the lookup below cannot fail
            validator(value)
        return self.enum_cls(value)
