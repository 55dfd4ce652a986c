"""The application factory: the one place that knows every domain (models, blueprints,
commands and hooks). Each domain is a package of its own; `core` serves them all."""
from __future__ import annotations

from pathlib import Path

from dotenv import load_dotenv
from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.middleware.proxy_fix import ProxyFix

from . import commands
from .auditoria import panel as auditoria_panel
from .auditoria import routes as auditoria_routes
from .catalogo import models as catalogo_models
from .catalogo import panel as catalogo_panel
from .catalogo import routes as catalogo_routes
from .celery_app import celery_init_app
from .config import ROOT_DIR, Config, load_config
from .core import audit, mail_outbox, search
from .core.api import api, register_security_schemes, register_url_converters
from .core.database import end_session, enforce_sqlite_foreign_keys
from .core.errors import handle_http_exception, register_error_handlers
from .core.http import register_request_hooks
from .core.json_codec import JSONProvider
from .core.logging_setup import configure_logging
from .core.routing import LazyBuilderRule
from .empresas import models as empresas_models
from .empresas import panel as empresas_panel
from .empresas import routes as empresas_routes
from .empresas import routes_api_keys
from .extensions import babel, cors, db, jwt, limiter, migrate
from .identity import jwt_callbacks
from .identity import models as identity_models
from .identity import panel as identity_panel
from .identity.routes import account as account_routes
from .identity.routes import admin_usuarios
from .identity.routes import auth as auth_routes
from .licencia import fast_path as licencia_fast_path
from .licencia import routes as licencia_routes
from .licencia import services as licencia
from .location import routes as location_routes
from .panel.setup import init_panel
from .soporte import models as soporte_models
from .soporte import panel as soporte_panel
from .soporte.routes import admin_pagos, admin_tickets, admin_tipos, internal
from .soporte.routes import admin_suscripciones as admin_soporte_suscripciones
from .soporte.storage import storage_for
from .suscripciones import models as suscripciones_models
from .suscripciones import panel as suscripciones_panel
from .suscripciones.routes import account as cuenta_suscripciones
from .suscripciones.routes import admin as admin_suscripciones
from .suscripciones.routes import public as public_routes
from .web import docs, health, spa

# Every table on the metadata (and so in Alembic autogenerate), whichever routes exist.
MODELS = (audit, mail_outbox, search, identity_models, empresas_models, catalogo_models,
          suscripciones_models, soporte_models)

# The JSON API blueprints, in the order their tags appear in the OpenAPI document.
API_BLUEPRINTS = (
    health.blp, auth_routes.blp, account_routes.blp, cuenta_suscripciones.blp, public_routes.blp,
    location_routes.blp, licencia_routes.blp, empresas_routes.blp, admin_usuarios.blp,
    catalogo_routes.blp, admin_suscripciones.blp, routes_api_keys.blp, auditoria_routes.blp,
    admin_tipos.blp, admin_soporte_suscripciones.blp, admin_pagos.blp, admin_tickets.blp,
    internal.blp,
)


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
    app.url_rule_class = LazyBuilderRule
    app.json = JSONProvider(app)
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    configure_logging(app)
    register_extensions(app)
    register_model_hooks()
    register_blueprints(app)
    init_panel(app, panel_views())
    register_hooks(app)
    commands.register(app)
    licencia_fast_path.install(app)
    trust_proxies(app)  # outermost: every layer below sees the client's address and scheme
    return app


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_FIX_X_FOR (etc.) proxies, take the client's address and scheme from their
    X-Forwarded-* headers (per-IP limits, logs, HSTS); with none (the default) never."""
    counts = {name: app.config.get(f"PROXY_FIX_{name.upper()}", 0)
              for name in ("x_for", "x_proto", "x_host", "x_port", "x_prefix")}
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **counts)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    app.teardown_appcontext(end_session)  # runs before Flask-SQLAlchemy's (reverse order)
    with app.app_context():
        enforce_sqlite_foreign_keys(db.engine)
    migrate.init_app(app, db, directory=str(ROOT_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    jwt.init_app(app)
    jwt_callbacks.register(jwt)
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
    # Attachments' bytes (local folder or S3); nothing connects until first use.
    app.extensions["storage"] = storage_for(app.config)
    # The staff panel speaks Spanish (Flask-Admin's and WTForms' own labels too).
    babel.init_app(app, locale_selector=lambda: "es", default_locale="es")


def panel_views() -> list:
    """The staff panel's screens, each contributed by its domain, in menu order (new view
    objects per app: Flask-Admin binds a view to one app)."""
    return [*empresas_panel.views(), *identity_panel.views(), *catalogo_panel.views(),
            *suscripciones_panel.views(), *soporte_panel.views(), *auditoria_panel.views()]


def register_model_hooks() -> None:
    """Session and mapper hooks (each installed once per process, whatever the app count)."""
    audit.register()
    search.register()
    suscripciones_models.register_model_events()
    licencia.register_cache_invalidation()


def register_blueprints(app: Flask) -> None:
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.register_blueprint(spa.bp)


def register_hooks(app: Flask) -> None:
    register_request_hooks(app)
    register_error_handlers(app)

    @app.errorhandler(NotFound)
    def _not_found(exc):
        return spa.spa_fallback() or handle_http_exception(exc)
