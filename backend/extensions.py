"""Bare extension instances; `create_app` initialises them. Nothing connects at import.

Flask-Migrate (and Alembic under it: ~80 ms of start-up and ~12 MB per process) serves the
`flask db` commands only, so it is loaded the first time a migration runs (`LazyMigrate`):
a gunicorn or Celery worker never loads it."""
from __future__ import annotations

import importlib
from functools import cache
from types import SimpleNamespace

import click
from flask import Flask
from flask_babel import Babel
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .core.ratelimit import FallbackLimiter

# Named constraints keep Alembic migrations deterministic and SQLite batch mode working.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


@cache
def _flask_migrate() -> SimpleNamespace:
    """Flask-Migrate's `Migrate` and its `db` command group, loaded on first use (the one
    deliberate late import of this module: see the module's notes)."""
    return SimpleNamespace(Migrate=importlib.import_module("flask_migrate").Migrate,
                           db_group=importlib.import_module("flask_migrate.cli").db)


class LazyMigrate:
    """`flask_migrate.Migrate`, loaded when a migration runs. `init_app` only keeps the settings:
    it adds a `db` command group that loads Flask-Migrate's own when invoked (its help and
    completion too), and puts in `app.extensions["migrate"]` a stand-in that initialises
    Flask-Migrate on the app at its first read (flask_migrate's `upgrade()` etc. and
    migrations/env.py read it), after which the real entry is there."""

    def init_app(self, app: Flask, db: SQLAlchemy, command: str = "db", **options) -> None:
        app.extensions["migrate"] = _PendingMigrate(app, db, command, options)
        app.cli.add_command(_LazyDbGroup(command), command)


class _PendingMigrate:
    """app.extensions["migrate"] until first read: then `Migrate().init_app` replaces it."""

    def __init__(self, app: Flask, db: SQLAlchemy, command: str, options: dict) -> None:
        self._app, self._db, self._command, self._options = app, db, command, options

    def __getattr__(self, name: str):
        if name.startswith("_"):  # copy/pickle probing, or our own fields not set yet
            raise AttributeError(name)
        if self._app.extensions.get("migrate") is self:
            _flask_migrate().Migrate().init_app(self._app, self._db, command=self._command,
                                                **self._options)
        return getattr(self._app.extensions["migrate"], name)


class _LazyDbGroup(click.Group):
    """`flask db ...`: Flask-Migrate's group (its options, subcommands and callback) once
    invoked; until then only its name and help line, for `flask --help`."""

    def __init__(self, name: str) -> None:
        super().__init__(name, help="Perform database migrations.")

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        return _flask_migrate().db_group.make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return _flask_migrate().db_group.list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return _flask_migrate().db_group.get_command(ctx, cmd_name)


db = SQLAlchemy(model_class=Base)
migrate = LazyMigrate()
jwt = JWTManager()
cors = CORS()
limiter = FallbackLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
babel = Babel()
