"""Database helpers: creating a missing MySQL database (migrations), making SQLite
enforce foreign keys like MySQL does, and telling which spellings the database takes for one
value (`comparison_key`)."""
from __future__ import annotations

import contextlib
import hashlib
import logging
import re

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db

log = logging.getLogger("backend")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# (database URL, table, column) -> (character set, collation) of a MySQL column.
_COLLATIONS: dict[tuple[str, str, str], tuple[str, str]] = {}


def ensure_database_exists(url: str) -> bool:
    """On MySQL/MariaDB, create the database of `url` (utf8mb4) if missing. True if created."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("mysql") or not parsed.database:
        return False
    name = parsed.database
    if not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"unsafe database name: {name!r}")
    # URL.set() ignores None in SQLAlchemy 2.1; NamedTuple._replace really drops the name.
    server = create_engine(parsed._replace(database=None), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"), {"n": name}
            ).first()
            if exists:
                return False
            conn.execute(text(
                f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            ))
            return True
    finally:
        server.dispose()


def enforce_sqlite_foreign_keys(engine) -> None:
    """SQLite ignores foreign keys unless asked per connection; MySQL always enforces them."""
    if engine.dialect.name != "sqlite":
        return
    if not event.contains(engine, "connect", _foreign_keys_on):
        event.listen(engine, "connect", _foreign_keys_on)


def _foreign_keys_on(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _column_collation(table: str, column: str) -> tuple[str, str]:
    """The character set and collation of a MySQL column (read once per database)."""
    cache_key = (str(db.engine.url), table, column)
    if cache_key not in _COLLATIONS:
        row = db.session.execute(text(
            "SELECT CHARACTER_SET_NAME, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = :t AND COLUMN_NAME = :c"
        ), {"t": table, "c": column}).first()
        if row is None or not all(row) or not all(_NAME.match(part) for part in row):
            raise RuntimeError(f"no collation known for {table}.{column}")
        _COLLATIONS[cache_key] = (row[0], row[1])
    return _COLLATIONS[cache_key]


def comparison_key(column, value: str) -> str:
    """One key for every spelling of `value` that `column = value` finds the same row for:
    on MySQL/MariaDB, a digest of the value's collation weight under the column's collation
    (`víctim@x.co` and `victim@x.co` under utf8mb4_unicode_ci get one key); elsewhere, where
    the column compares exact strings (SQLite), a digest of the value itself. For counters
    that must count per row whatever the spelling, and the same for values no row has."""
    if db.session.get_bind().dialect.name == "mysql":
        table_column = column.property.columns[0]
        charset, collation = _column_collation(table_column.table.name, table_column.name)
        weight = db.session.scalar(
            text(f"SELECT WEIGHT_STRING(CONVERT(:v USING {charset}) COLLATE {collation})"),
            {"v": value},
        )
        material = b"w:" + bytes(weight or b"")
    else:
        material = b"v:" + value.encode("utf-8", "surrogatepass")
    return hashlib.sha256(material).hexdigest()[:40]


def end_session(_exc: BaseException | None = None) -> None:
    """Teardown of every request: end its database session. When the connection died during the
    request (a database restart), the rollback that ending starts fails; then the connection is
    thrown away instead (the pool opens a new one) and the answer already made stands, where
    Flask-SQLAlchemy's own teardown would let the error escape as a bare 500."""
    try:
        db.session.remove()
    except SQLAlchemyError as exc:
        log.warning("database connection lost at the end of a request (%s); discarded",
                    type(exc).__name__)
        with contextlib.suppress(SQLAlchemyError):
            db.session.registry().invalidate()
        db.session.registry.clear()
