"""Claiming and running queued jobs: one process wins each job (a conditional UPDATE), runs its handler in the
owner's language with a heartbeat and progress reports, and records its result file or why it failed."""

from __future__ import annotations

import contextvars
import logging
import threading
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
from app.services.jobs.job_progress import Heartbeat, ProgressReporter
from app.services.jobs.jobs import HANDLERS, JobFailed, JobResult, JobTakenOver, load_handlers, remove_job_files

logger = logging.getLogger(__name__)


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


def finish(session: Session, job_id: int, worker_id: str, now: datetime | None = None, **values) -> bool:
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
        i18n.set_locale(owner_locale(owner.locale if owner is not None else None, settings))
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
            remove_job_files(settings, job_id)
            session.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == JobStatus.running, Job.claimed_by == worker_id,
            ).values(status=JobStatus.queued, claimed_by=None, heartbeat_at=None, stage="",
                     attempts=Job.attempts - 1))
            session.commit()
            raise

        if error is not None:
            session.rollback()
            remove_job_files(settings, job_id)
            finish(session, job_id, worker_id, status=JobStatus.failed, error=error[:5000], stage="")
            session.commit()
            return

        now = utcnow()
        total = reporter.total or 1
        finished = finish(
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
        remove_job_files(settings, job_id, keep=store.local_path(result_name))
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


def owner_locale(locale: str | None, settings: Settings) -> str:
    """The language a job speaks in: its owner's, else the school's default."""
    return i18n.choose_locale(user_locale=locale, accept_language=None, available=i18n.available_locales(),
                              default=settings.default_locale)
