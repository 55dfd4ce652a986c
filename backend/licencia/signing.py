"""Ed25519 signatures of licence answers.

The private key comes from `LICENSE_SIGNING_KEY` (PEM text, the way to give several hosts one
key), else from a PEM file (`LICENSE_SIGNING_KEY_PATH`). When the file is missing
it is generated on first use: written to a temporary file (mode 0600) in the same folder,
then hard-linked to the final name, which fails if another process got there first; every
process then reads the one file that won, so all instances sign with the same key.
The key is loaded once per path and kept in memory.
"""
from __future__ import annotations

import base64
import hashlib
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Response, current_app

ALGORITMO = "Ed25519"


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    kid: str
    public_key_pem: str

    def sign(self, data: bytes) -> str:
        """Base64 signature of `data`."""
        return base64.b64encode(self.private_key.sign(data)).decode("ascii")


_signers: dict[str, Signer] = {}
_lock = threading.Lock()


def _write_new_key(path: Path) -> None:
    """Create the key file unless it exists; safe when several processes race."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic, never overwrites: the first process wins
        except FileExistsError:
            pass
        except OSError:  # no hard links on this filesystem: exclusive create instead
            _create_exclusive(path, pem)
    finally:
        tmp.unlink(missing_ok=True)


def _create_exclusive(path: Path, pem: bytes) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def _load(path: Path) -> Signer:
    if not path.exists():
        _write_new_key(path)
    return _signer_from_pem(path.read_bytes(), str(path))


def _signer_from_pem(pem: bytes, source: str) -> Signer:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise RuntimeError(f"{source} does not hold an Ed25519 private key")
    public_key = private_key.public_key()
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = public_key.public_bytes(serialization.Encoding.PEM,
                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return Signer(private_key, hashlib.sha256(der).hexdigest()[:16], pem)


def get_signer(path: str | None = None) -> Signer:
    """The signer of LICENSE_SIGNING_KEY, else of the key file at `path` (default: the app's
    LICENSE_SIGNING_KEY_PATH); loaded once."""
    inline = None if path else current_app.config.get("LICENSE_SIGNING_KEY")
    cache_key = f"inline:{hashlib.sha256(inline.encode()).hexdigest()}" if inline else None
    path = path or current_app.config["LICENSE_SIGNING_KEY_PATH"]
    cache_key = cache_key or path
    signer = _signers.get(cache_key)
    if signer is None:
        with _lock:
            signer = _signers.get(cache_key)
            if signer is None:
                if inline:
                    pem = inline.replace("\\n", "\n").encode("ascii")
                    signer = _signer_from_pem(pem, "LICENSE_SIGNING_KEY")
                else:
                    signer = _load(Path(path))
                _signers[cache_key] = signer
    return signer


def public_key_info() -> dict:
    """`{algoritmo, kid, public_key_pem}` for `GET /api/public-key`."""
    signer = get_signer()
    return {"algoritmo": ALGORITMO, "kid": signer.kid, "public_key_pem": signer.public_key_pem}


def server_ts() -> str:
    """Now, ISO 8601 UTC with Z (second precision)."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def signed_json(payload: dict, status: int = 200, nonce: str | None = None) -> Response:
    """A JSON response carrying `ts` (and `nonce` when given) with `X-Signature` over its bytes."""
    body = dict(payload)
    body["ts"] = server_ts()
    if nonce is not None:
        body["nonce"] = nonce
    data = current_app.json.dumps(body).encode("utf-8")
    signer = get_signer()
    response = Response(data, status=status, mimetype="application/json")
    response.headers["X-Signature"] = signer.sign(data)
    response.headers["X-Signature-Kid"] = signer.kid
    response.headers["Cache-Control"] = "no-store"
    return response
