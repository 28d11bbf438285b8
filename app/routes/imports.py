"""Importing a portfolio: a Folio archive from another school, or a Mahara export (ZIP or Leap2A .xml).

The upload is streamed and checked by app.services.exports.archive_upload, then handed to an "import" job
(app.services.exports.archive_import) whose page shows progress.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep, read_in_thread
from app.i18n import _
from app.models import Role, User
from app.security import client_address
from app.services.exports import archive_upload, import_keys
from app.services.jobs import job_pages
from app.services.portfolio import uploads
from app.access import not_found
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


def _import_target(session, user: User, user_id: int) -> User:
    """A student of the admin's own school, or 404 (for anyone else asking, too)."""
    if user.role is not Role.admin:
        raise not_found()
    target = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if target is None or target.school_id != user.school_id or target.role is not Role.student:
        raise not_found()
    return target


def _form(request: Request, *, target: User, for_admin: bool, errors: dict | None = None, status_code: int = 200,
          imported_on=None) -> Response:
    settings = request.app.state.settings
    action = f"/people/{target.id}/import" if for_admin else "/import"
    context = {"target": target, "for_admin": for_admin, "action": action, "errors": errors or {},
               "max_mb": settings.import_max_mb, "imported_on": imported_on}
    return render(request, "imports/new.html", context, status_code=status_code)


async def _receive(request: Request, session, *, owner: User, target: User, for_admin: bool) -> Response:
    settings = request.app.state.settings
    try:
        upload = await archive_upload.receive_archive(request, settings=settings)
    except uploads.MalformedUpload:
        raise HTTPException(status_code=400) from None
    if upload.too_large:
        message = _("That file is larger than Folio imports (%(limit)s MB).", limit=settings.import_max_mb)
        return await run_in_threadpool(_form, request, target=target, for_admin=for_admin,
                                       errors={"archive": message}, status_code=413)
    if upload.stored_name is None:
        return await run_in_threadpool(_form, request, target=target, for_admin=for_admin,
                                       errors={"archive": upload.error}, status_code=422)

    def enqueue() -> Response:
        scope = import_keys.scope_for(fingerprint=upload.fingerprint, again=bool(upload.again))
        if not upload.again:  # the same file again: say so, and import copies only if asked to
            under_way = import_keys.import_under_way(session=session, student=target, scope=scope)
            if under_way is not None and under_way.owner_id == owner.id:
                archive_upload.discard_archive(settings=settings, stored_name=upload.stored_name)
                return RedirectResponse(f"/jobs/{under_way.id}", status_code=303)
            earlier = import_keys.imported_on(session=session, student=target, scope=scope)
            if under_way is not None or earlier is not None:
                archive_upload.discard_archive(settings=settings, stored_name=upload.stored_name)
                message = (_("This archive is being imported into this portfolio already.") if earlier is None else
                           _("This archive was already imported into this portfolio; nothing was added this time. "
                             "Choose what to do with it and send it again."))
                return _form(request, target=target, for_admin=for_admin, errors={"archive": message},
                             status_code=409, imported_on=earlier)
        job = job_pages.request_job(session=session, owner=owner, kind="import", params={
            "student_id": target.id, "upload": upload.stored_name, "original_name": upload.original_name[:255],
            "scope": scope, "again": upload.again}, subject=target, object_description=upload.original_name, address=client_address(request))
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    try:
        return await run_in_threadpool(enqueue)
    except BaseException:
        archive_upload.discard_archive(settings=settings, stored_name=upload.stored_name)
        raise


@router.get("/import")
def import_form(request: Request, user: StudentUser) -> Response:
    """What importing does, and the form to upload a Folio archive or a Mahara export."""
    return _form(request, target=user, for_admin=False)


@router.post("/import")
async def import_upload(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Receive the archive as a stream and start the import job."""
    return await _receive(request, session, owner=user, target=user, for_admin=False)


@router.get("/people/{user_id}/import")
def admin_import_form(request: Request, user_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """An admin importing an archive into a student of their school."""
    target = _import_target(session, user, user_id)
    return _form(request, target=target, for_admin=True)


@router.post("/people/{user_id}/import")
async def admin_import_upload(request: Request, user_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Receive the archive for a student of the admin's school and start the import job."""
    target = await read_in_thread(session, _import_target, session, user, user_id)
    return await _receive(request, session, owner=user, target=target, for_admin=True)
