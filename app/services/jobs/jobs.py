"""Background jobs: queue long work (PDF exports, archives, imports), run it in a runner, let the owner download
the result.

How it fits together:
- a route calls `enqueue(...)`: a queued row in the jobs table (committed, so any process can see it);
- a runner (the in-process thread in app.job_runner, or `folio worker`) calls `run_pending(...)`, which claims a
  job with a conditional UPDATE (status queued → running; only one process can win it), runs the handler
  registered for its kind in the owner's language, and records the result file or the reason it failed;
- the handler reports progress as it goes (app.services.jobs.job_progress): each report is written in its own
  short transaction, so the progress page sees it while the handler's own work is still uncommitted;
- a handler doing a lot of writing (an import) commits in batches with `commit_batch(...)`, each checking the job
  is still its own; it leaves its last batch uncommitted, so the job's outcome is committed together with it (a
  crash just after that commit leaves a "done" job, never a finished import reported as failed);
- a job whose process died (no heartbeat for settings.job_timeout_seconds) is requeued, or failed after
  MAX_ATTEMPTS; a requeued import carries on from its last committed batch;
- results expire after settings.export_keep_hours and are deleted by `cleanup_expired(...)`.

A handler writes its result on local disk (settings.jobs_dir); a successful result is then put in the job file
store (app.storage.job_files: the same folder, or the S3 bucket every app process and worker shares) before the
job is marked done, so whichever process serves the download finds it.

Handlers are keyword-only functions registered with `@handler("kind")`; see JobResult and Progress.
"""

from __future__ import annotations

import contextvars
import importlib
import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import i18n
from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import Job, JobStatus, User
from app.models.base import utcnow
from app.services.exports.archive_upload import INCOMING
from app.services.jobs.job_progress import Heartbeat, ProgressReporter

logger = logging.getLogger(__name__)

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


def _remove_job_files(settings: Settings, job_id: int, *, keep: Path | None = None) -> None:
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


# --- claiming and running ---------------------------------------------------------------------------------

def _claim_next(*, engine: Engine, worker_id: str, kinds: list[str]) -> int | None:
    """Claim the oldest queued job of one of `kinds` for `worker_id`; its id, or None when there is none."""
    for _attempt in range(20):  # another process may win each candidate; try the next one
        with engine.begin() as connection:
            candidates = select(Job.id).where(Job.status == JobStatus.queued, Job.kind.in_(kinds)).order_by(
                Job.created_at, Job.id).limit(1)
            if connection.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            job_id = connection.execute(candidates).scalar()
            if job_id is None:
                return None
            if _claim(connection, job_id=job_id, worker_id=worker_id):
                return job_id
    return None


def _claim(connection, *, job_id: int, worker_id: str) -> bool:
    """The conditional UPDATE that makes claiming exclusive: only one caller turns queued into running."""
    now = utcnow()
    claimed = connection.execute(sa.update(Job).where(Job.id == job_id, Job.status == JobStatus.queued).values(
        status=JobStatus.running, claimed_by=worker_id[:80], started_at=now, heartbeat_at=now,
        attempts=Job.attempts + 1, progress=0, total=0, stage="", error="",
    ))
    return claimed.rowcount == 1


def claim(*, engine: Engine, job_id: int, worker_id: str) -> bool:
    """Claim one queued job for `worker_id`; False when it isn't queued (another worker got it first)."""
    with engine.begin() as connection:
        return _claim(connection, job_id=job_id, worker_id=worker_id)


def run_pending(*, engine: Engine, settings: Settings, worker_id: str = "test", limit: int | None = None,
                stop: threading.Event | None = None) -> int:
    """Claim and run queued jobs (oldest first) until none is left, `limit` have run, or `stop` is set;
    how many ran. Only kinds with a registered handler are claimed."""
    load_handlers()
    worker_id = worker_id[:80]
    ran = 0
    while limit is None or ran < limit:
        if stop is not None and stop.is_set():
            break
        kinds = sorted(HANDLERS)
        if not kinds:
            break
        job_id = _claim_next(engine=engine, worker_id=worker_id, kinds=kinds)
        if job_id is None:
            break
        # A copy of the context, so the owner's language stays inside this job.
        contextvars.copy_context().run(_run_claimed, engine=engine, settings=settings, job_id=job_id,
                                       worker_id=worker_id)
        ran += 1
    return ran


def _finish(session: Session, job_id: int, worker_id: str, now: datetime | None = None, **values) -> bool:
    """Record the outcome, only if this worker still holds the job (it may have been requeued meanwhile)."""
    now = now or utcnow()
    result = session.execute(sa.update(Job).where(
        Job.id == job_id, Job.status == JobStatus.running, Job.claimed_by == worker_id,
    ).values(finished_at=now, heartbeat_at=now, **values))
    return result.rowcount == 1


