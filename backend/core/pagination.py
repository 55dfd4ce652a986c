"""Contract pagination: `?page=` from 1, `?per_page=` (default 20, max 100) and
`{"items", "total", "page", "per_page"}` answers, plus two keys present only when they say
something: `next_cursor` (there is a next page) and `total_exact: false` (`total` is a lower
bound). A short list answers exactly the contract's four keys.

Paging by cursor (keyset): every answer with a next page carries `next_cursor`, an opaque
token for the rows after the last one shown (absent on the last page); `?cursor=` answers the
next page from it by a range condition on its ORDER BY columns (`WHERE id < :last ...`),
so page 40,000 costs what page 2 costs, where `?page=` skips the rows before it (OFFSET).
The token is signed with `SECRET_KEY`: it holds the list it belongs to (a digest of the query
and its filters: a cursor of another list, or of the same list with other filters, is refused),
the ORDER BY values of the last row shown, and the number of the page it leads to (the
answer's `page`). A malformed, tampered or foreign cursor is a 422 `validacion` error naming
`cursor`. With `cursor`, `page` is ignored.

`total`: counted with a bound, so that a list of a million rows costs what one of ten
thousand does: exact (no `total_exact` key) whenever the rows matching the filters are at most
`TOTAL_CAP` (10,000; 1,000 for a search `q`, core.search.Search); beyond that `total` is a lower
bound (`total_exact` false): the cap, or the rows up to the end of the page shown when that is
more. On the last page reached with `?page=` (some rows, fewer than `per_page`) the total is
exact again: the rows before it plus those on it.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from marshmallow import Schema, fields, validate
from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from ..extensions import db
from .errors import ValidationFailed
from .search import Search

# Rows counted at most for `total`: beyond it, `total` is a lower bound (`total_exact` false).
TOTAL_CAP = 10_000
CURSOR_SALT = "core.pagination.cursor"
MAX_CURSOR_LENGTH = 1024

SEARCH_CAP_DOC = f"{Search.TOTAL_CAP:,} with a search `q`"
TOTAL_DOC = (f"Rows matching the filters: exact unless `total_exact` is false, always so up to "
             f"{TOTAL_CAP:,} ({SEARCH_CAP_DOC}); beyond that a lower bound (that cap, or the rows "
             "up to the end of this page when more).")
CURSOR_DOC = ("Opaque token from a previous answer's `next_cursor`: the page after it (keyset "
              "paging, as fast for the last page as for the first). Valid for the same list with "
              "the same filters; `page` is ignored with it. A malformed, tampered or foreign "
              "cursor is 422 `validacion`.")


class PaginationArgs(Schema):
    # Bounded so the OFFSET stays a valid database integer.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class CursorPaginationArgs(PaginationArgs):
    """`page`/`per_page`, or `cursor` (a previous answer's `next_cursor`) and `per_page`."""

    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=MAX_CURSOR_LENGTH),
                           metadata={"description": CURSOR_DOC})


_page_schemas: dict[str, type[Schema]] = {}


def page_of(item_schema: type[Schema] | str) -> type[Schema]:
    """A `{"items": [...], "total", "page", "per_page"}` schema (plus `next_cursor` and
    `total_exact` when they apply) for `item_schema` (one per class).

    `item_schema` may be a schema's class name: another domain's contract object is nested
    by name (marshmallow's class registry), never imported."""
    item_name = item_schema if isinstance(item_schema, str) else item_schema.__name__
    name = item_name.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (Schema,), {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(metadata={"description": TOTAL_DOC}),
            "page": fields.Integer(metadata={
                "description": "The page shown, from 1 (with `cursor`: the page the cursor leads to)."}),
            "per_page": fields.Integer(),
            "next_cursor": fields.String(metadata={
                "description": "Only when there is a next page: pass it as `?cursor=` for that page "
                               "(lists whose parameters include `cursor`). Absent on the last page."}),
            "total_exact": fields.Boolean(metadata={
                "description": "Only when `total` is a lower bound, and then `false` (more than "
                               f"{TOTAL_CAP:,} rows match, {SEARCH_CAP_DOC}); absent when `total` "
                               "is exact."}),
        })
    return _page_schemas[name]


# ---------------------------------------------------------------- ordering keys

def _order_keys(stmt) -> list[tuple]:
    """`[(column, attribute name, descending)]` of `stmt`'s ORDER BY, with the entity's primary
    key appended where it is missing (so the order is total and a keyset condition exact)."""
    mapper = inspect(stmt.column_descriptions[0]["entity"])
    keys, seen = [], set()
    for clause in stmt._order_by_clauses:
        descending = False
        if isinstance(clause, UnaryExpression) and clause.modifier in (operators.desc_op, operators.asc_op):
            descending = clause.modifier is operators.desc_op
            clause = clause.element
        prop = mapper.get_property_by_column(clause)  # a mapped column, else an error at once
        if clause.nullable:
            raise TypeError(f"paginate: {prop.key} may be NULL; a keyset needs non-null keys")
        keys.append((clause, prop.key, descending))
        seen.add(prop.key)
    for column in mapper.primary_key:
        prop = mapper.get_property_by_column(column)
        if prop.key not in seen:
            keys.append((prop.class_attribute, prop.key, False))
    return keys


