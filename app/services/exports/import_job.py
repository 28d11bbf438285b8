"""The "import" job: import an uploaded archive (app.services.exports.archive_upload) into a student with
app.services.exports.archive_import, write what was imported as its result, and log why when it fails."""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path, PurePosixPath

from sqlmodel import Session

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import User
from app.services.exports.archive_checks import ImportRefused
from app.services.exports.archive_import import Progress, import_archive
from app.services.exports.archive_upload import INCOMING
from app.services.exports.import_keys import Ledger, fingerprint, imported_on
from app.services.exports.safe_zip import is_zip

logger = logging.getLogger(__name__)


def _register() -> None:
    from app.models import Job, Role
    from app.services.jobs import jobs

    @jobs.handler("import")
    def run_import(*, session: Session, settings: Settings, job: Job, progress: Progress) -> jobs.JobResult:
        """The "import" job: import the uploaded archive into the student, then delete the upload."""
        params = job.params or {}
        upload = params.get("upload")
        store = file_storage.job_files(settings)
        upload_key = f"{INCOMING}/{upload}" if _safe_upload_name(upload) else None
        try:
            owner = session.get(User, job.owner_id)
            student = session.get(User, params.get("student_id")) if isinstance(params.get("student_id"), int) else None
            allowed = (student is not None and owner is not None and student.role is Role.student and (
                owner.id == student.id or (owner.role is Role.admin and owner.school_id == student.school_id)))
            if not allowed:
                raise jobs.JobFailed(_("This portfolio can't be imported here."))
            if upload_key is None or not store.exists(upload_key):
                raise jobs.JobFailed(_("The uploaded file is no longer there; please upload it again."))
            with store.local_copy(upload_key) as upload_path:  # downloaded when it is in a bucket
                scope = params.get("scope") if isinstance(params.get("scope"), str) else fingerprint(upload_path)
                if imported_on(session=session, student=student, scope=scope) is not None:  # a second job, one upload
                    raise jobs.JobFailed(_("This archive was already imported into this portfolio; nothing was added "
                                           "this time."))
                # Each batch is committed only while this runner still holds the job (see jobs.commit_batch).
                ledger = Ledger(session=session, settings=settings, student=student, scope=scope,
                                commit=lambda: jobs.commit_batch(session=session, job=job),
                                skip_earlier=params.get("again") != "copies")
                if params.get("again") == "skip" and _is_folio_archive(upload_path):
                    raise jobs.JobFailed(_("Skipping what is already here works for Mahara exports. To import this "
                                           "Folio archive again, choose to add a second copy of everything."))
                try:
                    summary = import_archive(session=session, settings=settings, student=student,
                                             archive_path=upload_path, progress=progress,
                                             work_dir=jobs.scratch_dir(settings, job), ledger=ledger)
                except ImportRefused as refused:
                    raise jobs.JobFailed(refused.message) from None
        except Exception as failure:  # failed for good; a runner that stops or dies keeps the upload for the next run
            # The reason is the person's to read on the job page, and the server's to keep.
            logger.warning("Import job %s into student %s failed: %s", job.id, params.get("student_id"),
                           failure if isinstance(failure, jobs.JobFailed) else repr(failure))
            if upload_key is not None:
                store.delete([upload_key])
            raise
        result = jobs.result_path(settings, job, ".txt")
        result.write_text(summary.as_text(), encoding="utf-8")
        # The upload goes once the last batch and "done" are committed together.
        return jobs.JobResult(path=result, download_name=_("What was imported.txt"),
                              content_type="text/plain; charset=utf-8", discard=(upload_key,))


def _is_folio_archive(path: Path) -> bool:
    """Whether an upload is a ZIP holding a portfolio.json (read from its directory, nothing extracted)."""
    if not is_zip(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any(PurePosixPath(name).name == "portfolio.json" for name in archive.namelist()[:100_000])
    except (zipfile.BadZipFile, OSError):
        return False


def _safe_upload_name(name: object) -> bool:
    return isinstance(name, str) and bool(name) and name == PurePosixPath(name).name and not name.startswith(".") \
        and "\\" not in name


_register()
