"""Looking at what the file stores hold, whichever store a test runs on (a folder or an S3 bucket)."""

from __future__ import annotations

from app import storage
from app.config import Settings
from app.models import Job
from app.services.jobs import jobs


def stored_keys(settings: Settings, prefix: str = "") -> list[str]:
    """Every file kept in the uploads store (scratch files never count)."""
    return storage.uploads(settings).list(prefix)


def stored_bytes(settings: Settings, key: str) -> bytes:
    return storage.uploads(settings).read_bytes(key)


def job_result(settings: Settings, job: Job) -> bytes:
    """The bytes of a finished job's result, from the job file store."""
    key = jobs.stored_result(settings, job)
    assert key is not None, f"job {job.id} has no stored result"
    return storage.job_files(settings).read_bytes(key)