def _after(keys: list[tuple], values: list) -> object:
    """The rows after `values` in the order of `keys`: `a > x OR (a = x AND b > y) ...`."""
    branches = []
    for i, (column, _, descending) in enumerate(keys):
        step = column < values[i] if descending else column > values[i]
        branches.append(and_(*(keys[j][0] == values[j] for j in range(i)), step))
    return or_(*branches) if len(branches) > 1 else branches[0]


# ---------------------------------------------------------------- the token

def _encode(value):
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"a": value.isoformat()}
    if hasattr(value, "value"):  # an Enum key
        return value.value
    raise TypeError(f"paginate: cannot put {type(value).__name__} in a cursor")


def _decode(value):
    if isinstance(value, dict) and len(value) == 1:
        (kind, text), = value.items()
        if isinstance(text, str):
            if kind == "d":
                return Decimal(text)
            if kind == "t":
                return datetime.fromisoformat(text)
            if kind == "a":
                return date.fromisoformat(text)
    if isinstance(value, bool | int | str):
        return value
    raise ValueError("bad cursor value")


def _fingerprint(stmt) -> str:
    """A digest of the statement (entity, filters and their values, order): the list a cursor
    belongs to."""
    compiled = stmt.compile()
    text = compiled.string + "\n" + json.dumps(compiled.params, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=CURSOR_SALT)


def _bad_cursor(message: str = "Cursor inválido: use el `next_cursor` de una respuesta anterior."):
    return ValidationFailed(details={"cursor": [message]})


def _read_cursor(token: str, fingerprint: str, keys: list[tuple]) -> tuple[list, int]:
    """The ORDER BY values and the page number in `token`, else 422 (`cursor`)."""
    try:
        data = _serializer().loads(token)
    except (BadData, UnicodeError, ValueError):
        raise _bad_cursor() from None
    if not isinstance(data, dict) or data.get("l") != fingerprint:
        raise _bad_cursor("El cursor es de otra lista o de otros filtros.")
    values, page = data.get("k"), data.get("p")
    if (not isinstance(values, list) or len(values) != len(keys) or not isinstance(page, int)
            or isinstance(page, bool) or page < 2):
        raise _bad_cursor()
    try:
        return [_decode(v) for v in values], page
    except (ValueError, TypeError, ArithmeticError):
        raise _bad_cursor() from None


def _write_cursor(fingerprint: str, keys: list[tuple], row, page: int) -> str:
    return _serializer().dumps({"l": fingerprint, "k": [_encode(getattr(row, name)) for _, name, _ in keys],
                                "p": page})


# ---------------------------------------------------------------- the page

def _bounded_count(stmt) -> int:
    """How many rows `stmt` matches, counting at most `TOTAL_CAP + 1` (primary key only, no
    ORDER BY, so the smallest index serves)."""
    mapper = inspect(stmt.column_descriptions[0]["entity"])
    ids = (stmt.order_by(None).with_only_columns(*mapper.primary_key, maintain_column_froms=True)
           .limit(TOTAL_CAP + 1))
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def paginate(stmt, page: int = 1, per_page: int = 20, cursor: str | None = None,
             search=None) -> dict:
    """Run `stmt` (a select of one entity, ordered by non-null mapped columns) for one page:
    by `cursor` (keyset) when given, else by `page` (OFFSET); `search` (a core.search.Search)
    narrows it to the rows matching a `q`. Two statements (the bounded count and the page), up
    to two more for a search with many matches (its window, core.search.Search), plus the
    statement's own eager loads, whatever the page or the table size."""
    keys = _order_keys(stmt)
    stmt = stmt.order_by(*(column.desc() if descending else column.asc()
                           for column, _, descending in keys[len(stmt._order_by_clauses):]))
    searched = search.apply(stmt) if search is not None else stmt
    fingerprint = _fingerprint(searched)
    narrows = search is not None and search.narrows
    if narrows:
        cap, counted = search.TOTAL_CAP, search.bounded_count(stmt)
    else:
        cap, counted = TOTAL_CAP, _bounded_count(searched)
    exact = counted <= cap
    total = min(counted, cap)
    many_matches = narrows and not exact
    if cursor is not None:
        values, page = _read_cursor(cursor, fingerprint, keys)
        after = _after(keys, values)
        rows = search.window(stmt.where(after), keys, values[0], per_page + 1, 0) if many_matches else None
        if rows is None:
            rows = db.session.scalars(searched.where(after).limit(per_page + 1)).all()
    else:
        offset = (page - 1) * per_page
        rows = search.window(stmt, keys, None, per_page + 1, offset) if many_matches else None
        if rows is None:
            rows = db.session.scalars(searched.limit(per_page + 1).offset(offset)).all()
        if not exact and rows:
            if len(rows) <= per_page:  # the last page: everything before it, and its rows
                total, exact = offset + len(rows), True
            else:
                total = max(total, offset + per_page)
    items = rows[:per_page]
    answer = {"items": items, "total": total, "page": page, "per_page": per_page}
    if len(rows) > per_page:
        answer["next_cursor"] = _write_cursor(fingerprint, keys, items[-1], page + 1)
    if not exact:
        answer["total_exact"] = False
    return answer
