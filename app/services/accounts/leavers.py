"""Students who leave: the admin hands over their portfolio archive, then, once the school's retention period
(FOLIO_RETENTION_DAYS, counted from when the account was switched off) has passed, deletes the account.

Deleting removes the rows (every table's foreign key to users cascades or is cleared) and the stored files; the audit
log keeps that it happened, by whom and when, not what the portfolio held."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.models import Artefact, AuditEventKind, Job, Role, User
from app.models.base import utcnow
from app.services.accounts import audit
from app.services.jobs import jobs
from app.services.jobs.jobs import JobFailed, JobResult, Progress

HANDOVER_KIND = "leaver_archive"


def start_handover(*, session: Session, actor: User, student: User, address: str | None) -> Job:
    """Queue the student's portable archive for the admin to download (the export job, run for the admin)."""
    from app.services.jobs import job_pages

    return job_pages.request_job(session=session, owner=actor, kind=HANDOVER_KIND, params={"student_id": student.id},
                                 subject=student, object_description=student.display_name, address=address)


def handovers(*, session: Session, student: User, limit: int = 5) -> list[Job]:
    """The latest archives made of this student for handing over, newest first."""
    if student.role is not Role.student:
        return []
    return list(session.exec(
        select(Job).where(Job.kind == HANDOVER_KIND, Job.params["student_id"].as_integer() == student.id)
        .order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    ).all())


@jobs.handler(HANDOVER_KIND)
def run_handover(*, session: Session, settings: Settings, job: Job, progress: Progress) -> JobResult:
    """The "leaver_archive" job: a student's archive, made for an admin of their school."""
    from app.services.exports.archive_export import archive_download_name, build_archive

    admin = session.get(User, job.owner_id)
    student_id = (job.params or {}).get("student_id")
    student = session.get(User, student_id) if isinstance(student_id, int) else None
    if (admin is None or admin.role is not Role.admin or student is None or student.role is not Role.student
            or student.school_id != admin.school_id):
        raise JobFailed(_("Only an admin of the student's school can make this archive."))
    out_path = jobs.result_path(settings, job, ".zip")
    build_archive(session=session, settings=settings, student=student, out_path=out_path, progress=progress)
    return JobResult(path=out_path, download_name=archive_download_name(student), content_type="application/zip")


def deletable_on(*, student: User, settings: Settings) -> datetime | None:
    """When the account may be deleted: the retention period after it was switched off (None while it is on)."""
    if student.role is not Role.student or student.is_active or student.deactivated_at is None:
        return None
    return student.deactivated_at + timedelta(days=settings.retention_days)


def deletion_problem(*, student: User, settings: Settings, now: datetime | None = None) -> str | None:
    """Why the account can't be deleted yet, in words; None when it can."""
    if student.role is not Role.student:
        return _("Only a student's account can be deleted here; switch other accounts off instead.")
    when = deletable_on(student=student, settings=settings)
    if when is None:
        return _("Switch the account off first; it can be deleted once the school's retention period has passed.")
    if (now or utcnow()) < when:
        return _("The school keeps a leaver's portfolio for %(days)s days after the account is switched off: it can "
                 "be deleted from %(date)s.", days=settings.retention_days, date=when.date().isoformat())
    return None


@dataclass
class StoredFiles:
    """The files a deleted account leaves on disk, collected before its rows go."""

    upload_names: list[str] = field(default_factory=list)  # keys in the upload store
    job_results: list[str] = field(default_factory=list)  # keys in the job file store


def delete_student(*, session: Session, actor: User, student: User, settings: Settings, address: str | None
                   ) -> StoredFiles:
    """Delete the student's rows (the database cascades) and return their files, to remove after the commit."""
    files = StoredFiles()
    columns = (Artefact.stored_name, Artefact.thumb_small, Artefact.thumb_large, Artefact.thumb_print)
    for row in session.exec(select(*columns).where(Artefact.owner_id == student.id)).all():
        files.upload_names.extend(name for name in row if name)
    for job in session.exec(select(Job).where(Job.owner_id == student.id)).all():
        if (key := jobs.stored_result(settings, job)) is not None:
            files.job_results.append(key)
    counts = {"artefacts": session.exec(select(sa.func.count()).where(Artefact.owner_id == student.id)).one(),
              "files": len(files.upload_names)}
    # That it happened, by whom, to which account (its name then): nothing of what the portfolio held.
    audit.record(session=session, event=AuditEventKind.account_deleted, actor=actor, school_id=student.school_id,
                 object_description=student.display_name, address=address,
                 details={"user_id": student.id, "username": student.username, "role": student.role.value,
                          "deactivated_at": student.deactivated_at.isoformat() if student.deactivated_at else None,
                          **counts})
    session.flush()
    session.expunge(student)
    session.exec(sa.delete(User).where(User.id == student.id))
    return files


def remove_stored_files(*, settings: Settings, files: StoredFiles) -> None:
    """Remove a deleted account's files (after the commit: a rollback must never leave rows without their files)."""
    from app import storage as file_storage
    from app.services.portfolio.stored_files import discard_names

    discard_names(store=file_storage.uploads(settings), names=files.upload_names)
    file_storage.job_files(settings).delete(files.job_results)
