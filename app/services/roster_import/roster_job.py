"""A roster import as a background job: the previewed files wait in the job file store (as one ZIP named after the
admin who uploaded them), the job plans again, applies only if the plan is still the one the admin confirmed, and
leaves the new accounts' setup links as a CSV to download."""

from __future__ import annotations

import io
import re
import secrets
import zipfile

from sqlmodel import Session

from app import storage as file_storage
from app.access import not_found
from app.config import Settings
from app.i18n import _
from app.models import AuditEventKind, Job, Role, User
from app.services.accounts import audit
from app.services.exports.archive_upload import INCOMING
from app.services.jobs import jobs
from app.services.roster_import import apply as roster_apply
from app.services.roster_import.csv_reader import RosterSet, read_upload
from app.services.roster_import.plan import plan_import

KIND = "roster_import"


def _pattern(admin: User) -> re.Pattern:
    return re.compile(rf"^roster-{admin.id}-[0-9a-f]{{32}}\.zip$")


def keep_upload(*, settings: Settings, admin: User, files: list[tuple[str, bytes]]) -> str:
    """Keep the uploaded files (re-packed as one ZIP) until the admin confirms; the name to confirm with."""
    name = f"roster-{admin.id}-{secrets.token_hex(16)}.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, (file_name, data) in enumerate(files):
            archive.writestr(f"{index}/{file_name.replace('/', '_') or 'file'}", data)
    folder = settings.jobs_dir / INCOMING
    folder.mkdir(parents=True, exist_ok=True)
    temp = folder / f".{name}.part"
    temp.write_bytes(buffer.getvalue())
    try:
        file_storage.job_files(settings).put_file(f"{INCOMING}/{name}", temp)
    finally:
        temp.unlink(missing_ok=True)
    return name


def read_kept(*, settings: Settings, admin: User, name: str) -> RosterSet:
    """The roster the admin uploaded under `name`; 404 for anyone else's, or one that is gone."""
    if not _pattern(admin).match(name or ""):
        raise not_found()
    store = file_storage.job_files(settings)
    key = f"{INCOMING}/{name}"
    if not store.exists(key):
        raise not_found()
    with zipfile.ZipFile(io.BytesIO(store.read_bytes(key))) as archive:
        files = [(info.filename.split("/", 1)[-1], archive.read(info)) for info in archive.infolist()]
    return read_upload(files)


def discard_kept(*, settings: Settings, admin: User, name: str) -> None:
    if _pattern(admin).match(name or ""):
        file_storage.job_files(settings).delete([f"{INCOMING}/{name}"])


def start(*, session: Session, admin: User, name: str, digest: str, address: str | None) -> Job:
    """Queue the import of the kept upload (recorded in the audit log)."""
    audit.record(session=session, event=AuditEventKind.import_requested, actor=admin, address=address,
                 object_description=_("OneRoster import"), details={"kind": KIND})
    return jobs.enqueue(session=session, owner=admin, kind=KIND, params={"upload": name, "digest": digest})


@jobs.handler(KIND)
def run_roster_import(*, session: Session, settings: Settings, job: Job, progress: jobs.Progress) -> jobs.JobResult:
    """Plan the kept files again and apply them if nothing changed since the preview; the setup links as CSV."""
    admin = session.get(User, job.owner_id)
    params = job.params or {}
    if admin is None or admin.role is not Role.admin or not admin.is_active:
        raise jobs.JobFailed(_("Only an active administrator can import a roster."))
    try:
        roster = read_kept(settings=settings, admin=admin, name=str(params.get("upload", "")))
    except Exception:  # gone or not theirs: the same to the admin
        raise jobs.JobFailed(_("The uploaded files are no longer kept. Upload them again to see a new preview.")) from None
    progress(0, 1, _("Checking the files"))
    plan = plan_import(session=session, school_id=admin.school_id, roster=roster)
    if plan.digest != params.get("digest"):
        raise jobs.JobFailed(_("The school's people or classes changed since the preview, so nothing was imported. "
                               "Upload the files again to see what the import would do now."))
    made = roster_apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan, progress=progress)
    path = jobs.result_path(settings, job, ".csv")
    path.write_text(roster_apply.accounts_csv(made), encoding="utf-8")
    return jobs.JobResult(path=path, download_name=_("New accounts and setup links.csv"),
                          content_type="text/csv; charset=utf-8", discard=(f"{INCOMING}/{params['upload']}",))
