"""The application factory."""
from __future__ import annotations

from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from flask.json.provider import DefaultJSONProvider

from .config import ROOT_DIR, Config, load_config


class JSONProvider(DefaultJSONProvider):
    """Decimals as JSON numbers (money), not the strings Flask emits by default."""

    ensure_ascii = False
    sort_keys = False

    def loads(self, s, **kwargs):
        """Strict decoding for `request.get_json()` too (too deep or invalid text: ValueError → 400)."""
        from .json_codec import strict_loads

        return strict_loads(s)

    @staticmethod
    def default(o):
        from decimal import Decimal

        if isinstance(o, Decimal):
            return float(o)
        return DefaultJSONProvider.default(o)


def create_app(config: Config | str | None = None) -> Flask:
    """Build the app for `config` (a Config object, a name, or APP_ENV / the embedded default)."""
    load_dotenv(ROOT_DIR / ".env", override=False)
    if not isinstance(config, Config):
        config = load_config(config)
    app = Flask(
        __name__,
        instance_path=str(ROOT_DIR / "instance"),
        template_folder=str(ROOT_DIR / "templates"),
        static_folder=str(ROOT_DIR / "static"),
    )
    app.json = JSONProvider(app)
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_hooks(app)
    register_commands(app)
    return app


def register_logging(app: Flask) -> None:
    from .logging_setup import configure_logging

    configure_logging(app)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401 - every table on the metadata
    from .api import api, register_security_schemes, register_url_converters
    from .auth import jwt_errors, tokens  # noqa: F401 - registers the JWT callbacks
    from .celery_app import celery_init_app
    from .extensions import cors, db, jwt, limiter, migrate

    db.init_app(app)
    with app.app_context():
        _enforce_sqlite_foreign_keys(db.engine)
    migrate.init_app(app, db, directory=str(ROOT_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    jwt.init_app(app)
    limiter.init_app(app)
    cors.init_app(app, origins=app.config["FRONTEND_ORIGINS"], always_send=False,
                  expose_headers=["X-Request-ID", "X-Signature", "X-Signature-Kid", "Retry-After",
                                  "Content-Disposition"],
                  allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-API-Key",
                                 "X-Empresa-Id"])
    register_url_converters(app)
    api.init_app(app)
    register_security_schemes()
    celery_init_app(app)


def _enforce_sqlite_foreign_keys(engine) -> None:
    """SQLite ignores foreign keys unless asked per connection; MySQL always enforces them."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _pragma(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from .api import api
    from .routes import BLUEPRINTS, docs, health, spa

    api.register_blueprint(health.blp)
    for blueprint in BLUEPRINTS():
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.register_blueprint(spa.bp)


def register_hooks(app: Flask) -> None:
    from werkzeug.exceptions import NotFound

    from .errors import handle_http_exception, register_error_handlers
    from .http import register_request_hooks
    from .routes.spa import spa_fallback

    register_request_hooks(app)
    register_error_handlers(app)

    @app.errorhandler(NotFound)
    def _not_found(exc):
        return spa_fallback() or handle_http_exception(exc)


def register_commands(app: Flask) -> None:
    from .cli import register_commands as register

    register(app)