def _run_claimed(*, engine: Engine, settings: Settings, job_id: int, worker_id: str) -> None:
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        owner = session.get(User, job.owner_id)
        i18n.set_locale(_owner_locale(owner.locale if owner is not None else None, settings))
        reporter = ProgressReporter(engine=engine, job_id=job_id, worker_id=worker_id)
        function = HANDLERS[job.kind]
        error: str | None = None
        result: JobResult | None = None
        try:
            with Heartbeat(engine=engine, job_id=job_id, worker_id=worker_id, every=settings.job_heartbeat_seconds):
                result = function(session=session, settings=settings, job=job, progress=reporter)
            path = _checked_result(settings, result)
            result_name = path.relative_to(settings.jobs_dir.resolve()).as_posix()[:120]
            result_size = path.stat().st_size
            # In the shared store before the job is marked done, so any process can serve the download.
            store = file_storage.job_files(settings)
            store.put_file(result_name, path, content_type=result.content_type or None)
        except JobTakenOver:
            session.rollback()
            logger.warning("Job %s was taken over by another worker; this run stops", job_id)
            return
        except JobFailed as exc:
            error = str(exc) or _("This could not be done.")
        except Exception:
            logger.exception("Job %s (%s) crashed", job_id, job.kind)
            error = _("Something went wrong while preparing this. Please try again; if it keeps failing, "
                      "tell your school's Folio administrator.")
        except BaseException:  # Ctrl-C or shutdown mid-job: put it back for the next runner, uncounted
            session.rollback()
            _remove_job_files(settings, job_id)
            session.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == JobStatus.running, Job.claimed_by == worker_id,
            ).values(status=JobStatus.queued, claimed_by=None, heartbeat_at=None, stage="",
                     attempts=Job.attempts - 1))
            session.commit()
            raise

        if error is not None:
            session.rollback()
            _remove_job_files(settings, job_id)
            _finish(session, job_id, worker_id, status=JobStatus.failed, error=error[:5000], stage="")
            session.commit()
            return

        now = utcnow()
        total = reporter.total or 1
        finished = _finish(
            session, job_id, worker_id, now, status=JobStatus.done, error="", stage="",
            progress=total, total=total,
            result_name=result_name,
            result_size=result_size,
            download_name=(result.download_name or path.name)[:255],
            content_type=(result.content_type or "application/octet-stream")[:100],
            expires_at=now + timedelta(hours=settings.export_keep_hours),
        )
        if not finished:  # someone else took the job over: their run counts, not this one
            session.rollback()
            if store.local_path(result_name) is None:  # in a bucket, this run's result would be left to nobody
                store.delete([result_name])
            logger.warning("Job %s was taken over by another worker; discarding this run's result", job_id)
            return
        session.commit()  # the handler's last batch of work (an import's rows) and the outcome, together
        _remove_job_files(settings, job_id, keep=store.local_path(result_name))
        if result.discard:
            store.delete(list(result.discard))


def _checked_result(settings: Settings, result: object) -> Path:
    """The handler's result file, which must exist inside the jobs folder."""
    if not isinstance(result, JobResult):
        raise TypeError(f"a job handler returned {type(result).__name__}, not JobResult")
    root = settings.jobs_dir.resolve()
    path = Path(result.path).resolve()
    if root not in path.parents or not path.is_file():
        raise ValueError(f"a job handler's result {path} is not a file under {root}")
    return path


# --- housekeeping -------------------------------------------------------------------------------------------

def requeue_abandoned(*, engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Running jobs whose heartbeat stopped for settings.job_timeout_seconds (their process died) go back in the
    queue, or fail after MAX_ATTEMPTS; how many were found."""
    cutoff = (now or utcnow()) - timedelta(seconds=settings.job_timeout_seconds)
    with Session(engine) as session:
        rows = session.exec(
            select(Job.id, Job.kind, Job.attempts, User.locale).join(User, User.id == Job.owner_id).where(
                Job.status == JobStatus.running, Job.heartbeat_at < cutoff)
        ).all()
        found = 0
        for job_id, kind, attempts, locale in rows:
            still_abandoned = (Job.id == job_id, Job.status == JobStatus.running, Job.heartbeat_at < cutoff)
            if attempts >= MAX_ATTEMPTS:
                message = contextvars.copy_context().run(_gave_up_message, _owner_locale(locale, settings), kind)
                values = dict(status=JobStatus.failed, error=message, finished_at=utcnow(), stage="")
            else:
                values = dict(status=JobStatus.queued, claimed_by=None, heartbeat_at=None, stage="")
            if session.execute(sa.update(Job).where(*still_abandoned).values(**values)).rowcount == 1:
                found += 1
                _remove_job_files(settings, job_id)
        session.commit()
    return found


def _owner_locale(locale: str | None, settings: Settings) -> str:
    return i18n.choose_locale(user_locale=locale, accept_language=None, available=i18n.available_locales(),
                              default=settings.default_locale)


def _gave_up_message(locale: str, kind: str) -> str:
    i18n.set_locale(locale)
    if kind == "import":
        return _("This import stopped unexpectedly several times, so Folio gave up. Part of the archive may already "
                 "be in the portfolio: importing the same file again adds only what is missing.")
    return _("This stopped unexpectedly several times, so Folio gave up. Please try again later.")


def cleanup_expired(*, engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Delete the result files of expired jobs, and forget finished jobs older than KEEP_ROWS; how many files
    were deleted."""
    now = now or utcnow()
    removed = 0
    with Session(engine) as session:
        expired = session.exec(select(Job).where(
            Job.status == JobStatus.done, Job.result_name.is_not(None), Job.expires_at <= now)).all()
        store = file_storage.job_files(settings)
        for job in expired:
            key = stored_result(settings, job)
            if key is not None:
                store.delete([key])
                removed += 1
            _remove_job_files(settings, job.id)
            job.result_name = None
            session.add(job)
        session.commit()

        finished = session.exec(select(Job).where(Job.status.in_((JobStatus.done, JobStatus.failed)))).all()
        for job in finished:
            if job.created_at < now - KEEP_ROWS:
                _remove_job_files(settings, job.id)
                session.delete(job)
            else:  # what a runner that died right after committing the outcome had no time to remove
                key = stored_result(settings, job)
                _remove_job_files(settings, job.id, keep=store.local_path(key) if key else None)
            _remove_upload(store, job)
        session.commit()
    return removed


def _remove_upload(store, job: Job) -> None:
    upload = (job.params or {}).get("upload")
    if isinstance(upload, str) and upload and "/" not in upload and "\\" not in upload and upload[0] != ".":
        store.delete([f"{INCOMING}/{upload}"])
