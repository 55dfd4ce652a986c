"""Settings, read from the environment (and `.env`) in one place.

Only this module reads environment variables; everything else reads `app.config`.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote_plus

from .core.secret_files import instance_secret

ROOT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT_DIR / "instance"

MiB = 1024 * 1024
# Values that were once printed in this repository (code or .env.example): never used to sign
# anything. Development replaces them by the instance secret; production refuses them.
PUBLISHED_SECRETS = frozenset({
    "dev-secret-key-change-me", "dev-jwt-secret-change-me-0123456789", "change-me",
    "change-me-too-change-me-too-0123456789",
})


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


def _secret(name: str) -> str | None:
    """A secret setting; a published value counts as unset."""
    value = _env(name)
    return None if value in PUBLISHED_SECRETS else value


def _running_flask_cli() -> bool:
    """True inside a `flask ...` command (Flask's CLI sets this before it loads the app)."""
    return os.environ.get("FLASK_RUN_FROM_CLI") == "true"


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
    # Unset SECRET_KEY / JWT_SECRET_KEY: random ones made once under instance/ (see finalize).
    INSTANCE_SECRETS = True

    def __init__(self) -> None:
        self.TESTING = False
        self.SECRET_KEY = _secret("SECRET_KEY")
        self.JWT_SECRET_KEY = _secret("JWT_SECRET_KEY")
        # Keys of the data kept encrypted (TOTP secrets) and of stored code digests; the first
        # one writes, every one reads (rotation). Empty: SECRET_KEY alone (see core.crypto).
        self.DATA_ENCRYPTION_KEYS = _list("DATA_ENCRYPTION_KEYS")
        self.DIGEST_KEYS = _list("DIGEST_KEYS")
        self.JWT_ACCESS_MINUTES = _int("JWT_ACCESS_MINUTES", 30)
        self.JWT_REFRESH_DAYS = _int("JWT_REFRESH_DAYS", 7)
        # Absolute lifetime of a sign-in session: past it, refreshing fails and the user signs
        # in again, however active the session was.
        self.SESSION_MAX_DAYS = _int("SESSION_MAX_DAYS", 30)
        self.JWT_HEADER_TYPE = _env("JWT_HEADER_TYPE", "Bearer")
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.JWT_ERROR_MESSAGE_KEY = "message"

        self.SQLALCHEMY_DATABASE_URI = database_url() or f"sqlite:///{INSTANCE_DIR / 'app.db'}"
        self.SQLALCHEMY_TRACK_MODIFICATIONS = False

        # Proxies in front of the app whose X-Forwarded-* headers are trusted (Werkzeug's
        # ProxyFix): how many of each header to believe. 0 (default): none, the app is reached
        # directly. X-Forwarded-Proto follows X-Forwarded-For unless set.
        self.PROXY_FIX_X_FOR = _int("PROXY_FIX_X_FOR", 0)
        self.PROXY_FIX_X_PROTO = _int("PROXY_FIX_X_PROTO", self.PROXY_FIX_X_FOR)
        self.PROXY_FIX_X_HOST = _int("PROXY_FIX_X_HOST", 0)
        self.PROXY_FIX_X_PORT = _int("PROXY_FIX_X_PORT", 0)
        self.PROXY_FIX_X_PREFIX = _int("PROXY_FIX_X_PREFIX", 0)

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
        # Made on first use when missing: development and tests only (production needs
        # `flask licence-key create` or LICENSE_SIGNING_KEY).
        self.LICENSE_SIGNING_KEY_AUTOCREATE = True
        # Public keys still published by GET /api/public-key during a rotation: PEM texts or
        # paths of PEM files (public or private keys), comma separated.
        self.LICENSE_PREVIOUS_PUBLIC_KEYS = _list("LICENSE_PREVIOUS_PUBLIC_KEYS")
        self.LICENSE_CACHE_SECONDS = _int("LICENSE_CACHE_SECONDS", 30)

        self.MAX_CONTENT_LENGTH = 50 * MiB
        # A JSON body (any request to the API that is not a multipart upload) above this is 413
        # before a byte of it is read; uploads keep MAX_CONTENT_LENGTH.
        self.JSON_MAX_BYTES = _int("JSON_MAX_BYTES", 64 * 1024)
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
        # While the limiter's storage (Redis) is unreachable, count in this process's memory
        # (logged; Redis is tried again after 1, 2, 4... seconds) instead of failing requests.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = _bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
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
        if self.INSTANCE_SECRETS:
            self.SECRET_KEY = self.SECRET_KEY or instance_secret(INSTANCE_DIR / "secret_key")
            self.JWT_SECRET_KEY = self.JWT_SECRET_KEY or instance_secret(INSTANCE_DIR / "jwt_secret_key")
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
    INSTANCE_SECRETS = False  # real secrets only, shared by every host

    def __init__(self) -> None:
        super().__init__()
        # Behind HTTPS in production: the panel cookie never travels in clear.
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
        self.LICENSE_SIGNING_KEY_AUTOCREATE = False

    def check(self) -> None:
        """Raise RuntimeError when a setting production needs is missing or left at a default."""
        problems = []
        if len(self.SECRET_KEY or "") < 16:
            problems.append("SECRET_KEY")
        if len(self.JWT_SECRET_KEY or "") < 32:
            problems.append("JWT_SECRET_KEY")
        for name in ("DATA_ENCRYPTION_KEYS", "DIGEST_KEYS"):
            if any(len(key) < 16 or key in PUBLISHED_SECRETS for key in getattr(self, name)):
                problems.append(name)
        if not database_url():
            problems.append("DATABASE_URL")
        # Serving (gunicorn, Celery) needs the key; the `flask` commands do not (they never
        # sign), and `flask licence-key create` must run before it exists. In production a
        # missing key is never made on first use (LICENSE_SIGNING_KEY_AUTOCREATE).
        if not self.has_licence_key() and not _running_flask_cli():
            problems.append("LICENSE_SIGNING_KEY (or a key file at LICENSE_SIGNING_KEY_PATH: "
                            "flask --app wsgi licence-key create)")
        if problems:
            raise RuntimeError("production settings missing or unsafe: " + ", ".join(problems))

    def has_licence_key(self) -> bool:
        """LICENSE_SIGNING_KEY is set, or a key file exists at LICENSE_SIGNING_KEY_PATH."""
        path = self.LICENSE_SIGNING_KEY_PATH
        return bool(self.LICENSE_SIGNING_KEY) or bool(path and Path(path).is_file())


CONFIGS = {"development": Config, "testing": TestingConfig, "production": ProductionConfig}


def load_config(name: str | None = None) -> Config:
    """The config object for `name`, else for `APP_ENV`, else the embedded default."""
    name = name or _env("APP_ENV", "development")
    config = CONFIGS[name]().finalize()
    if isinstance(config, ProductionConfig):
        config.check()
    return config
