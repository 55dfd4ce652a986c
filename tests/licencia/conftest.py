"""Fixtures of the licence tests: the global API key header and a check of the signature of
an answer against the published public key."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GLOBAL_KEY = "test-global-api-key"  # TestingConfig.SAAS_API_KEY


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
