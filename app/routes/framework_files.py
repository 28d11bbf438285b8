"""Frameworks from files and to files, for a school's admins: import a CASE package or a Mahara .matrix (a preview,
then confirm), and export a framework as a CASE package.

The preview page carries the file (as compact JSON; framework files are at most 1 MB) in its confirm form, so nothing
is kept on the server between the two steps; confirming plans again and applies only if the plan is the one shown.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.routes.ids import PathId
from app.services.competencies import case_export, framework_sync
from app.services.competencies import frameworks as service
from app.services.competencies.framework_files import MAX_FILE_BYTES, FrameworkFileProblem
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])

# The file's text, posted back from the preview: 1 MB of UTF-8 is at most 1,048,576 characters.
FileText = Annotated[str, Form(max_length=MAX_FILE_BYTES)]


def _form(request: Request, *, errors: dict | None = None, status_code: int = 200) -> Response:
    return render(request, "frameworks/import.html", {"errors": errors or {}}, status_code=status_code)


def _preview(request: Request, plan: framework_sync.ImportPlan, text: str, *, message: str | None = None) -> Response:
    context = {"plan": plan, "file_text": text, "message": message}
    return render(request, "frameworks/import_preview.html", context, status_code=409 if message else 200)


@router.get("/admin/frameworks/import")
def import_framework_form(request: Request, user: AdminUser) -> Response:
    """The form to import a framework from a CASE package or a Mahara .matrix file."""
    return _form(request)


@router.post("/admin/frameworks/import")
def preview_framework_import(
    request: Request, user: AdminUser, session: SessionDep, framework_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Read the uploaded file and show what importing it would add, update and archive (nothing changes yet)."""
    if framework_file is None or not framework_file.filename:
        return _form(request, errors={"framework_file": _("Choose a CASE package (.json) or a Mahara .matrix file.")},
                     status_code=422)
    try:
        file, text = framework_sync.read_framework_file(framework_file.file.read(MAX_FILE_BYTES + 1))
    except FrameworkFileProblem as problem:
        return _form(request, errors={"framework_file": problem.message}, status_code=422)
    plan = framework_sync.plan_import(session=session, school_id=user.school_id, file=file)
    return _preview(request, plan, text)


@router.post("/admin/frameworks/import/confirm")
def confirm_framework_import(
    request: Request, user: AdminUser, session: SessionDep, file_text: FileText = "",
    plan_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Apply the import the admin previewed; if the framework changed since, show the new preview instead."""
    try:
        file, _text = framework_sync.read_framework_file(file_text.encode())
    except FrameworkFileProblem as problem:
        return _form(request, errors={"framework_file": problem.message}, status_code=422)
    plan = framework_sync.plan_import(session=session, school_id=user.school_id, file=file)
    if plan.digest != plan_digest:
        message = _("The framework changed since this preview was made. Check what the import will do now, "
                    "then confirm again.")
        return _preview(request, plan, file_text, message=message)
    framework = framework_sync.apply_import(session=session, school_id=user.school_id, plan=plan)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}", framework_sync.describe_result(plan))


@router.get("/admin/frameworks/{framework_id}/case.json")
def export_framework_case(framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """The framework as a CASE 1.0 JSON package (a download)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    package = case_export.case_package(session=session, framework=framework)
    body = json.dumps(package, ensure_ascii=False, indent=2)
    headers = {"Content-Disposition": f'attachment; filename="{case_export.download_name(framework)}"',
               "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(body, media_type="application/json; charset=utf-8", headers=headers)
