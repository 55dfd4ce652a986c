"""Database helpers: creating a missing MySQL database (migrations) and making SQLite
enforce foreign keys like MySQL does."""
from __future__ import annotations

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url


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
