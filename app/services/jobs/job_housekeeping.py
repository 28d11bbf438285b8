"""Housekeeping: jobs whose process died go back in the queue (or fail after MAX_ATTEMPTS), expired results and
old rows are removed."""

from __future__ import annotations

import contextvars
from datetime import datetime, timedelta

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
from app.services.jobs.jobs import KEEP_ROWS, MAX_ATTEMPTS, remove_job_files, stored_result
from app.services.jobs.job_runs import owner_locale



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
                message = contextvars.copy_context().run(_gave_up_message, owner_locale(locale, settings), kind)
                values = dict(status=JobStatus.failed, error=message, finished_at=utcnow(), stage="")
            else:
                values = dict(status=JobStatus.queued, claimed_by=None, heartbeat_at=None, stage="")
            if session.execute(sa.update(Job).where(*still_abandoned).values(**values)).rowcount == 1:
                found += 1
                remove_job_files(settings, job_id)
        session.commit()
    return found


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
            remove_job_files(settings, job.id)
            job.result_name = None
            session.add(job)
        session.commit()

        finished = session.exec(select(Job).where(Job.status.in_((JobStatus.done, JobStatus.failed)))).all()
        for job in finished:
            if job.created_at < now - KEEP_ROWS:
                remove_job_files(settings, job.id)
                session.delete(job)
            else:  # what a runner that died right after committing the outcome had no time to remove
                key = stored_result(settings, job)
                remove_job_files(settings, job.id, keep=store.local_path(key) if key else None)
            _remove_upload(store, job)
        session.commit()
    return removed


def _remove_upload(store, job: Job) -> None:
    upload = (job.params or {}).get("upload")
    if isinstance(upload, str) and upload and "/" not in upload and "\\" not in upload and upload[0] != ".":
        store.delete([f"{INCOMING}/{upload}"])
