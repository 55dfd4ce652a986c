"""Alembic migrations: upgrade and downgrade on SQLite and (in the MariaDB run) on MariaDB,
the database created by `flask db upgrade` itself, and no drift between models and revisions."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from backend import create_app
from backend.config import ROOT_DIR
from backend.extensions import db
from tests.conftest import make_config

MIGRATIONS = str(ROOT_DIR / "migrations")


def _engines() -> list[str]:
    kinds = ["sqlite"]
    if os.environ.get("DATABASE_URL", "").startswith("mysql"):
        kinds.append("mysql")
    return kinds


@pytest.fixture(params=_engines())
def target_url(request, tmp_path):
    """A database URL that does not exist yet."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    base = make_url(os.environ["DATABASE_URL"])
    name = f"mig_{uuid.uuid4().hex[:10]}"
    url = base.set(database=name).render_as_string(hide_password=False)
    yield url
    server = create_engine(base._replace(database=None))
    with server.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def _app_for(url: str):
    return create_app(make_config(SQLALCHEMY_DATABASE_URI=url))


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_everything_and_matches_models(target_url):
    app = _app_for(target_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []
    assert _tables(target_url) == set(db.metadata.tables) | {"alembic_version"}


def test_downgrade_to_base_and_up_again(target_url):
    app = _app_for(target_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="base")
        assert _tables(target_url) == {"alembic_version"}
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    assert "usuarios" in _tables(target_url)


if "mysql" in _engines():
    @pytest.mark.parametrize("target_url", ["mysql"], indirect=True)
    def test_upgrade_creates_missing_mysql_database_as_utf8mb4(target_url):
        _check_created_as_utf8mb4(target_url)


def _check_created_as_utf8mb4(target_url):
    name = make_url(target_url).database
    app = _app_for(target_url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    server = create_engine(make_url(target_url)._replace(database=None))
    with server.connect() as conn:
        charset = conn.execute(text(
            "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :n"
        ), {"n": name}).scalar()
    server.dispose()
    assert charset == "utf8mb4"
