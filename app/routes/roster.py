"""Importing the school's roster from a OneRoster export, for the school's admins: upload, preview what will be
created, updated and switched off (and each row that can't be used), confirm, then a job does it with progress.

The files wait between preview and confirm in the job file store under a name tied to the admin
(app.services.roster_import.roster_job); confirming plans again and queues the job only if the plan is unchanged.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.i18n import _
from app.security import client_address
from app.services.roster_import import roster_job
from app.services.roster_import.csv_reader import MAX_TOTAL_BYTES, RosterFileProblem, read_upload
from app.services.roster_import.plan import plan_import
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])
KINDS = ("term", "class", "person", "enrolment", "link")


def _form(request: Request, *, errors: dict | None = None, status_code: int = 200) -> Response:
    context = {"errors": errors or {}, "max_mb": MAX_TOTAL_BYTES // (1024 * 1024)}
    return render(request, "roster/import.html", context, status_code=status_code)


def _preview(request: Request, plan, upload: str | None, *, message: str | None = None) -> Response:
    context = {"plan": plan, "upload": upload, "message": message, "kinds": KINDS}
    return render(request, "roster/preview.html", context, status_code=409 if message else 200,
                  headers={"Cache-Control": "no-store"})


@router.get("/admin/roster")
def roster_import_form(request: Request, user: AdminUser) -> Response:
    """What a OneRoster import does, and the form to upload the export."""
    return _form(request)


@router.post("/admin/roster")
def preview_roster_import(
    request: Request, user: AdminUser, session: SessionDep,
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Read the uploaded ZIP or CSV files and show what importing them would do (nothing changes yet)."""
    chosen = [f for f in files or [] if f.filename]
    if not chosen:
        return _form(request, errors={"files": _("Choose the OneRoster ZIP, or its CSV files.")}, status_code=422)
    uploaded, size = [], 0
    for upload in chosen:
        data = upload.file.read(MAX_TOTAL_BYTES + 1 - size)
        size += len(data)
        uploaded.append((upload.filename, data))
    try:
        roster = read_upload(uploaded)
    except RosterFileProblem as problem:
        return _form(request, errors={"files": problem.message}, status_code=422)
    plan = plan_import(session=session, school_id=user.school_id, roster=roster)
    settings = request.app.state.settings
    name = roster_job.keep_upload(settings=settings, admin=user, files=uploaded) if plan.changes else None
    return _preview(request, plan, name)


@router.post("/admin/roster/confirm")
def confirm_roster_import(
    request: Request, user: AdminUser, session: SessionDep,
    upload: Annotated[str, Form(max_length=100)] = "", plan_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Start the import the admin previewed; if the school changed since, show the new preview instead."""
    settings = request.app.state.settings
    if not upload:
        return _form(request, errors={"files": _("Choose the OneRoster ZIP, or its CSV files.")}, status_code=422)
    roster = roster_job.read_kept(settings=settings, admin=user, name=upload)
    plan = plan_import(session=session, school_id=user.school_id, roster=roster)
    if plan.digest != plan_digest:
        message = _("The school's people or classes changed since this preview was made. Check what the import "
                    "will do now, then confirm again.")
        return _preview(request, plan, upload, message=message)
    job = roster_job.start(session=session, admin=user, name=upload, digest=plan.digest,
                           address=client_address(request))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)
