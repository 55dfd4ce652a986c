"""Private files (mode 0600) created once, safely when several processes race to create them.

A new file is written in full to a temporary name in the same folder, then hard-linked to its
final name: the link fails when another process got there first, so the final name only ever
appears with its whole content, and every process then reads the one file that won. Where the
filesystem has no hard links, an exclusive create stands in (a reader that finds the file still
empty waits a moment for its writer).
"""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

PRIVATE_MODE = 0o600
_READ_ATTEMPTS = 50
_READ_PAUSE_SECONDS = 0.02


def create_private_file(path: Path, data: bytes) -> bool:
    """Write `data` to a new file at `path` (mode 0600); False, untouched, when it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, path)  # atomic, never overwrites: the first process wins
        except FileExistsError:
            return False
        except OSError:  # no hard links on this filesystem
            return _create_exclusive(path, data)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _create_exclusive(path: Path, data: bytes) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def read_private_file(path: Path) -> bytes:
    """The content of `path`, waiting briefly while a racing writer has not filled it yet."""
    for _ in range(_READ_ATTEMPTS):
        data = path.read_bytes()
        if data:
            return data
        time.sleep(_READ_PAUSE_SECONDS)
    raise RuntimeError(f"{path} is empty")


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of the private file at `path`, created with `make()` when it is missing."""
    if not path.exists():
        create_private_file(path, make())
    return read_private_file(path)


def instance_secret(path: Path) -> str:
    """A random secret kept in the private file `path`: made on first use, then always the same
    (for every process that reads that file)."""
    data = read_or_create(path, lambda: (secrets.token_urlsafe(48) + "\n").encode("ascii"))
    secret = data.decode("ascii").strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} does not hold a usable secret")
    return secret
