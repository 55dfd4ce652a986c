"""`LICENSE_SIGNING_KEY` (PEM text) gives every app host the same licence-signing key."""
from __future__ import annotations

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from backend import create_app
from backend.extensions import db
from tests.conftest import make_config


def _pem() -> str:
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_two_hosts_with_the_same_inline_key_publish_and_sign_alike(app, tmp_path):
    pem = _pem().replace("\n", "\\n")  # as an env var holds it on one line
    hosts = [create_app(make_config(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                                    LICENSE_SIGNING_KEY=pem,
                                    LICENSE_SIGNING_KEY_PATH=str(tmp_path / f"host{n}.pem")))
             for n in range(2)]
    published = [host.test_client().get("/api/public-key").get_json() for host in hosts]
    assert published[0] == published[1]
    assert not (tmp_path / "host0.pem").exists()  # the file is not used, nor created
    public_key = serialization.load_pem_public_key(published[0]["public_key_pem"].encode())
    with hosts[1].app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()  # in-memory SQLite is per engine
    answer = hosts[1].test_client().get("/api/suscripcion-activa/123456789",
                                        headers={"X-API-Key": "test-global-api-key"})
    public_key.verify(base64.b64decode(answer.headers["X-Signature"]), answer.data)
