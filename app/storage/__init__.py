"""Where Folio keeps files, chosen by FOLIO_STORAGE_URL: a local folder (file:///..., the default) or an
S3-compatible object store (s3://bucket/prefix).

Two stores come from one setting:
- `uploads(settings)`: students' files, their thumbnails and print copies (keys "u<owner id>/<name>");
- `job_files(settings)`: finished exports and archives waiting to be imported, which a `folio worker` on
  another host must reach too (keys "job-<id>-...", "incoming/<name>").
With a folder, uploads live in it and job files stay in FOLIO_DATA_DIR/jobs as before; with S3, both live in the
bucket under "<prefix>/uploads/" and "<prefix>/jobs/".
"""

from __future__ import annotations

import threading
from pathlib import Path

from app.config import Settings
from app.storage.base import ObjectInfo, Storage, StorageError, check_key, parse_storage_url
from app.storage.local import LocalStorage

__all__ = ["ObjectInfo", "Storage", "StorageError", "check_key", "uploads", "job_files", "parse_storage_url"]

_cache: dict[tuple, Storage] = {}
_cache_lock = threading.RLock()


def uploads(settings: Settings) -> Storage:
    """The store of uploaded files (shared by all requests of a process)."""
    return _storage(settings, "uploads")


def job_files(settings: Settings) -> Storage:
    """The store of export results and archives waiting for their import job."""
    return _storage(settings, "jobs")


def _storage(settings: Settings, area: str) -> Storage:
    key = (area, settings.effective_storage_url, str(settings.upload_dir), str(settings.data_dir),
           settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id, settings.s3_secret_access_key,
           settings.s3_addressing_style)
    with _cache_lock:
        store = _cache.get(key)
        if store is None:
            store = _cache[key] = _make(settings, area)
        return store


def _make(settings: Settings, area: str) -> Storage:
    scheme, bucket, location = parse_storage_url(settings.effective_storage_url)
    if scheme == "file":
        if area == "jobs":
            return LocalStorage(settings.jobs_dir, scratch_dir=settings.jobs_dir / ".scratch")
        # Scratch files stay in upload_dir/.incoming whatever the folder (the app cleans stale ones there).
        return LocalStorage(Path(location), scratch_dir=settings.upload_dir / ".incoming")
    from app.storage.s3 import S3Storage

    # Scratch space stays on local disk: uploads are received and checked there before they go to the bucket.
    scratch = settings.upload_dir / ".incoming" if area == "uploads" else settings.jobs_dir / ".scratch"
    return S3Storage(client=s3_client(settings), bucket=bucket, prefix=f"{location}{area}/", scratch_dir=scratch)


_clients: dict[tuple, object] = {}


def s3_client(settings: Settings):
    """A boto3 S3 client for the configured endpoint and credentials (thread-safe, so shared: making one takes
    a good part of a second)."""
    key = (settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id, settings.s3_secret_access_key,
           settings.s3_addressing_style, settings.db_pool_size + settings.db_max_overflow)
    with _cache_lock:
        if key not in _clients:
            _clients[key] = _new_s3_client(settings)
        return _clients[key]


def _new_s3_client(settings: Settings):
    import boto3
    from botocore.config import Config

    style = settings.s3_addressing_style or ("path" if settings.s3_endpoint_url else "virtual")
    config = Config(
        region_name=settings.s3_region or None,
        s3={"addressing_style": style},
        retries={"max_attempts": 5, "mode": "standard"},
        # A request thread, a transfer thread or a job each hold one connection at a time.
        max_pool_connections=max(10, settings.db_pool_size + settings.db_max_overflow + 8),
        # Garage, Ceph and older MinIO refuse the newer default checksum headers; S3 doesn't require them.
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
        connect_timeout=10, read_timeout=60,
    )
    credentials = {}
    if settings.s3_access_key_id:  # else boto3's own chain: AWS_* variables, a profile, an instance role
        credentials = dict(aws_access_key_id=settings.s3_access_key_id,
                           aws_secret_access_key=settings.s3_secret_access_key)
    return boto3.session.Session().client("s3", endpoint_url=settings.s3_endpoint_url or None, config=config,
                                          **credentials)
