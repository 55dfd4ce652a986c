"""Ed25519 signatures of licence answers, and the keys they are published with.

The private key comes from `LICENSE_SIGNING_KEY` (PEM text, the way to give several hosts one
key), else from a PEM file (`LICENSE_SIGNING_KEY_PATH`) made once with
`flask licence-key create` and given to every host. Only development and tests
(`LICENSE_SIGNING_KEY_AUTOCREATE`) make a missing file on first use; production refuses to
start without a key (config.ProductionConfig). The file is created safely when processes race
(core.secret_files): every process reads the one file that won. Keys are loaded once and kept
in memory.

During a rotation `GET /api/public-key` also publishes earlier public keys
(`LICENSE_PREVIOUS_PUBLIC_KEYS`); every answer names its key in `X-Signature-Kid`.
"""
from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Response, current_app

from ..core.secret_files import create_private_file, read_private_file

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


def new_private_key_pem() -> bytes:
    """A fresh Ed25519 private key, PEM (PKCS8, unencrypted)."""
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def create_key_file(path: Path) -> bool:
    """Write a new private key to `path` (mode 0600); False, untouched, when it exists."""
    return create_private_file(path, new_private_key_pem())


def _write_new_key(path: Path) -> None:
    """Create the key file unless it exists; safe when several processes race."""
    create_key_file(path)


def _load(path: Path, create: bool = True) -> Signer:
    if not path.exists():
        if not create:
            raise RuntimeError(f"no licence signing key at {path}: create it with "
                               "`flask licence-key create`, or set LICENSE_SIGNING_KEY")
        _write_new_key(path)
    return _signer_from_pem(read_private_file(path), str(path))


def _kid(public_key: Ed25519PublicKey) -> str:
    der = public_key.public_bytes(serialization.Encoding.DER,
                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def _public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _signer_from_pem(pem: bytes, source: str) -> Signer:
    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, Ed25519PrivateKey):
        raise RuntimeError(f"{source} does not hold an Ed25519 private key")
    public_key = private_key.public_key()
    return Signer(private_key, _kid(public_key), _public_pem(public_key))


def signer_from_file(path: Path) -> Signer:
    """The signer of the key file at `path` (RuntimeError when it is missing); not cached."""
    return _load(path, create=False)


def get_signer(path: str | None = None, create: bool | None = None, config=None) -> Signer:
    """The signer of LICENSE_SIGNING_KEY, else of the key file at `path` (default: the app's
    LICENSE_SIGNING_KEY_PATH); loaded once. A missing file is created when `create` says so,
    by default where LICENSE_SIGNING_KEY_AUTOCREATE allows it (development, tests); else
    RuntimeError. `config` is the app's config (default: current_app's)."""
    config = current_app.config if config is None else config
    inline = None if path else config.get("LICENSE_SIGNING_KEY")
    cache_key = f"inline:{hashlib.sha256(inline.encode()).hexdigest()}" if inline else None
    path = path or config["LICENSE_SIGNING_KEY_PATH"]
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
                    if create is None:
                        create = config.get("LICENSE_SIGNING_KEY_AUTOCREATE", False)
                    signer = _load(Path(path), create=create)
                _signers[cache_key] = signer
    return signer


def current_signer() -> Signer:
    """The app's signer, never creating a key file."""
    return get_signer(create=False)


def _public_key_from(entry: str) -> Ed25519PublicKey:
    """The public key of a LICENSE_PREVIOUS_PUBLIC_KEYS entry: PEM text, or the path of a PEM
    file holding a public or a private Ed25519 key."""
    text = entry.replace("\\n", "\n").strip()
    pem = text.encode("ascii") if text.startswith("-----BEGIN") else Path(text).read_bytes()
    if b"PRIVATE KEY" in pem:
        key = serialization.load_pem_private_key(pem, password=None)
        key = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    else:
        key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise RuntimeError("LICENSE_PREVIOUS_PUBLIC_KEYS holds a key that is not Ed25519")
    return key


@lru_cache(maxsize=8)
def _previous_keys(entries: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(kid, public PEM) of each entry, read once per list of entries."""
    return tuple((_kid(key), _public_pem(key)) for key in map(_public_key_from, entries))


def published_keys() -> list[dict]:
    """`[{kid, public_key_pem, actual}]`: the current key first, then the earlier ones still
    published (LICENSE_PREVIOUS_PUBLIC_KEYS), each once."""
    signer = get_signer()
    keys = [{"kid": signer.kid, "public_key_pem": signer.public_key_pem, "actual": True}]
    entries = tuple(current_app.config.get("LICENSE_PREVIOUS_PUBLIC_KEYS") or ())
    for kid, pem in _previous_keys(entries):
        if all(key["kid"] != kid for key in keys):
            keys.append({"kid": kid, "public_key_pem": pem, "actual": False})
    return keys


def public_key_info() -> dict:
    """`{algoritmo, kid, public_key_pem, keys}` for `GET /api/public-key`: the current key
    (as existing clients read it) and every published key."""
    keys = published_keys()
    current = keys[0]
    return {"algoritmo": ALGORITMO, "kid": current["kid"], "public_key_pem": current["public_key_pem"],
            "keys": keys}


def server_ts() -> str:
    """Now, ISO 8601 UTC with Z (second precision)."""
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def signed_body(payload: dict, nonce: str | None, dumps, signer: Signer, ts: str | None = None
                ) -> tuple[bytes, list[tuple[str, str]]]:
    """The bytes of a signed answer (`payload` with `ts`, default now, and `nonce` when given,
    serialised by `dumps`) and the headers that sign them; the one recipe of Flask's answer and
    of the fast path's (licencia.fast_path), so both give the same bytes."""
    body = dict(payload)
    body["ts"] = ts or server_ts()
    if nonce is not None:
        body["nonce"] = nonce
    data = dumps(body).encode("utf-8")
    return data, [("X-Signature", signer.sign(data)), ("X-Signature-Kid", signer.kid),
                  ("Cache-Control", "no-store")]


def signed_json(payload: dict, status: int = 200, nonce: str | None = None) -> Response:
    """A JSON response carrying `ts` (and `nonce` when given) with `X-Signature` over its bytes."""
    data, headers = signed_body(payload, nonce, current_app.json.dumps, get_signer())
    response = Response(data, status=status, mimetype="application/json")
    response.headers.extend(headers)
    return response
