"""Competency frameworks, for a school's admins: the frameworks and their competencies (nested, ordered).

The proficiency scale's routes are in app/routes/framework_scale.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.services.competencies import frameworks as service
from app.services.competencies import competency_editing, framework_editing, framework_page
from app.services.competencies import scales, translations
from app.services.competencies.bc_competencies import find_bc_framework, seed_bc_framework
from app.services.accounts.people import school_of
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

TextField = Annotated[str, Form(max_length=10_000)]
DirectionField = Annotated[str, Form(pattern="^(up|down)$")]


def _list_page(request: Request, session, user, *, data=None, status_code: int = 200) -> Response:
    data = data or framework_editing.FrameworkInput()
    context = {
        "frameworks": service.frameworks_of_school(session=session, school_id=user.school_id),
        "has_bc": find_bc_framework(session=session, school=school_of(session=session, user=user)) is not None,
        "data": data, "errors": data.errors,
    }
    return render(request, "frameworks/list.html", context, status_code=status_code)


def edit_page(request: Request, session, framework, *, forms: dict | None = None, errors: dict | None = None,
               status_code: int = 200) -> Response:
    """The framework page; `forms` holds what was typed in the one form being re-shown."""
    context = {
        "detail": framework_page.framework_detail(session=session, framework=framework),
        "parents": framework_page.parent_choices(session=session, framework=framework),
        "framework_data": framework_editing.FrameworkInput(name=framework.name, description=framework.description),
        "competency_data": competency_editing.CompetencyInput(),
        "level_data": scales.LevelInput(),
        "errors": errors or {}, "framework_version": framework.version, "framework_conflict": None, "adding": "",
        "translation_locales": translations.translation_locales(settings=request.app.state.settings),
    }
    context.update(forms or {})
    return render(request, "frameworks/edit.html", context, status_code=status_code)


# --- frameworks --------------------------------------------------------------------------------


@router.get("/admin/frameworks")
def list_frameworks(request: Request, user: AdminUser, session: SessionDep) -> Response:
    """The school's frameworks, a form for a new one, and the BC Core Competencies to start from."""
    return _list_page(request, session, user)


@router.post("/admin/frameworks")
def create_framework(
    request: Request, user: AdminUser, session: SessionDep, name: TextField = "", description: TextField = "",
    default_scale: Annotated[bool, Form()] = False,
) -> Response:
    """Create a framework, then go to its page to add competencies."""
    data = framework_editing.parse_framework(name=name, description=description, default_scale=default_scale)
    framework = None if data.errors else framework_editing.create_framework(session=session, school_id=user.school_id, data=data)
    if framework is None:
        session.rollback()
        return _list_page(request, session, user, data=data, status_code=422)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}", _("“%(name)s” is created. Now add its competencies.", name=framework.name))


@router.post("/admin/frameworks/bc")
def add_bc_framework(request: Request, user: AdminUser, session: SessionDep) -> Response:
    """Add British Columbia's Core Competencies to the school (once)."""
    school = school_of(session=session, user=user)
    existed = find_bc_framework(session=session, school=school) is not None
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    if existed:
        return redirect_with(request, f"/admin/frameworks/{framework.id}", _("Your school already has the BC Core Competencies."), "info")
    return redirect_with(request, f"/admin/frameworks/{framework.id}", _("The BC Core Competencies are added."))


@router.get("/admin/frameworks/{framework_id}")
def edit_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, add: str = "") -> Response:
    """A framework's page: its details, competencies, scale, and the classes that use it (?add=competency or
    ?add=level opens that form: the page's main action works without JavaScript)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    return edit_page(request, session, framework, forms={"adding": add if add in ("competency", "level") else ""})


@router.post("/admin/frameworks/{framework_id}")
def update_framework(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, name: TextField = "",
    description: TextField = "", version: TextField = "",
) -> Response:
    """Rename the framework or change its description (unless someone saved it since the page was opened)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = framework_editing.parse_framework(name=name, description=description)
    seen_version = parse_version(version)
    forms = {"framework_data": data, "framework_version": "" if seen_version is None else seen_version}
    try:
        with keeping_typed_text(session):
            if data.errors or not framework_editing.update_framework(session=session, framework=framework, data=data):
                session.rollback()
                return edit_page(request, session, framework, forms=forms, errors=data.errors, status_code=422)
            claim_version(session=session, row=framework, version=seen_version)
            session.commit()
    except SaveRefused as refused:
        if refused.current:
            forms.update(framework_version=refused.current.version, framework_conflict=refused.current)
        return edit_page(request, session, framework, forms=forms, errors={"form": refused.message},
                          status_code=refused.status)
    return redirect_with(request, f"/admin/frameworks/{framework.id}", _("The framework is saved."))


def _confirm_archive(request: Request, framework, *, competency=None) -> Response:
    """The page that asks before archiving the framework or one of its competencies."""
    return render(request, "frameworks/archive.html", {"framework": framework, "competency": competency})


@router.get("/admin/frameworks/{framework_id}/archive")
def confirm_archive_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Ask before hiding the framework from students."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    return _confirm_archive(request, framework)


