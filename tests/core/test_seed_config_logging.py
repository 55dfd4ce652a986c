"""`flask seed`, configuration loading, logging per category, mail in the outbox."""
from __future__ import annotations

import email
import email.policy
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from backend import create_app
from backend.catalogo.models import Plan, PlanServicio, Servicio
from backend.config import ProductionConfig, database_url, load_config
from backend.empresas.models import Empresa
from backend.extensions import db
from backend.identity.models import Rol, Usuario
from backend.identity.services.passwords import verify_password
from backend.licencia.signing import new_private_key_pem
from backend.soporte.models import SoporteTipo
from tests.conftest import make_config

SEEDED = (Usuario, Empresa, Plan, Servicio, PlanServicio, SoporteTipo)


def _counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in SEEDED}


def test_seed_is_idempotent(runner, app):
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "admin creado" in first.output
    after_first = _counts()
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0 and "admin ya existía" in second.output
    assert _counts() == after_first
    assert after_first == {"Usuario": 1, "Empresa": 1, "Plan": 3, "Servicio": 4,
                           "PlanServicio": 9, "SoporteTipo": 4}


def test_seed_creates_working_admin_and_demo_company(runner, app):
    runner.invoke(args=["seed"])
    admin = db.session.scalar(select(Usuario).filter_by(email=app.config["ADMIN_EMAIL"]))
    assert admin.rol == Rol.ADMIN and admin.is_active and not admin.pendiente_activacion
    assert verify_password(admin.password_hash, app.config["ADMIN_PASSWORD"])
    demo = db.session.scalar(select(Empresa).filter_by(nit=app.config["DEMO_EMPRESA_NIT"]))
    assert demo.nombre == app.config["DEMO_EMPRESA_NOMBRE"] and demo.estado == "activa"
    highlighted = db.session.scalars(select(Plan).filter_by(seleccionado=True)).all()
    assert len(highlighted) == 1


def test_seed_refuses_weak_admin_password(app):
    weak = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                  ADMIN_PASSWORD="weak"))
    # `flask seed` runs in the current app context: make it the weak app's.
    with weak.app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()
        result = weak.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code != 0
        assert "política de seguridad" in str(result.exception)
        assert db.session.scalar(select(func.count()).select_from(Usuario)) == 0


def test_database_url_from_db_parts(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DB_NAME", "saas")
    monkeypatch.setenv("DB_USER", "app")
    monkeypatch.setenv("DB_PASSWORD", "p@ss:word")
    monkeypatch.setenv("DB_HOST", "db.internal")
    assert database_url() == "mysql+pymysql://app:p%40ss%3Aword@db.internal:3306/saas?charset=utf8mb4"


def test_embedded_default_needs_no_settings(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "DB_NAME", "CELERY_BROKER_URL", "SMTP_SERVER", "STORAGE_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("backend.config.INSTANCE_DIR", tmp_path / "instance")
    config = load_config("development")
    assert (config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
            and "instance" in config.SQLALCHEMY_DATABASE_URI)
    assert config.CELERY["task_always_eager"] is True
    assert config.STORAGE_BACKEND == "local" and config.SMTP_SERVER is None
    assert config.RATELIMIT_STORAGE_URI == "memory://"


def test_production_refuses_default_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("JWT_SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DB_NAME", raising=False)
    with pytest.raises(RuntimeError) as excinfo:
        load_config("production")
    assert "SECRET_KEY" in str(excinfo.value) and "DATABASE_URL" in str(excinfo.value)


def test_production_starts_with_real_settings(monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.setenv("LICENSE_SIGNING_KEY", new_private_key_pem().decode())
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 48)
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://app:pw@db:3306/saas")
    config = load_config("production")
    assert isinstance(config, ProductionConfig)
    assert config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


def test_celery_without_broker_is_eager_and_with_broker_is_not(monkeypatch, tmp_path):
    monkeypatch.setattr("backend.config.INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert load_config("development").CELERY["task_always_eager"] is True
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/2")
    celery = load_config("development").CELERY
    assert celery["task_always_eager"] is False and celery["broker_url"] == "redis://127.0.0.1:6379/2"


def test_logs_per_category_with_request_id(app, tmp_path):
    logged = create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                    LOG_DIR=str(tmp_path)))
    client = logged.test_client()
    client.get("/api/nothing-here", headers={"X-Request-ID": "req-api-1"})
    client.get("/auth/nothing-here", headers={"X-Request-ID": "req-auth-1"})
    client.get("/admin/soporte-tickets/x", headers={"X-Request-ID": "req-sop-1"})
    client.get("/admin/empresas/x", headers={"X-Request-ID": "req-adm-1"})
    for handler in logging.getLogger("backend").handlers:
        handler.flush()
    read = lambda name: (Path(tmp_path) / name).read_text(encoding="utf-8")  # noqa: E731
    assert "[req-api-1]" in read("api.log") and "GET /api/nothing-here 404" in read("api.log")
    assert "[req-auth-1]" in read("auth.log") and "req-api-1" not in read("auth.log")
    assert "[req-sop-1]" in read("soporte.log")
    assert "[req-adm-1]" in read("admin.log") and "req-sop-1" not in read("admin.log")
    client.get("/nothing-here", headers={"X-Request-ID": "req-other-1"})
    with logged.test_request_context():
        logging.getLogger("backend.api").warning("an event of the api")
    for handler in logging.getLogger("backend").handlers:
        handler.flush()
    # Each access line is written once (its category's file); paths of no category and every
    # other record go to the general log.
    general = read("app.log")
    assert not any(rid in general for rid in ("req-api-1", "req-auth-1", "req-sop-1", "req-adm-1"))
    assert "[req-other-1]" in general and "GET /nothing-here 404" in general
    assert "an event of the api" in general and "an event of the api" in read("api.log")
    # Leave the shared logger tree as the test app had it.
    from backend.core.logging_setup import configure_logging

    configure_logging(app)


def test_email_in_outbox_without_smtp(app):
    from backend.core.mail import send_email

    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    with app.test_request_context():
        send_email("ana@example.com", "activacion", nombre="Ana", codigo="123456", minutos=10)
    new = set(outbox.glob("*.eml")) - before
    assert len(new) == 1
    message = email.message_from_bytes(new.pop().read_bytes(), policy=email.policy.default)
    assert message["To"] == "ana@example.com"
    assert message["Subject"] == "Código de activación de su cuenta"
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if not part.is_multipart()}
    assert "123456" in parts["text/plain"] and "123456" in parts["text/html"]
    assert "Subject:" not in parts["text/plain"]
