"""Settings, read from the environment (and `.env`) in one place.

Only this module reads environment variables; everything else reads `app.config`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote_plus

ROOT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT_DIR / "instance"

MiB = 1024 * 1024
DEV_SECRET_KEY = "dev-secret-key-change-me"
DEV_JWT_SECRET_KEY = "dev-jwt-secret-change-me-0123456789"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _bool(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (_env(name, default) or "").split(",") if item.strip()]


def database_url() -> str | None:
    """`DATABASE_URL`, else a MySQL URL built from the `DB_*` settings, else None."""
    url = _env("DATABASE_URL")
    if url:
        return url
    name = _env("DB_NAME")
    if not name:
        return None
    user = quote_plus(_env("DB_USER", "root"))
    password = quote_plus(_env("DB_PASSWORD", ""))
    auth = f"{user}:{password}" if password else user
    host = _env("DB_HOST", "127.0.0.1")
    port = _env("DB_PORT", "3306")
    return f"mysql+pymysql://{auth}@{host}:{port}/{name}?charset=utf8mb4"


def engine_options(url: str) -> dict:
    """Pool settings that keep MySQL connections healthy across idle periods."""
    if url.startswith("mysql"):
        return {"pool_pre_ping": True, "pool_recycle": 280}
    return {}


class Config:
    """Embedded default: SQLite under instance/, eager Celery, local files, mail to outbox/.

    Settings are read when the object is made, not at import, so `.env` and test
    environments apply.
    """

    APP_ENV = "development"

    def __init__(self) -> None:
        self.TESTING = False
        self.SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
        self.JWT_SECRET_KEY = _env("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY)
        self.JWT_ACCESS_MINUTES = _int("JWT_ACCESS_MINUTES", 30)
        self.JWT_REFRESH_DAYS = _int("JWT_REFRESH_DAYS", 7)
        self.JWT_HEADER_TYPE = _env("JWT_HEADER_TYPE", "Bearer")
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.JWT_ERROR_MESSAGE_KEY = "message"

        self.SQLALCHEMY_DATABASE_URI = database_url() or f"sqlite:///{INSTANCE_DIR / 'app.db'}"
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False

        self.FRONTEND_ORIGINS = _list("FRONTEND_ORIGINS", "http://localhost:4200,http://127.0.0.1:4200")
        self.FRONTEND_DIST = _env("FRONTEND_DIST",
                                  str(ROOT_DIR / "frontend" / "dist" / "frontend" / "browser"))
        self.FRONTEND_DEV_URL = _env("FRONTEND_DEV_URL", "http://localhost:4200")
        # Public address of the SPA, for links in emails (never taken from the request's Host).
        self.PUBLIC_BASE_URL = _env("PUBLIC_BASE_URL")

        self.SAAS_API_KEY = _env("SAAS_API_KEY")
        # The Ed25519 private key as PEM text (wins over the file): the way to give every app
        # host the same key. Otherwise the file at LICENSE_SIGNING_KEY_PATH, created on first use.
        self.LICENSE_SIGNING_KEY = _env("LICENSE_SIGNING_KEY")
        self.LICENSE_SIGNING_KEY_PATH = _env("LICENSE_SIGNING_KEY_PATH",
                                             str(INSTANCE_DIR / "license_ed25519.pem"))
        self.LICENSE_CACHE_SECONDS = _int("LICENSE_CACHE_SECONDS", 30)

        self.MAX_CONTENT_LENGTH = 50 * MiB
        self.UPLOAD_FOLDER = _env("UPLOAD_FOLDER", str(ROOT_DIR / "uploads"))
        self.STORAGE_BACKEND = _env("STORAGE_BACKEND", "local")
        self.S3_ENDPOINT_URL = _env("S3_ENDPOINT_URL")
        self.S3_BUCKET = _env("S3_BUCKET")
        self.S3_ACCESS_KEY = _env("S3_ACCESS_KEY")
        self.S3_SECRET_KEY = _env("S3_SECRET_KEY")
        self.S3_REGION = _env("S3_REGION", "us-east-1")

        self.SMTP_SERVER = _env("SMTP_SERVER")
        self.SMTP_PORT = _int("SMTP_PORT", 587)
        self.SMTP_USERNAME = _env("SMTP_USERNAME")
        self.SMTP_PASSWORD = _env("SMTP_PASSWORD")
        self.SMTP_USE_TLS = _bool("SMTP_USE_TLS", True)
        self.SMTP_USE_SSL = _bool("SMTP_USE_SSL", False)
        self.SMTP_TIMEOUT = _int("SMTP_TIMEOUT", 20)
        self.SENDER_EMAIL = _env("SENDER_EMAIL", "no-reply@localhost")
        self.SENDER_NAME = _env("SENDER_NAME", "Soporte SaaS")
        # Issuer shown by authenticator apps next to the account.
        self.OTP_ISSUER = _env("OTP_ISSUER", "SaaS")
        self.MAIL_OUTBOX_DIR = _env("MAIL_OUTBOX_DIR", str(INSTANCE_DIR / "outbox"))

        self.REDIS_URL = _env("REDIS_URL")
        self.CELERY_BROKER_URL = _env("CELERY_BROKER_URL")
        self.CELERY_RESULT_BACKEND = _env("CELERY_RESULT_BACKEND")
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_HEADERS_ENABLED = True
        # Limit strings (Flask-Limiter syntax, `;` between several); policy in identity/services/throttle.py.
        self.AUTH_RATE_IP = _env("AUTH_RATE_IP", "20/minute;300/hour")
        self.AUTH_RATE_ACCOUNT_IP_FAILURES = _env("AUTH_RATE_ACCOUNT_IP_FAILURES", "10/15 minutes")
        self.AUTH_RATE_ACCOUNT_FAILURES = _env("AUTH_RATE_ACCOUNT_FAILURES", "100/hour")
        self.AUTH_RATE_CODE_FAILURES = _env("AUTH_RATE_CODE_FAILURES", "10/15 minutes")
        self.AUTH_RATE_EMAIL_REQUESTS = _env("AUTH_RATE_EMAIL_REQUESTS", "5/15 minutes")
        self.PUBLIC_SIGNUP_RATE_LIMIT = _env("PUBLIC_SIGNUP_RATE_LIMIT", "5/minute;30/hour")

        self.LOCATION_DB_PATH = _env("LOCATION_DB_PATH", str(INSTANCE_DIR / "location.sqlite3"))

        # Unset: logs/ in the project; set but empty: no log files (stderr only).
        self.LOG_DIR = os.environ.get("LOG_DIR", str(ROOT_DIR / "logs")) or None
        self.LOG_LEVEL = _env("LOG_LEVEL", "INFO")

        # The staff panel's sign-in cookie (the JSON API never reads it).
        self.PANEL_SESSION_HOURS = _int("PANEL_SESSION_HOURS", 8)
        self.PERMANENT_SESSION_LIFETIME = timedelta(hours=self.PANEL_SESSION_HOURS)
        self.SESSION_COOKIE_NAME = "panel_session"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)

        self.ADMIN_EMAIL = _env("ADMIN_EMAIL", "admin@example.com")
        self.ADMIN_PASSWORD = _env("ADMIN_PASSWORD", "Admin#12345")
        self.DEMO_EMPRESA_NIT = _env("DEMO_EMPRESA_NIT", "900123456-7")
        self.DEMO_EMPRESA_NOMBRE = _env("DEMO_EMPRESA_NOMBRE", "Empresa Demo S.A.S.")
        self.DEMO_EMPRESA_CONTACTO = _env("DEMO_EMPRESA_CONTACTO", "Contacto Demo")
        self.DEMO_EMPRESA_EMAIL = _env("DEMO_EMPRESA_EMAIL", "demo@example.com")

        # Password hashing cost; the test config lowers it so the suite stays fast.
        self.ARGON2_TIME_COST = 3
        self.ARGON2_MEMORY_COST = 65536

        self.API_TITLE = "SaaS control plane"
        self.API_VERSION = "1.0.0"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = None  # backend.docs serves it from local assets

    def finalize(self) -> Config:
        """Derive the settings that depend on others (after subclasses adjusted them)."""
        self.SQLALCHEMY_ENGINE_OPTIONS = engine_options(self.SQLALCHEMY_DATABASE_URI)
        broker = self.CELERY_BROKER_URL
        self.CELERY = {
            "broker_url": broker or "memory://",
            "result_backend": self.CELERY_RESULT_BACKEND,
            "task_always_eager": broker is None,
            "task_eager_propagates": True,
            "task_ignore_result": True,
            "broker_connection_retry_on_startup": True,
        }
        return self


class TestingConfig(Config):
    """Fast, isolated settings for pytest; `DATABASE_URL` still selects MariaDB in CI."""

    APP_ENV = "testing"

    def __init__(self) -> None:
        super().__init__()
        self.TESTING = True
        self.SQLALCHEMY_DATABASE_URI = _env("DATABASE_URL") or "sqlite://"
        self.SECRET_KEY = "test-secret-key"
        self.JWT_SECRET_KEY = "test-jwt-secret-key-0123456789abcdef"
        self.SAAS_API_KEY = "test-global-api-key"
        self.RATELIMIT_STORAGE_URI = "memory://"
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST = 1024
        self.SMTP_SERVER = None
        self.CELERY_BROKER_URL = None
        self.LOG_DIR = None


class ProductionConfig(Config):
    """Refuses to start without real secrets and a real database (see `check`)."""

    APP_ENV = "production"

    def __init__(self) -> None:
        super().__init__()
        # Behind HTTPS in production: the panel cookie never travels in clear.
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)

    def check(self) -> None:
        """Raise RuntimeError when a setting production needs is missing or left at a default."""
        problems = []
        if self.SECRET_KEY == DEV_SECRET_KEY or len(self.SECRET_KEY) < 16:
            problems.append("SECRET_KEY")
        if self.JWT_SECRET_KEY == DEV_JWT_SECRET_KEY or len(self.JWT_SECRET_KEY) < 32:
            problems.append("JWT_SECRET_KEY")
        if not database_url():
            problems.append("DATABASE_URL")
        if problems:
            raise RuntimeError("production settings missing or unsafe: " + ", ".join(problems))


CONFIGS = {"development": Config, "testing": TestingConfig, "production": ProductionConfig}


def load_config(name: str | None = None) -> Config:
    """The config object for `name`, else for `APP_ENV`, else the embedded default."""
    name = name or _env("APP_ENV", "development")
    config = CONFIGS[name]().finalize()
    if isinstance(config, ProductionConfig):
        config.check()
    return config
