"""Strict JSON decoding shared by every way the app reads a body (Flask's `get_json` and the
schema parser): what the database, the hashers and the encoders cannot take is refused at
the door as malformed JSON (400), never discovered later as a 500."""
from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider

# Deeper than any real request body; deeper ones hit Python's recursion limit (a 500).
MAX_DEPTH = 64


class StrictJSONError(ValueError):
    """The body is valid JSON syntax but not acceptable input."""


def _depth_ok(text: str, value: Any, limit: int) -> bool:
    """Whether `value` nests at most `limit` deep. Cheap: a body with no more than `limit`
    brackets cannot nest deeper, and otherwise only containers are walked, never scalars."""
    if text.count("[") + text.count("{") <= limit or not isinstance(value, dict | list):
        return True
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def _refuse_constant(name: str) -> Any:
    raise StrictJSONError(f"JSON inválido: {name} no es un número JSON.")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):  # 1e999 would read as Infinity
        raise StrictJSONError("JSON inválido: número fuera de rango.")
    return number


def strict_loads(data: str | bytes) -> Any:
    """`json.loads`, refusing what JSON itself does not define (`NaN`, `Infinity`, numbers
    beyond a float), nesting deeper than MAX_DEPTH and lone UTF-16 surrogates (`"\\ud800"`),
    which no UTF-8 store or encoder accepts."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise StrictJSONError("JSON anidado demasiado profundo.") from exc
    if not _depth_ok(text, value, MAX_DEPTH):
        raise StrictJSONError("JSON anidado demasiado profundo.")
    # Lone surrogates can only come from \u escapes; skip the check when there are none.
    if "\\u" in text.lower() and _has_lone_surrogate(value):
        raise StrictJSONError("El JSON contiene texto Unicode inválido.")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON: strict decoding for `request.get_json()` too, and Decimals as JSON numbers
    (money), not the strings Flask emits by default."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        """Strict decoding (too deep or invalid text: ValueError, answered 400)."""
        return strict_loads(s)

    @staticmethod
    def default(o):
        if isinstance(o, Decimal):
            return float(o)
        return DefaultJSONProvider.default(o)
