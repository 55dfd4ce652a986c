"""Attachment storage: the same behaviour on a local folder and on S3 (moto's server over
HTTP), failures reported as StorageError, unsafe keys refused, the backend picked from the
settings."""
from __future__ import annotations

import os
import re
import time

import pytest

from backend.soporte.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    generate_key,
    storage_for,
)

BINARY = bytes(range(256)) * 4 + b"\x00\x00\xff\x00MZ\x7fELF\r\n\x1a"


def test_put_then_get_returns_the_exact_bytes(storage):
    storage.put("tickets/1/aa11", b"hola mundo\n", "text/plain")
    storage.put("tickets/1/bb22", BINARY, "application/octet-stream")
    assert storage.get("tickets/1/aa11") == b"hola mundo\n"
    assert storage.get("tickets/1/bb22") == BINARY


def test_ten_mib_payload_round_trips(storage):
    payload = os.urandom(10 * 1024 * 1024)
    storage.put("tickets/2/big", payload, "application/zip")
    got = storage.get("tickets/2/big")
    assert len(got) == len(payload)
    assert got == payload


def test_put_replaces_an_existing_object(storage):
    storage.put("tickets/3/k", b"primera version", "text/plain")
    storage.put("tickets/3/k", b"segunda", "text/plain")
    assert storage.get("tickets/3/k") == b"segunda"


def test_exists_follows_put_and_delete(storage):
    assert storage.exists("tickets/4/k") is False
    storage.put("tickets/4/k", b"x", "text/plain")
    storage.put("tickets/4/otro", b"y", "text/plain")
    assert storage.exists("tickets/4/k") is True
    storage.delete("tickets/4/k")
    assert storage.exists("tickets/4/k") is False
    assert storage.get("tickets/4/otro") == b"y"  # only the named object went away


def test_delete_of_a_missing_key_is_not_an_error(storage):
    assert storage.delete("tickets/5/nunca-existio") is None
    assert storage.exists("tickets/5/nunca-existio") is False


def test_get_of_a_missing_key_raises_storage_error(storage):
    with pytest.raises(StorageError) as caught:
        storage.get("tickets/6/no-existe")
    assert isinstance(caught.value, ObjectNotFound)


def test_check_is_ok_on_a_usable_backend(storage):
    assert storage.check() == "ok"


@pytest.mark.parametrize("key", [
    "/etc/passwd", "../fuera", "tickets/../../app.db", "tickets/1/..", "tickets\\1\\a",
    "tickets/1/a\x00b", "", "tickets//a", "tickets/./a", "tickets/1/",
])
def test_unsafe_keys_are_refused(storage, key):
    with pytest.raises(ValueError):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        storage.get(key)
    with pytest.raises(ValueError):
        storage.delete(key)
    with pytest.raises(ValueError):
        storage.exists(key)


def test_generated_keys_are_unique_and_accepted(storage):
    keys = {generate_key(7) for _ in range(50)}
    assert len(keys) == 50
    assert all(re.fullmatch(r"tickets/7/[0-9a-f]{32}", key) for key in keys)
    key = next(iter(keys))
    storage.put(key, b"ok", "text/plain")
    assert storage.get(key) == b"ok"


# --- local backend ---------------------------------------------------------------------


def test_local_files_live_under_root_at_the_key_path(tmp_path):
    storage = LocalStorage(str(tmp_path / "uploads"))
    storage.put("tickets/12/3f2a", BINARY, "application/pdf")
    path = tmp_path / "uploads" / "tickets" / "12" / "3f2a"
    assert path.read_bytes() == BINARY
    assert sorted(p.name for p in path.parent.iterdir()) == ["3f2a"]  # no temp file left behind
    storage.delete("tickets/12/3f2a")
    assert not path.exists()


def test_local_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path):
    storage = LocalStorage(str(tmp_path))
    storage.put("tickets/1/k", b"original", "text/plain")
    with pytest.raises(TypeError):
        storage.put("tickets/1/k", "no son bytes", "text/plain")
    assert storage.get("tickets/1/k") == b"original"
    assert [p.name for p in (tmp_path / "tickets" / "1").iterdir()] == ["k"]


def test_local_root_that_is_a_file_is_a_storage_error(tmp_path):
    root = tmp_path / "ocupado"
    root.write_bytes(b"soy un archivo")
    storage = LocalStorage(str(root))
    with pytest.raises(StorageError):
        storage.check()
    with pytest.raises(StorageError):
        storage.put("tickets/1/k", b"x", "text/plain")
    with pytest.raises(StorageError):
        storage.get("tickets/1/k")
    assert root.read_bytes() == b"soy un archivo"


def test_local_check_creates_a_missing_root(tmp_path):
    root = tmp_path / "nuevo" / "uploads"
    assert LocalStorage(str(root)).check() == "ok"
    assert root.is_dir()
    assert list(root.iterdir()) == []  # the probe file was removed


def test_local_root_below_a_file_fails_every_call_with_storage_error(tmp_path):
    # Permission bits do not stop root (CI runs as root): a root below a regular file cannot
    # be created or written by anyone, so every call fails the same way a read-only disk does.
    (tmp_path / "archivo").write_bytes(b"x")
    storage = LocalStorage(str(tmp_path / "archivo" / "uploads"))
    for call in (storage.check, lambda: storage.put("tickets/1/k", b"x", "text/plain"),
                 lambda: storage.get("tickets/1/k"), lambda: storage.delete("tickets/1/k")):
        with pytest.raises(StorageError) as caught:
            call()
        assert not isinstance(caught.value, ObjectNotFound)
    assert storage.exists("tickets/1/k") is False
    assert (tmp_path / "archivo").read_bytes() == b"x"


