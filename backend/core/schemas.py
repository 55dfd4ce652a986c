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


class Money(fields.Field):
    """A JSON number with two decimals in, `Decimal` inside, a number out."""

    def __init__(self, *, minimum: Decimal | int | None = 0, **kwargs):
        self.minimum = None if minimum is None else Decimal(minimum)
        super().__init__(**kwargs)

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

# Largest value of a signed 32-bit INTEGER column (MySQL/MariaDB `INT`): every id and count.
MAX_INT = 2**31 - 1


class Id(fields.Integer):
    """A row id in a body or query: 1..MAX_INT (a larger one would overflow the database driver)."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=MAX_INT, error="Id inválido."), **kwargs)


class EnumValue(fields.String):
    """A string restricted to an Enum's wire values; dumps the value of enum members."""

    def __init__(self, enum_cls, **kwargs):
        self.enum_cls = enum_cls
        values = [m.value for m in enum_cls]
        validators = [validate.OneOf(values, error="Debe ser uno de: {choices}.")]
        super().__init__(validate=validators, metadata={"enum": values}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return getattr(value, "value", value)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        for validator in self.validators:  # OneOf first, so the lookup below cannot fail
            validator(value)
        return self.enum_cls(value)
