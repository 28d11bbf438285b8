"""What an owner sees of their jobs: asking for one (recorded in the audit log), finding one (404 for anyone else),
their recent ones, trying again, and the words for what a job makes and where it stands. Queueing and running is
app.services.jobs.jobs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from app.i18n import _
from app.models import AuditEventKind, Job, JobStatus, Role, User
from app.models.base import utcnow
from app.services.accounts import audit
from app.access import not_found
from app.services.jobs.jobs import enqueue
from app.access import valid_id


def request_job(
    *, session: Session, owner: User, kind: str, params: dict, subject: User | None, object_description: str = "",
    address: str | None,
) -> Job:
    """Queue an export or import for `owner`, recorded in the audit log in the same commit as the job.

    `subject`: whose portfolio goes out or comes in (None for a whole class's PDFs)."""
    event = AuditEventKind.import_requested if kind in ("import", "roster_import") else AuditEventKind.export_requested
    # The stored upload's name is of no use to a reader of the log.
    details = {"kind": kind, **{key: value for key, value in params.items() if key != "upload"}}
    audit.record(session=session, event=event, actor=owner, subject=subject, object_description=object_description,
                 address=address, details=details)
    return enqueue(session=session, owner=owner, kind=kind, params=params)


def job_for_owner(*, session: Session, user: User, job_id: int) -> Job:
    """One of `user`'s own jobs, or 404."""
    job = session.get(Job, job_id) if valid_id(job_id) else None
    if job is None or job.owner_id != user.id:
        raise not_found()
    return job


def recent_jobs(*, session: Session, user: User, limit: int = 10) -> list[Job]:
    """`user`'s latest jobs, newest first."""
    return list(session.exec(
        select(Job).where(Job.owner_id == user.id).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    ).all())


def retry(*, session: Session, user: User, job: Job, address: str | None) -> Job:
    """A new job doing the same as a failed one."""
    params = dict(job.params or {})
    student_id = params.get("student_id")
    subject = session.get(User, student_id) if isinstance(student_id, int) else None
    if subject is None and job.kind == "portfolio_pdf" and user.role is Role.student:
        subject = user
    return request_job(session=session, owner=user, kind=job.kind, params=params, subject=subject,
                       object_description=params.get("original_name", ""), address=address)


def is_downloadable(job: Job, *, now: datetime | None = None) -> bool:
    """True when the job finished, its file is still kept, and it hasn't expired."""
    now = now or utcnow()
    return (job.status is JobStatus.done and bool(job.result_name)
            and (job.expires_at is None or job.expires_at > now))


def job_title(job: Job) -> str:
    """What the job makes, in the current language ("Portfolio PDF", "Portable archive"...)."""
    params = job.params or {}
    if job.kind == "portfolio_pdf":
        return _("Showcase PDF") if params.get("showcase_id") else _("Portfolio PDF")
    titles = {
        "class_pdfs": _("Class PDFs"),
        "archive": _("Portable archive"),
        "leaver_archive": _("Portfolio archive to hand over"),
        "import": _("Portfolio import"),
        "roster_import": _("Roster import"),
    }
    return titles.get(job.kind, _("Background task"))


def status_label(job: Job) -> str:
    """The job's status in words."""
    labels = {
        JobStatus.queued: _("Waiting to start"),
        JobStatus.running: _("In progress"),
        JobStatus.done: _("Ready"),
        JobStatus.failed: _("Failed"),
    }
    return labels[job.status]