@router.post("/admin/frameworks/{framework_id}/archive")
def archive_framework(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, archived: Annotated[bool, Form()] = True,
) -> Response:
    """Hide the framework from students (or bring it back)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    framework_editing.set_framework_archived(session=session, framework=framework, archived=archived)
    session.commit()
    message = _("“%(name)s” is archived; students no longer see it.", name=framework.name) if archived \
        else _("“%(name)s” is back in use.", name=framework.name)
    return redirect_with(request, f"/admin/frameworks/{framework.id}", message)


@router.get("/admin/frameworks/{framework_id}/delete")
def confirm_delete_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Ask before deleting a framework (or explain why it can't be)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    context = {"framework": framework, "problem": framework_editing.framework_deletion_problem(session=session, framework=framework)}
    return render(request, "frameworks/delete_framework.html", context)


@router.post("/admin/frameworks/{framework_id}/delete")
def delete_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Delete a framework nobody has used; otherwise refuse and suggest archiving it."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    name = framework.name
    problem = framework_editing.delete_framework(session=session, framework=framework)
    if problem:
        session.rollback()
        return render(request, "frameworks/delete_framework.html", {"framework": framework, "problem": problem}, status_code=422)
    session.commit()
    return redirect_with(request, "/admin/frameworks", _("“%(name)s” was deleted.", name=name))


@router.post("/admin/frameworks/{framework_id}/classes")
def update_framework_classes(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep,
    class_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Choose which of the school's classes use this framework."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    framework_editing.set_framework_classes(session=session, framework=framework, class_ids={int(v) for v in class_ids if v.isdigit()})
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}#classes-heading", _("The classes are saved."))


# --- competencies ------------------------------------------------------------------------------


@router.post("/admin/frameworks/{framework_id}/competencies")
def create_competency(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, competency_code: TextField = "",
    competency_name: TextField = "", competency_description: TextField = "", parent_id: TextField = "",
) -> Response:
    """Add a competency (optionally inside another)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = competency_editing.parse_competency(session=session, framework=framework, code=competency_code, name=competency_name,
                                    description=competency_description, parent_id=parent_id)
    if data.errors:
        return edit_page(request, session, framework, forms={"competency_data": data}, errors=data.errors, status_code=422)
    competency = competency_editing.add_competency(session=session, framework=framework, data=data)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}",
                     _("%(code)s %(name)s is added.", code=competency.code, name=competency.name))


def _competency_form(request: Request, session, framework, competency, data, *, status_code: int = 200,
                     version: int | None = None, conflict=None) -> Response:
    context = {"framework": framework, "competency": competency, "data": data, "errors": data.errors,
               "parents": framework_page.parent_choices(session=session, framework=framework, exclude=competency),
               "version": competency.version if version is None else version, "conflict": conflict}
    return render(request, "frameworks/competency.html", context, status_code=status_code)


@router.get("/admin/frameworks/{framework_id}/competencies/{competency_id}")
def edit_competency(request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """The form to rename, recode, redescribe or move a competency under another parent."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    data = competency_editing.CompetencyInput(code=competency.code, name=competency.name, description=competency.description,
                                   parent_id=competency.parent_id)
    return _competency_form(request, session, framework, competency, data)


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}")
def update_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep,
    competency_code: TextField = "", competency_name: TextField = "", competency_description: TextField = "",
    parent_id: TextField = "", version: TextField = "",
) -> Response:
    """Save a competency's edits (unless someone saved it since the form was opened)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    data = competency_editing.parse_competency(session=session, framework=framework, code=competency_code, name=competency_name,
                                    description=competency_description, parent_id=parent_id, competency=competency)
    seen_version = parse_version(version)
    if data.errors:
        return _competency_form(request, session, framework, competency, data, status_code=422, version=seen_version)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=competency, version=seen_version)
            competency_editing.update_competency(session=session, competency=competency, data=data)
            session.commit()
    except SaveRefused as refused:
        data.errors["form"] = refused.message
        return _competency_form(request, session, framework, competency, data, status_code=refused.status,
                                version=refused.current.version if refused.current else seen_version,
                                conflict=refused.current)
    return redirect_with(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}",
                     _("%(code)s is saved.", code=competency.code))


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/move")
def move_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep,
    direction: DirectionField = "up",
) -> Response:
    """Move a competency up or down among its siblings."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    competency_editing.move_competency(session=session, competency=competency, direction=direction)
    session.commit()
    message = _("%(code)s moved up.", code=competency.code) if direction == "up" else _("%(code)s moved down.", code=competency.code)
    return redirect_with(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}", message)


@router.get("/admin/frameworks/{framework_id}/competencies/{competency_id}/archive")
def confirm_archive_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep
) -> Response:
    """Ask before hiding a competency from pickers."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    return _confirm_archive(request, framework, competency=competency)


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/archive")
def archive_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep,
    archived: Annotated[bool, Form()] = True,
) -> Response:
    """Hide a competency from pickers (or bring it back); its history stays."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    competency_editing.set_competency_archived(session=session, competency=competency, archived=archived)
    session.commit()
    message = _("%(code)s is archived: students no longer see it in pickers, and its history stays.", code=competency.code) \
        if archived else _("%(code)s is back in use.", code=competency.code)
    return redirect_with(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}", message)


@router.get("/admin/frameworks/{framework_id}/competencies/{competency_id}/delete")
def confirm_delete_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep
) -> Response:
    """Ask before deleting a competency, or explain why it can't be (and offer to archive it)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    check = competency_editing.check_competency_deletion(session=session, competency=competency)
    return render(request, "frameworks/delete_competency.html", {"framework": framework, "check": check})


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/delete")
def delete_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep
) -> Response:
    """Delete a competency nobody has used; otherwise refuse (422) and suggest archiving it."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    code = competency.code
    check = competency_editing.check_competency_deletion(session=session, competency=competency)
    if check.problem or competency_editing.delete_competency(session=session, competency=competency):
        session.rollback()
        return render(request, "frameworks/delete_competency.html", {"framework": framework, "check": check}, status_code=422)
    session.commit()
    return redirect_with(request, f"/admin/frameworks/{framework.id}", _("%(code)s was deleted.", code=code))
