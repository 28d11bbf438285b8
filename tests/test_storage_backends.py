"""Both file stores (a local folder and an S3 API server) keep, stream, copy and delete files the same way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import storage
from app.storage import s3 as s3_module
from app.storage.base import check_key, parse_storage_url
from tests.conftest import make_settings

pytestmark = pytest.mark.storage


@pytest.fixture
def settings(tmp_path, storage_url):
    return make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", storage_url=storage_url)


@pytest.fixture
def store(settings) -> storage.Storage:
    return storage.uploads(settings)


def local_file(store: storage.Storage, content: bytes) -> Path:
    path = store.new_scratch_path()
    path.write_bytes(content)
    return path


def test_put_open_info_and_list(store):
    content = os.urandom(300_000)
    source = local_file(store, content)
    store.put_file("u1/abc.bin", source, content_type="application/octet-stream")
    assert not source.exists(), "the scratch file is handed over, not left behind"
    with store.open("u1/abc.bin") as handle:
        assert handle.read() == content
    assert store.info("u1/abc.bin").size == len(content)
    assert store.info("u1/missing.bin") is None and not store.exists("u1/missing.bin")
    assert store.list() == ["u1/abc.bin"], "scratch files are never listed"
    assert store.list("u2/") == []
    with pytest.raises(FileNotFoundError):
        store.open("u1/missing.bin")


def test_ranges_stream_only_the_bytes_asked_for(store):
    content = bytes(range(256)) * 4000
    store.put_file("u1/clip.webm", local_file(store, content))
    assert b"".join(store.iter_range("u1/clip.webm", 1000, 1999)) == content[1000:2000]
    assert b"".join(store.iter_range("u1/clip.webm", 1_000_000)) == content[1_000_000:]
    assert b"".join(store.iter_range("u1/clip.webm")) == content


def test_copy_delete_and_local_copy(store):
    store.put_file("u1/a.txt", local_file(store, b"hello"))
    store.copy("u1/a.txt", "u2/b.txt")
    assert store.read_bytes("u2/b.txt") == b"hello"
    with store.local_copy("u2/b.txt") as path:
        assert path.read_bytes() == b"hello"
    store.delete(["u1/a.txt", "u1/never-there.txt", "../escape", "/etc/passwd"])
    assert store.list() == ["u2/b.txt"]
    with pytest.raises(FileNotFoundError):
        with store.local_copy("u1/a.txt"):
            pass


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "u1/../../x", "u1\\x", ".incoming/x", "u1//x", "u1/",
                                 "a\x00b", "./u1/x"])
def test_unsafe_keys_are_refused(store, key):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises((ValueError, FileNotFoundError)):
        store.open(key)


def test_storage_urls():
    assert parse_storage_url("file:///srv/folio/uploads") == ("file", "", "/srv/folio/uploads")
    assert parse_storage_url("s3://bucket") == ("s3", "bucket", "")
    assert parse_storage_url("s3://bucket/a/b/") == ("s3", "bucket", "a/b/")
    for bad in ("ftp://x/y", "s3:///prefix", "file://host/x", "/srv/folio"):
        with pytest.raises(ValueError):
            parse_storage_url(bad)


def test_a_bad_storage_url_stops_the_settings(tmp_path):
    with pytest.raises(ValueError, match="FOLIO_STORAGE_URL"):
        make_settings(tmp_path, "sqlite://", storage_url="s3:/oops")


@pytest.mark.s3
def test_a_large_file_goes_up_in_parts_and_a_failed_upload_leaves_no_object(tmp_path, s3_server, monkeypatch):
    bucket = "folio-multipart"
    s3_server.create_bucket(bucket)
    settings = make_settings(tmp_path, "sqlite://", storage_url=f"s3://{bucket}/x")
    store = storage.uploads(settings)
    monkeypatch.setattr(store.transfer, "multipart_threshold", 5 * 1024 * 1024)
    monkeypatch.setattr(store.transfer, "multipart_chunksize", 5 * 1024 * 1024)
    content = os.urandom(11 * 1024 * 1024)
    store.put_file("u1/video.webm", local_file(store, content))
    head = store.client.head_object(Bucket=bucket, Key="x/uploads/u1/video.webm")
    assert head["ETag"].strip('"').endswith("-3"), "sent as a multipart upload of three parts"
    assert b"".join(store.iter_range("u1/video.webm", 6 * 1024 * 1024, 6 * 1024 * 1024 + 9)) == \
        content[6 * 1024 * 1024: 6 * 1024 * 1024 + 10]

    # A part that fails to upload: the multipart upload is aborted and no object appears.
    real_upload_part = store.client.upload_part
    calls = []

    def failing_upload_part(**kwargs):
        calls.append(kwargs["PartNumber"])
        if kwargs["PartNumber"] == 2:
            raise s3_module.BotoCoreError()
        return real_upload_part(**kwargs)

    monkeypatch.setattr(store.client, "upload_part", failing_upload_part)
    source = local_file(store, content)
    with pytest.raises(storage.StorageError):
        store.put_file("u1/broken.webm", source)
    assert calls and not store.exists("u1/broken.webm")
    assert not source.exists()
    assert store.client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_a_local_store_takes_a_file_from_another_filesystem_whole(tmp_path, monkeypatch):
    """A scratch folder on another filesystem can't be renamed in: the file is copied beside its place and renamed,
    leaving neither the scratch file nor a partial copy."""
    import errno

    from app.storage import local as local_module

    store = local_module.LocalStorage(tmp_path / "uploads", scratch_dir=tmp_path / "elsewhere")
    source = tmp_path / "elsewhere" / "upload.part"
    source.parent.mkdir()
    source.write_bytes(b"whole file")
    real_replace = os.replace

    def replace(src, dst):
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(local_module.os, "replace", replace)
    store.put_file("u1/file.bin", source)
    assert store.read_bytes("u1/file.bin") == b"whole file"
    assert not source.exists()
    assert sorted(p.name for p in (tmp_path / "uploads" / "u1").iterdir()) == ["file.bin"]
