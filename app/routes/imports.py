"""Importing a portfolio: a Folio archive from another school, or a Mahara export (ZIP or Leap2A .xml).

The upload is streamed to settings.jobs_dir / "incoming" (never held in memory), checked to be a ZIP or XML
file by its first bytes, and handed to an "import" job (app.services.archive_import) whose page shows progress.
"""

from __future__ import annotations

import secrets
from contextlib import aclosing
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep
from app.i18n import _
from app.models import Role, User
from app.services import jobs, uploads
from app.services.access import not_found
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])

INCOMING = "incoming"


class _ArchiveReceiver(uploads._Receiver):
    """The upload receiver, keeping one ZIP or XML file (by content) under the jobs folder's incoming/."""

    def __init__(self, *, incoming: Path, max_bytes: int) -> None:
        super().__init__(upload_dir=incoming, owner_id=0, max_file_bytes=max_bytes, quota_remaining=max_bytes,
                         max_files=1, max_field_bytes=100_000)
        self.incoming = incoming
        self.kept: tuple[str, str] | None = None  # (stored name, original name)

    async def _on_file_data(self, part, data: bytes) -> None:
        part.size += len(data)
        if part.refusal:
            return
        if part.size > self.max_file_bytes:
            self._refuse(part, "size")
            return
        if len(part.head) < 1024:
            part.head.extend(data[: 1024 - len(part.head)])
        if part.handle is None:
            self.incoming.mkdir(parents=True, exist_ok=True)
            part.temp = self.incoming / f".{secrets.token_hex(16)}.part"
            part.handle = open(part.temp, "xb")
        part.buffer.extend(data)
        if len(part.buffer) >= uploads.WRITE_BUFFER_BYTES:
            await uploads._flush(part)

    async def _finish_file(self, part) -> None:
        if part.refusal:
            message = (_("“%(name)s” is %(size)s; the largest archive Folio imports is %(limit)s.", name=part.filename,
                         size=uploads.human_size(part.size), limit=uploads.human_size(self.max_file_bytes))
                       if part.refusal == "size" else _("Send one file at a time."))
            self._record_error(part, message)
            return
        if part.size == 0 or part.handle is None or part.temp is None:
            self._record_error(part, _("“%(name)s” is empty.", name=part.filename))
            return
        await uploads._flush(part)
        part.handle.close()
        part.handle = None
        head = bytes(part.head)
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            suffix = ".zip"
        elif head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
            suffix = ".xml"
        else:
            self._drop_temp(part)
            self._record_error(part, _("“%(name)s” isn't a ZIP archive or a Leap2A .xml file, so Folio can't import it.",
                                       name=part.filename))
            return
        name = f"{secrets.token_hex(16)}{suffix}"
        part.temp.rename(self.incoming / name)
        part.temp = None
        self.kept = (name, part.filename)

    def remove_everything(self) -> None:
        if isinstance(self.part, uploads._FilePart):
            self._drop_temp(self.part)
        if self.kept is not None:
            (self.incoming / self.kept[0]).unlink(missing_ok=True)
            self.kept = None


def _import_target(session, user: User, user_id: int) -> User:
    """A student of the admin's own school, or 404 (for anyone else asking, too)."""
    if user.role is not Role.admin:
        raise not_found()
    target = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if target is None or target.school_id != user.school_id or target.role is not Role.student:
        raise not_found()
    return target


def _form(request: Request, *, target: User, for_admin: bool, errors: dict | None = None, status_code: int = 200) -> Response:
    settings = request.app.state.settings
    action = f"/people/{target.id}/import" if for_admin else "/import"
    context = {"target": target, "for_admin": for_admin, "action": action, "errors": errors or {},
               "max_mb": settings.import_max_mb}
    return render(request, "imports/new.html", context, status_code=status_code)


async def _receive(request: Request, session, *, owner: User, target: User, for_admin: bool) -> Response:
    settings = request.app.state.settings
    incoming = settings.jobs_dir / INCOMING
    max_bytes = settings.import_max_mb * 1024 * 1024
    body_limit = max_bytes + uploads.FORM_OVERHEAD_BYTES
    too_large = _("That file is larger than Folio imports (%(limit)s MB).", limit=settings.import_max_mb)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        return await run_in_threadpool(_form, request, target=target, for_admin=for_admin,
                                       errors={"archive": too_large}, status_code=413)
    receiver = _ArchiveReceiver(incoming=incoming, max_bytes=max_bytes)
    try:
        async with aclosing(request.stream()) as stream:
            await receiver.run(stream, boundary=uploads._boundary(request), body_limit=body_limit)
    except uploads.UploadTooLarge:
        receiver.remove_everything()
        return await run_in_threadpool(_form, request, target=target, for_admin=for_admin,
                                       errors={"archive": too_large}, status_code=413)
    except uploads.MalformedUpload:
        receiver.remove_everything()
        raise HTTPException(status_code=400) from None
    except BaseException:
        receiver.remove_everything()
        raise
    if receiver.kept is None:
        message = receiver.form.errors[0].message if receiver.form.errors else _("Choose the file to import.")
        return await run_in_threadpool(_form, request, target=target, for_admin=for_admin,
                                       errors={"archive": message}, status_code=422)
    stored, original = receiver.kept

    def enqueue() -> int:
        job = jobs.enqueue(session=session, owner=owner, kind="import",
                           params={"student_id": target.id, "upload": stored, "original_name": original[:255]})
        return job.id

    try:
        job_id = await run_in_threadpool(enqueue)
    except BaseException:
        receiver.remove_everything()
        raise
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.get("/import")
def import_form(request: Request, user: StudentUser) -> Response:
    """What importing does, and the form to upload a Folio archive or a Mahara export."""
    return _form(request, target=user, for_admin=False)


@router.post("/import")
async def import_upload(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Receive the archive as a stream and start the import job."""
    return await _receive(request, session, owner=user, target=user, for_admin=False)


@router.get("/people/{user_id}/import")
def admin_import_form(request: Request, user_id: int, user: CurrentUser, session: SessionDep) -> Response:
    """An admin importing an archive into a student of their school."""
    target = _import_target(session, user, user_id)
    return _form(request, target=target, for_admin=True)


@router.post("/people/{user_id}/import")
async def admin_import_upload(request: Request, user_id: int, user: CurrentUser, session: SessionDep) -> Response:
    """Receive the archive for a student of the admin's school and start the import job."""
    target = await run_in_threadpool(_import_target, session, user, user_id)
    return await _receive(request, session, owner=user, target=target, for_admin=True)
