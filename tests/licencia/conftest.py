"""Fixtures of the licence, API-key, public and location tests."""
from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

GLOBAL_KEY = "test-global-api-key"  # TestingConfig.SAAS_API_KEY


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Licence answers cached by an earlier test (whose rows were deleted outside the ORM)
    must not leak into this one."""
    from backend.licencia import services as licencia
    from backend.location import services as location

    licencia.invalidate_cache()
    location.clear_cache()
    yield


@pytest.fixture
def global_headers():
    return {"X-API-Key": GLOBAL_KEY}


@pytest.fixture
def company_key(db):
    """`company_key(empresa)` → the full key of a new per-company API key."""
    from backend.empresas.api_keys import create_key

    def issue(empresa, nombre: str | None = None) -> str:
        _row, key = create_key(empresa.id, nombre)
        return key

    return issue


@pytest.fixture
def verify_signature(client):
    """Check X-Signature of a response with the key published at /api/public-key."""

    def verify(response) -> None:
        info = client.get("/api/public-key").get_json()
        public_key = load_pem_public_key(info["public_key_pem"].encode())
        signature = base64.b64decode(response.headers["X-Signature"])
        public_key.verify(signature, response.data)  # raises InvalidSignature

    return verify
