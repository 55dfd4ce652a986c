"""The licence signing key: made by `flask licence-key create` (0600, never overwritten),
shown by `flask licence-key public`, required in production, and published with the earlier
keys during a rotation."""
from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from backend.config import ProductionConfig
from backend.licencia import signing


@pytest.fixture
def key_path(app, tmp_path, monkeypatch):
    """LICENSE_SIGNING_KEY_PATH pointed at a file that does not exist yet."""
    path = tmp_path / "keys" / "license.pem"
    monkeypatch.setitem(app.config, "LICENSE_SIGNING_KEY_PATH", str(path))
    return path


def _verify(pem: str, response) -> None:
    load_pem_public_key(pem.encode()).verify(base64.b64decode(response.headers["X-Signature"]),
                                             response.data)


def test_create_writes_a_private_key_and_never_overwrites_it(runner, key_path):
    result = runner.invoke(args=["licence-key", "create"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    signer = signing.signer_from_file(key_path)
    assert signer.kid in result.output and signer.public_key_pem in result.output
    assert "PRIVATE" not in result.output  # the private key is never printed
    before = key_path.read_bytes()

    again = runner.invoke(args=["licence-key", "create"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert key_path.read_bytes() == before


def test_public_prints_the_current_public_key(runner, client, key_path):
    runner.invoke(args=["licence-key", "create"])
    result = runner.invoke(args=["licence-key", "public"])
    assert result.exit_code == 0, result.output
    published = client.get("/api/public-key").get_json()
    assert published["public_key_pem"] in result.output and published["kid"] in result.output


def test_public_never_creates_a_key(runner, key_path):
    result = runner.invoke(args=["licence-key", "public"])
    assert result.exit_code != 0 and "licence-key create" in result.output
    assert not key_path.exists()


def test_only_development_and_tests_make_a_missing_key_on_first_use(app, key_path, monkeypatch):
    monkeypatch.setitem(app.config, "LICENSE_SIGNING_KEY_AUTOCREATE", False)
    with pytest.raises(RuntimeError, match="licence-key create"):
        signing.get_signer()
    assert not key_path.exists()
    assert ProductionConfig().LICENSE_SIGNING_KEY_AUTOCREATE is False


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("LICENSE_SIGNING_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 32)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 48)
    monkeypatch.setenv("DATABASE_URL", "mysql+pymysql://app:pw@db:3306/saas")
    path = tmp_path / "license.pem"
    monkeypatch.setenv("LICENSE_SIGNING_KEY_PATH", str(path))
    return path


def test_production_refuses_to_start_without_a_key(production_env, monkeypatch):
    with pytest.raises(RuntimeError, match="LICENSE_SIGNING_KEY"):
        ProductionConfig().check()
    assert not production_env.exists()

    signing.create_key_file(production_env)  # `flask licence-key create` on this host
    ProductionConfig().check()

    production_env.unlink()
    monkeypatch.setenv("LICENSE_SIGNING_KEY", signing.new_private_key_pem().decode())
    ProductionConfig().check()


def test_production_cli_may_create_the_key(production_env, monkeypatch):
    """`flask ... licence-key create` runs before the key exists: the flask CLI is let through."""
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    ProductionConfig().check()


def test_rotation_publishes_the_previous_key(app, runner, client, key_path, tmp_path, monkeypatch,
                                             global_headers):
    runner.invoke(args=["licence-key", "create"])
    old = client.get("/api/public-key").get_json()
    signed_before = client.get("/api/suscripcion-activa/123456789", headers=global_headers)
    assert signed_before.headers["X-Signature-Kid"] == old["kid"]

    new_path = tmp_path / "keys" / "license-2.pem"
    assert runner.invoke(args=["licence-key", "create", "--path", str(new_path)]).exit_code == 0
    monkeypatch.setitem(app.config, "LICENSE_SIGNING_KEY_PATH", str(new_path))
    # The old key by its file path, and once more as PEM text (listed once).
    monkeypatch.setitem(app.config, "LICENSE_PREVIOUS_PUBLIC_KEYS",
                        [str(key_path), old["public_key_pem"].replace("\n", "\\n")])

    body = client.get("/api/public-key").get_json()
    new_kid = signing.signer_from_file(new_path).kid
    assert body["kid"] == new_kid and body["algoritmo"] == "Ed25519"
    assert body["keys"] == [
        {"kid": new_kid, "public_key_pem": body["public_key_pem"], "actual": True},
        {"kid": old["kid"], "public_key_pem": old["public_key_pem"], "actual": False},
    ]
    signed_after = client.get("/api/suscripcion-activa/123456789", headers=global_headers)
    assert signed_after.headers["X-Signature-Kid"] == new_kid
    by_kid = {key["kid"]: key["public_key_pem"] for key in body["keys"]}
    _verify(by_kid[signed_before.headers["X-Signature-Kid"]], signed_before)
    _verify(by_kid[signed_after.headers["X-Signature-Kid"]], signed_after)
