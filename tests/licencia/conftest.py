"""Fixtures of the licence tests: the global API key header, a check of the signature of an
answer against the published public key, and the licence cache on a real Redis (or none)."""
from __future__ import annotations

import base64
import os
from contextlib import contextmanager

import pytest
import redis
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GLOBAL_KEY = "test-global-api-key"  # TestingConfig.SAAS_API_KEY
# Our own Redis database number (13), on the server CI provides.
_base = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15").rsplit("/", 1)[0]
LICENCE_REDIS_URL = f"{_base}/13"


@contextmanager
def _licence_cache_on(app, monkeypatch, url: str):
    """The licence cache pointed at `url`; the layer made for it is closed (its listener thread
    stopped) afterwards."""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    app.extensions.pop("licencia_redis", None)
    try:
        yield
    finally:
        shared = app.extensions.pop("licencia_redis", None)
        if shared is not None:
            shared.close()


@pytest.fixture
def licence_redis(app, monkeypatch):
    """The licence cache on a real, emptied Redis database; yields a client of it."""
    client = redis.Redis.from_url(LICENCE_REDIS_URL)
    client.flushdb()
    with _licence_cache_on(app, monkeypatch, LICENCE_REDIS_URL):
        yield client
    client.flushdb()
    client.close()


@pytest.fixture
def unreachable_redis(app, monkeypatch):
    """The licence cache pointed at a Redis nobody listens on."""
    with _licence_cache_on(app, monkeypatch, "redis://127.0.0.1:1/0"):
        yield


@pytest.fixture
def global_headers():
    return {"X-API-Key": GLOBAL_KEY}


@pytest.fixture
def verify_signature(client):
    """Check X-Signature of a response with the key published at /api/public-key."""

    def verify(response) -> None:
        info = client.get("/api/public-key").get_json()
        public_key = load_pem_public_key(info["public_key_pem"].encode())
        signature = base64.b64decode(response.headers["X-Signature"])
        public_key.verify(signature, response.data)  # raises InvalidSignature

    return verify
