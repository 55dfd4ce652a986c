"""No published secret ever signs anything: without SECRET_KEY / JWT_SECRET_KEY the embedded
default makes random ones once under instance/ (0600, one value whatever the process count);
production refuses to start without real ones."""
from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from backend import config as settings
from backend.config import load_config
from backend.core.secret_files import instance_secret

OLD_DEFAULTS = {"dev-secret-key-change-me", "dev-jwt-secret-change-me-0123456789"}


def _published() -> frozenset[str]:
    return settings.PUBLISHED_SECRETS


@pytest.fixture
def instance_dir(tmp_path, monkeypatch):
    path = tmp_path / "instance"
    monkeypatch.setattr(settings, "INSTANCE_DIR", path)
    for name in ("SECRET_KEY", "JWT_SECRET_KEY", "DATABASE_URL", "DB_NAME"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_without_settings_the_secrets_are_random_and_kept_under_instance(instance_dir):
    config = load_config("development")
    secret, jwt_secret = config.SECRET_KEY, config.JWT_SECRET_KEY
    assert secret not in OLD_DEFAULTS | _published() and len(secret) >= 32
    assert jwt_secret not in OLD_DEFAULTS | _published() and len(jwt_secret) >= 32
    assert secret != jwt_secret
    for name, value in (("secret_key", secret), ("jwt_secret_key", jwt_secret)):
        path = instance_dir / name
        assert path.read_text().strip() == value
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # Every later start (and every other process) reads the same ones.
    again = load_config("development")
    assert (secret, jwt_secret) == (again.SECRET_KEY, again.JWT_SECRET_KEY)


def test_the_source_holds_no_default_secret():
    source = (settings.ROOT_DIR / "backend" / "config.py").read_text()
    assert "DEV_SECRET_KEY" not in source and "DEV_JWT_SECRET_KEY" not in source
    example = (settings.ROOT_DIR / ".env.example").read_text()
    assert "\nSECRET_KEY=\n" in example and "\nJWT_SECRET_KEY=\n" in example


def test_set_secrets_win_and_published_ones_are_never_used(instance_dir, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-key-for-this-host")
    monkeypatch.setenv("JWT_SECRET_KEY", "change-me-too-change-me-too-0123456789")  # once in .env.example
    config = load_config("development")
    assert config.SECRET_KEY == "a-real-secret-key-for-this-host"
    assert config.JWT_SECRET_KEY not in settings.PUBLISHED_SECRETS
    assert (instance_dir / "jwt_secret_key").read_text().strip() == config.JWT_SECRET_KEY
    assert not (instance_dir / "secret_key").exists()


def test_tests_set_their_own(instance_dir):
    config = load_config("testing")
    assert config.SECRET_KEY == "test-secret-key" and not instance_dir.exists()


def test_production_never_generates_nor_accepts_published_secrets(instance_dir, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://app:pw@db:3306/saas")
    monkeypatch.setenv("LICENSE_SIGNING_KEY", "pem")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")
    monkeypatch.setenv("SECRET_KEY", "dev-secret-key-change-me")
    monkeypatch.setenv("JWT_SECRET_KEY", "dev-jwt-secret-change-me-0123456789")
    with pytest.raises(RuntimeError, match="SECRET_KEY, JWT_SECRET_KEY"):
        load_config("production")
    assert not instance_dir.exists()


def _child(path: str, queue) -> None:
    queue.put(instance_secret(settings.Path(path)))


def test_racing_processes_agree_on_one_secret(tmp_path):
    path = str(tmp_path / "instance" / "secret_key")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(path, queue)) for _ in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    values = {queue.get(timeout=5) for _ in procs}
    assert len(values) == 1
    assert not [p for p in (tmp_path / "instance").iterdir() if p.name.endswith(".tmp")]
