"""Uploads when the storage fails for real: a full disk under the local storage (a 256 KiB
tmpfs mounted for the test: a real ENOSPC), and an S3 bucket that was removed (moto's server
over HTTP: a real NoSuchBucket). Each is the contract's clear JSON error (503
`almacenamiento_no_disponible`: the same file can be sent again once the storage has room or
is back), with no half-written file and no row left behind."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend.soporte.storage import LocalStorage, StorageError
from tests.conftest import assert_error
from tests.soporte.test_attachments import (
    PDF,
    _filas,
    admin_upload,
    internal_upload,
    storage_swapped,
)

DISK_BYTES = 256 * 1024
TOO_BIG = ("línea de registro que no cabe en el disco\n" * 8000).encode()  # ~340 KB, under 10 MB


@pytest.fixture
def ticket(empresa, soporte_activo, make_ticket):
    return make_ticket(empresa, soporte_activo)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@contextmanager
def _small_disk(path: Path):
    """A 256 KiB tmpfs at `path` (root may mount here); else the same limit as a file size
    limit of this process (RLIMIT_FSIZE, SIGXFSZ ignored: writes past it fail with EFBIG)."""
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs",
                              str(path)], capture_output=True).returncode == 0
    if mounted:
        try:
            yield "ENOSPC"
        finally:
            subprocess.run(["umount", str(path)], check=True)
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (DISK_BYTES, hard))
    try:
        yield "EFBIG"
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def test_a_full_disk_is_a_clean_503_with_no_partial_file_and_no_row(app, client, db, tmp_path,
                                                                     admin_headers,
                                                                     internal_headers, ticket):
    root = tmp_path / "disk"
    with _small_disk(root) as how:
        storage = LocalStorage(str(root))
        with pytest.raises(StorageError, match=r"No space left|File too large"):
            storage.put("tickets/1/probe", TOO_BIG, "text/plain")  # the real error, first hand
        assert _files(root) == []
        with storage_swapped(app, storage):
            for upload, headers in ((admin_upload, admin_headers),
                                    (internal_upload, internal_headers)):
                response = upload(client, headers, ticket.id, TOO_BIG, "registro.log")
                body = assert_error(response, 503, "almacenamiento_no_disponible")
                assert "space" not in str(body) and str(root) not in str(body), (how, body)
            assert _files(root) == []  # no `.upload-*.tmp` left half-written
            assert _filas(db) == []
            # The storage itself still works for what fits.
            response = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf")
            assert response.status_code == 201, response.get_json()
            [fila] = _filas(db)
            assert _files(root) == [fila.storage_key]
            assert (root / fila.storage_key).read_bytes() == PDF
        if how == "ENOSPC":
            assert os.statvfs(root).f_bfree > 0  # the failed writes gave their space back


@pytest.mark.integration
def test_a_removed_bucket_is_a_clean_503_with_no_object_and_no_row(app, client, db, s3_client,
                                                                   s3_bucket, make_s3_storage,
                                                                   admin_headers,
                                                                   internal_headers, ticket):
    storage = make_s3_storage(s3_bucket)
    s3_client.delete_bucket(Bucket=s3_bucket)
    with storage_swapped(app, storage):
        for upload, headers in ((admin_upload, admin_headers), (internal_upload, internal_headers)):
            response = upload(client, headers, ticket.id, PDF, "f.pdf")
            body = assert_error(response, 503, "almacenamiento_no_disponible")
            assert s3_bucket not in str(body) and "NoSuchBucket" not in str(body)
    assert _filas(db) == []
    # Made again (empty): nothing was written meanwhile, and uploads work again at once.
    s3_client.create_bucket(Bucket=s3_bucket)
    with storage_swapped(app, storage):
        response = admin_upload(client, admin_headers, ticket.id, PDF, "f.pdf")
        assert response.status_code == 201, response.get_json()
    [fila] = _filas(db)
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
    assert keys == [fila.storage_key]
