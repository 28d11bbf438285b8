"""A competency framework's proficiency scale, for the school's admins: adding, editing, moving and deleting levels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.services.competencies import frameworks as service
from app.services.competencies import scales
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.frameworks import DirectionField, TextField, edit_page
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


@router.post("/admin/frameworks/{framework_id}/levels")
def create_level(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, level_label: TextField = "",
    level_descriptor: TextField = "",
) -> Response:
    """Add a level at the top of the scale."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = scales.parse_level(session=session, framework=framework, label=level_label, descriptor=level_descriptor)
    if data.errors:
        return edit_page(request, session, framework, forms={"level_data": data}, errors=data.errors, status_code=422)
    level = scales.add_level(session=session, framework=framework, data=data)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” is added to the scale.", label=level.label))


def _level_form(request: Request, framework, level, data, *, status_code: int = 200, version: int | None = None,
                conflict=None) -> Response:
    context = {"framework": framework, "level": level, "data": data, "errors": data.errors, "conflict": conflict,
               "version": level.version if version is None else version}
    return render(request, "frameworks/level.html", context, status_code=status_code)


@router.get("/admin/frameworks/{framework_id}/levels/{level_id}")
def edit_level(request: Request, framework_id: PathId, level_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """The form to rename a level or change its descriptor."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    return _level_form(request, framework, level, scales.LevelInput(label=level.label, descriptor=level.descriptor))


@router.post("/admin/frameworks/{framework_id}/levels/{level_id}")
def update_level(
    request: Request, framework_id: PathId, level_id: PathId, user: AdminUser, session: SessionDep,
    level_label: TextField = "", level_descriptor: TextField = "", version: TextField = "",
) -> Response:
    """Save a level's edits (unless someone saved it since the form was opened)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    data = scales.parse_level(session=session, framework=framework, label=level_label, descriptor=level_descriptor, level=level)
    seen_version = parse_version(version)
    if data.errors:
        return _level_form(request, framework, level, data, status_code=422, version=seen_version)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=level, version=seen_version)
            scales.update_level(session=session, level=level, data=data)
            session.commit()
    except SaveRefused as refused:
        data.errors["form"] = refused.message
        return _level_form(request, framework, level, data, status_code=refused.status, conflict=refused.current,
                           version=refused.current.version if refused.current else seen_version)
    return redirect_with(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” is saved.", label=level.label))


@router.post("/admin/frameworks/{framework_id}/levels/{level_id}/move")
def move_level(
    request: Request, framework_id: PathId, level_id: PathId, user: AdminUser, session: SessionDep, direction: DirectionField = "up",
) -> Response:
    """Move a level one step along the scale."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    scales.move_level(session=session, level=level, direction=direction)
    session.commit()
    message = _("“%(label)s” moved earlier in the scale.", label=level.label) if direction == "up" \
        else _("“%(label)s” moved later in the scale.", label=level.label)
    return redirect_with(request, f"/admin/frameworks/{framework.id}#scale-heading", message)


@router.get("/admin/frameworks/{framework_id}/levels/{level_id}/delete")
def confirm_delete_level(request: Request, framework_id: PathId, level_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Ask before deleting a level, or explain why it can't be."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    context = {"framework": framework, "level": level, "problem": scales.level_deletion_problem(session=session, level=level)}
    return render(request, "frameworks/delete_level.html", context)


@router.post("/admin/frameworks/{framework_id}/levels/{level_id}/delete")
def delete_level(request: Request, framework_id: PathId, level_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Delete a level no rating uses; otherwise refuse (422)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    label = level.label
    problem = scales.delete_level(session=session, level=level)
    if problem:
        session.rollback()
        return render(request, "frameworks/delete_level.html", {"framework": framework, "level": level, "problem": problem},
                      status_code=422)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” was deleted.", label=label))
