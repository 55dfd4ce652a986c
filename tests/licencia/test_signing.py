"""The signing key file: generated once (0600), shared by racing processes, reused."""
from __future__ import annotations

import base64
import multiprocessing
import os
import stat

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from backend.licencia import signing


def test_key_generated_with_private_mode(tmp_path):
    path = tmp_path / "keys" / "license.pem"
    signer = signing.get_signer(str(path))
    assert path.exists() and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    # Loaded again (a new process) it is the same key.
    signing._signers.clear()
    assert signing.get_signer(str(path)).kid == signer.kid


def test_existing_file_is_never_overwritten(tmp_path):
    path = tmp_path / "license.pem"
    first = signing._load(path)
    before = path.read_bytes()
    signing._write_new_key(path)  # a process that lost the race
    assert path.read_bytes() == before and signing._load(path).kid == first.kid


def _child(path: str, queue) -> None:
    signing._signers.clear()
    queue.put(signing.get_signer(path).kid)


def test_racing_processes_agree_on_one_key(tmp_path):
    path = str(tmp_path / "race.pem")
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(path, queue)) for _ in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(30)
    kids = {queue.get(timeout=5) for _ in procs}
    assert len(kids) == 1


def test_signed_json_round_trip(app):
    with app.test_request_context():
        response = signing.signed_json({"a": "ñ"}, 200, nonce="x")
        info = signing.public_key_info()
    body = response.get_json()
    assert body["a"] == "ñ" and body["nonce"] == "x" and body["ts"].endswith("Z")
    key = load_pem_public_key(info["public_key_pem"].encode())
    key.verify(base64.b64decode(response.headers["X-Signature"]), response.data)
    assert response.headers["X-Signature-Kid"] == info["kid"]


def test_filesystem_without_hard_links(tmp_path, monkeypatch):
    def no_links(*_args):
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    path = tmp_path / "nolink.pem"
    signer = signing._load(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert signing._load(path).kid == signer.kid
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
