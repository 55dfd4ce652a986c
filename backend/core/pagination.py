"""Contract pagination: `?page=` from 1, `?per_page=` (default 20, max 100) and
`{"items", "total", "page", "per_page"}` answers."""
from __future__ import annotations

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from ..extensions import db


class PaginationArgs(Schema):
    # Bounded so the OFFSET stays a valid database integer.
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


_page_schemas: dict[str, type[Schema]] = {}


def page_of(item_schema: type[Schema] | str) -> type[Schema]:
    """A `{"items": [...], "total", "page", "per_page"}` schema for `item_schema` (one per class).

    `item_schema` may be a schema's class name: another domain's contract object is nested
    by name (marshmallow's class registry), never imported."""
    item_name = item_schema if isinstance(item_schema, str) else item_schema.__name__
    name = item_name.removesuffix("Schema") + "PageSchema"
    if name not in _page_schemas:
        _page_schemas[name] = type(name, (Schema,), {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
        })
    return _page_schemas[name]


def paginate(stmt, page: int = 1, per_page: int = 20) -> dict:
    """Run `stmt` (a select of one entity) for one page; counts the total without ORDER BY."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "total": total or 0, "page": page, "per_page": per_page}
