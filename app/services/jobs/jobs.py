"""Background jobs: queue long work (PDF exports, archives, imports), run it in a runner, let the owner download
the result.

How it fits together:
- a route calls `enqueue(...)`: a queued row in the jobs table (committed, so any process can see it);
- a runner (the in-process thread in app.job_runner, or `folio worker`) calls `job_runs.run_pending(...)`, which claims a
  job with a conditional UPDATE (status queued → running; only one process can win it), runs the handler
  registered for its kind in the owner's language, and records the result file or the reason it failed;
- the handler reports progress as it goes (app.services.jobs.job_progress): each report is written in its own
  short transaction, so the progress page sees it while the handler's own work is still uncommitted;
- a handler doing a lot of writing (an import) commits in batches with `commit_batch(...)`, each checking the job
  is still its own; it leaves its last batch uncommitted, so the job's outcome is committed together with it (a
  crash just after that commit leaves a "done" job, never a finished import reported as failed);
- a job whose process died (no heartbeat for settings.job_timeout_seconds) is requeued, or failed after
  MAX_ATTEMPTS; a requeued import carries on from its last committed batch (job_housekeeping);
- results expire after settings.export_keep_hours and are deleted by `job_housekeeping.cleanup_expired(...)`.

A handler writes its result on local disk (settings.jobs_dir); a successful result is then put in the job file
store (app.storage.job_files: the same folder, or the S3 bucket every app process and worker shares) before the
job is marked done, so whichever process serves the download finds it.

Handlers are keyword-only functions registered with `@handler("kind")`; see JobResult and Progress.
"""

from __future__ import annotations

import importlib
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session

from app import storage as file_storage
from app.config import Settings
from app.models import Job, JobStatus, User
from app.models.base import utcnow


# Modules that register handlers with @handler(...); imported by load_handlers() before a runner starts.
HANDLER_MODULES: tuple[str, ...] = (
    "app.services.exports.pdf_export",  # portfolio_pdf, class_pdfs
    "app.services.exports.archive_export",  # archive
    "app.services.exports.import_job",  # import
    "app.services.accounts.leavers",  # leaver_archive
    "app.services.roster_import.roster_job",  # roster_import
)

MAX_ATTEMPTS = 3  # a job whose process died this many times is failed, not retried again
KEEP_ROWS = timedelta(days=7)  # finished jobs are forgotten after this long
ACTIVE = (JobStatus.queued, JobStatus.running)


@dataclass
class JobResult:
    """What a handler made: a file under settings.jobs_dir, the name it downloads as, and its type."""

    path: Path
    download_name: str
    content_type: str
    # Keys in the job file store the job has finished with (an import's upload): removed only once the outcome is
    # committed, so a runner dying before that finds them again when it carries on.
    discard: tuple[str, ...] = field(default_factory=tuple)


Progress = Callable[[int, int, str], None]  # progress(done, total, stage); stage already translated
Handler = Callable[..., JobResult]


class JobFailed(Exception):
    """Raise with a translated message the user can act on; the job fails cleanly with that message."""


class JobTakenOver(BaseException):
    """This runner no longer holds the job (it was taken for dead and requeued): stop without recording anything.

    A BaseException, like KeyboardInterrupt, so a handler's `except Exception` doesn't treat it as its own failure
    and undo what the new runner carries on from."""


def commit_batch(*, session: Session, job: Job) -> None:
    """Commit the handler's work so far, with a heartbeat, if this runner still holds `job`; otherwise roll it
    back and raise JobTakenOver (another runner carries on from the last batch that was committed)."""
    still_ours = session.execute(sa.update(Job).where(
        Job.id == job.id, Job.status == JobStatus.running, Job.claimed_by == job.claimed_by,
    ).values(heartbeat_at=utcnow()))
    if still_ours.rowcount != 1:
        session.rollback()
        raise JobTakenOver(job.id)
    session.commit()


HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of jobs of `kind`."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def load_handlers() -> None:
    """Import every module that registers handlers (a runner calls this before its first job)."""
    for module in HANDLER_MODULES:
        importlib.import_module(module)


# --- waking runners --------------------------------------------------------------------------------------

_wakers: set[threading.Event] = set()
_wakers_lock = threading.Lock()


def add_waker(event: threading.Event) -> None:
    """Have `event` set whenever a job is enqueued in this process (an in-process runner waits on it)."""
    with _wakers_lock:
        _wakers.add(event)


def remove_waker(event: threading.Event) -> None:
    with _wakers_lock:
        _wakers.discard(event)


def wake_runners() -> None:
    """Tell in-process runners there is work now, so a short job doesn't wait for the next poll."""
    with _wakers_lock:
        for event in _wakers:
            event.set()


# --- queueing and finding jobs ----------------------------------------------------------------------------

def enqueue(*, session: Session, owner: User, kind: str, params: dict) -> Job:
    """Queue a job for `owner` and commit (so a runner in any process can claim it); wakes in-process runners."""
    job = Job(kind=kind, owner_id=owner.id, params=params, status=JobStatus.queued)
    session.add(job)
    session.commit()
    wake_runners()
    return job


# --- files ---------------------------------------------------------------------------------------------------

def _prefix(job_id: int) -> str:
    return f"job-{job_id}-"


def result_path(settings: Settings, job: Job, suffix: str = ".bin") -> Path:
    """Where a handler writes the job's result (the folder exists). Files named after the job are removed
    when it fails, and all but the result when it succeeds."""
    settings.jobs_dir.mkdir(parents=True, exist_ok=True)
    return settings.jobs_dir / f"{_prefix(job.id)}{job.attempts}-result{suffix}"


def scratch_dir(settings: Settings, job: Job) -> Path:
    """An empty folder for a handler's temporary files; removed when the job ends, however it ends."""
    path = settings.jobs_dir / f"{_prefix(job.id)}{job.attempts}-work"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def safe_download_name(name: str, suffix: str = "") -> str:
    """A file name a browser can save as-is: no folders, control characters or quotes; never empty."""
    cleaned = "".join(" " if ch in '/\\"<>:|?*' or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)
    cleaned = " ".join(cleaned.split()).strip(" .")[:200]
    if not cleaned:
        cleaned = "folio" + suffix
    return cleaned


def stored_result(settings: Settings, job: Job) -> str | None:
    """The key of the job's result in the job file store, or None (no result, or not there any more)."""
    if not job.result_name:
        return None
    try:
        return job.result_name if file_storage.job_files(settings).exists(job.result_name) else None
    except ValueError:  # a name that would leave the store
        return None


def remove_job_files(settings: Settings, job_id: int, *, keep: Path | None = None) -> None:
    """Delete a job's files on local disk, all but `keep`."""
    folder = settings.jobs_dir
    if not folder.is_dir():
        return
    for entry in folder.glob(f"{_prefix(job_id)}*"):
        if keep is not None and entry.resolve() == keep.resolve():
            continue
        if entry.is_dir():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