def test_local_write_that_fails_after_the_temp_file_is_a_storage_error(tmp_path):
    # The key names a folder: the temp file is written, then os.replace fails.
    storage = LocalStorage(str(tmp_path))
    storage.put("tickets/1/k", b"x", "text/plain")
    with pytest.raises(StorageError):
        storage.put("tickets/1", b"y", "text/plain")
    assert sorted(p.name for p in (tmp_path / "tickets").iterdir()) == ["1"]
    assert [p.name for p in (tmp_path / "tickets" / "1").iterdir()] == ["k"]
    assert storage.get("tickets/1/k") == b"x"


def test_local_key_naming_a_folder_is_not_an_object(tmp_path):
    storage = LocalStorage(str(tmp_path))
    storage.put("tickets/1/k", b"x", "text/plain")
    assert storage.exists("tickets/1") is False
    with pytest.raises(StorageError):
        storage.get("tickets/1")


# --- S3 backend ------------------------------------------------------------------------


@pytest.mark.integration
def test_s3_object_has_the_content_type_and_bytes(s3_storage, s3_client, s3_bucket):
    s3_storage.put("tickets/9/abc", BINARY, "application/pdf")
    head = s3_client.head_object(Bucket=s3_bucket, Key="tickets/9/abc")
    assert head["ContentType"] == "application/pdf"
    assert head["ContentLength"] == len(BINARY)
    body = s3_client.get_object(Bucket=s3_bucket, Key="tickets/9/abc")["Body"].read()
    assert body == BINARY
    s3_storage.delete("tickets/9/abc")
    assert s3_client.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0


@pytest.mark.integration
def test_s3_missing_bucket_is_a_storage_error(make_s3_storage):
    storage = make_s3_storage("no-existe-este-bucket")
    with pytest.raises(StorageError) as caught:
        storage.check()
    assert "no-existe-este-bucket" in str(caught.value)
    with pytest.raises(StorageError):
        storage.put("tickets/1/k", b"x", "text/plain")
    with pytest.raises(StorageError):
        storage.get("tickets/1/k")
    with pytest.raises(StorageError):
        storage.exists("tickets/1/k")
    with pytest.raises(StorageError):
        storage.delete("tickets/1/k")


def test_s3_dead_endpoint_fails_fast_with_storage_error(dead_endpoint):
    started = time.monotonic()
    storage = S3Storage("adjuntos", endpoint_url=dead_endpoint, access_key="a", secret_key="b")
    assert time.monotonic() - started < 1  # nothing connects on construction
    for call in (storage.check, lambda: storage.put("tickets/1/k", b"x", "text/plain"),
                 lambda: storage.get("tickets/1/k"), lambda: storage.exists("tickets/1/k"),
                 lambda: storage.delete("tickets/1/k")):
        with pytest.raises(StorageError) as caught:
            call()
        assert not isinstance(caught.value, ObjectNotFound)
    assert time.monotonic() - started < 30  # five calls, each a few seconds at most


# --- storage_for -----------------------------------------------------------------------


def test_storage_for_defaults_to_local_under_upload_folder(tmp_path):
    storage = storage_for({"UPLOAD_FOLDER": str(tmp_path / "up")})
    assert isinstance(storage, LocalStorage)
    assert storage.root == str(tmp_path / "up")
    storage = storage_for({"STORAGE_BACKEND": " LOCAL ", "UPLOAD_FOLDER": str(tmp_path)})
    assert isinstance(storage, LocalStorage)


def test_storage_for_s3_builds_without_connecting():
    started = time.monotonic()
    storage = storage_for({
        "STORAGE_BACKEND": "s3", "S3_BUCKET": "adjuntos", "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "S3_ACCESS_KEY": "a", "S3_SECRET_KEY": "b", "S3_REGION": "",
        "UPLOAD_FOLDER": "/nunca/usado",
    })
    assert time.monotonic() - started < 1
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.endpoint_url, storage.region) == (
        "adjuntos", "http://127.0.0.1:9", "us-east-1")


@pytest.mark.integration
def test_storage_for_s3_works_against_the_server(moto_endpoint, s3_bucket):
    storage = storage_for({"STORAGE_BACKEND": "s3", "S3_BUCKET": s3_bucket,
                           "S3_ENDPOINT_URL": moto_endpoint, "S3_ACCESS_KEY": "testing",
                           "S3_SECRET_KEY": "testing", "S3_REGION": "us-east-1"})
    assert storage.check() == "ok"
    storage.put("tickets/1/k", b"via settings", "text/plain")
    assert storage.get("tickets/1/k") == b"via settings"


@pytest.mark.parametrize(("settings", "message"), [
    ({"STORAGE_BACKEND": "ftp", "UPLOAD_FOLDER": "/tmp/x"}, "unknown STORAGE_BACKEND"),
    ({"STORAGE_BACKEND": "s3"}, "S3_BUCKET"),
    ({"STORAGE_BACKEND": "s3", "S3_BUCKET": ""}, "S3_BUCKET"),
    ({"STORAGE_BACKEND": "local", "UPLOAD_FOLDER": ""}, "UPLOAD_FOLDER"),
])
def test_storage_for_refuses_settings_that_cannot_work(settings, message):
    with pytest.raises(ValueError, match=message):
        storage_for(settings)


def test_storage_is_abstract():
    with pytest.raises(TypeError):
        Storage()
