"""Competency frameworks, for a school's admins: competencies (nested, ordered) and the proficiency scale."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.access.errors import NotFound
from app.i18n import _, language_name
from app.services.competencies import frameworks as service
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


def _redirect(request: Request, url: str, message: str, category: str = "success") -> Response:
    response = RedirectResponse(url, status_code=303)
    flash(request, response, message, category)
    return response


def _list_page(request: Request, session, user, *, data=None, status_code: int = 200) -> Response:
    data = data or service.FrameworkInput()
    context = {
        "frameworks": service.frameworks_of_school(session=session, school_id=user.school_id),
        "has_bc": find_bc_framework(session=session, school=school_of(session=session, user=user)) is not None,
        "data": data, "errors": data.errors,
    }
    return render(request, "frameworks/list.html", context, status_code=status_code)


def _edit_page(request: Request, session, framework, *, forms: dict | None = None, errors: dict | None = None,
               status_code: int = 200) -> Response:
    """The framework page; `forms` holds what was typed in the one form being re-shown."""
    context = {
        "detail": service.framework_detail(session=session, framework=framework),
        "parents": service.parent_choices(session=session, framework=framework),
        "framework_data": service.FrameworkInput(name=framework.name, description=framework.description),
        "competency_data": service.CompetencyInput(),
        "level_data": scales.LevelInput(),
        "errors": errors or {}, "framework_version": framework.version, "framework_conflict": None,
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
    data = service.parse_framework(name=name, description=description, default_scale=default_scale)
    framework = None if data.errors else service.create_framework(session=session, school_id=user.school_id, data=data)
    if framework is None:
        session.rollback()
        return _list_page(request, session, user, data=data, status_code=422)
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}", _("“%(name)s” is created. Now add its competencies.", name=framework.name))


@router.post("/admin/frameworks/bc")
def add_bc_framework(request: Request, user: AdminUser, session: SessionDep) -> Response:
    """Add British Columbia's Core Competencies to the school (once)."""
    school = school_of(session=session, user=user)
    existed = find_bc_framework(session=session, school=school) is not None
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    if existed:
        return _redirect(request, f"/admin/frameworks/{framework.id}", _("Your school already has the BC Core Competencies."), "info")
    return _redirect(request, f"/admin/frameworks/{framework.id}", _("The BC Core Competencies are added."))


@router.get("/admin/frameworks/{framework_id}")
def edit_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """A framework's page: its details, competencies, scale, and the classes that use it."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    return _edit_page(request, session, framework)


@router.post("/admin/frameworks/{framework_id}")
def update_framework(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, name: TextField = "",
    description: TextField = "", version: TextField = "",
) -> Response:
    """Rename the framework or change its description (unless someone saved it since the page was opened)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = service.parse_framework(name=name, description=description)
    seen_version = parse_version(version)
    forms = {"framework_data": data, "framework_version": "" if seen_version is None else seen_version}
    try:
        with keeping_typed_text(session):
            if data.errors or not service.update_framework(session=session, framework=framework, data=data):
                session.rollback()
                return _edit_page(request, session, framework, forms=forms, errors=data.errors, status_code=422)
            claim_version(session=session, row=framework, version=seen_version)
            session.commit()
    except SaveRefused as refused:
        if refused.current:
            forms.update(framework_version=refused.current.version, framework_conflict=refused.current)
        return _edit_page(request, session, framework, forms=forms, errors={"form": refused.message},
                          status_code=refused.status)
    return _redirect(request, f"/admin/frameworks/{framework.id}", _("The framework is saved."))


@router.post("/admin/frameworks/{framework_id}/archive")
def archive_framework(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, archived: Annotated[bool, Form()] = True,
) -> Response:
    """Hide the framework from students (or bring it back)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    service.set_framework_archived(session=session, framework=framework, archived=archived)
    session.commit()
    message = _("“%(name)s” is archived; students no longer see it.", name=framework.name) if archived \
        else _("“%(name)s” is back in use.", name=framework.name)
    return _redirect(request, f"/admin/frameworks/{framework.id}", message)


@router.get("/admin/frameworks/{framework_id}/delete")
def confirm_delete_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Ask before deleting a framework (or explain why it can't be)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    context = {"framework": framework, "problem": service.framework_deletion_problem(session=session, framework=framework)}
    return render(request, "frameworks/delete_framework.html", context)


@router.post("/admin/frameworks/{framework_id}/delete")
def delete_framework(request: Request, framework_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Delete a framework nobody has used; otherwise refuse and suggest archiving it."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    name = framework.name
    problem = service.delete_framework(session=session, framework=framework)
    if problem:
        session.rollback()
        return render(request, "frameworks/delete_framework.html", {"framework": framework, "problem": problem}, status_code=422)
    session.commit()
    return _redirect(request, "/admin/frameworks", _("“%(name)s” was deleted.", name=name))


@router.post("/admin/frameworks/{framework_id}/classes")
def update_framework_classes(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep,
    class_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Choose which of the school's classes use this framework."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    service.set_framework_classes(session=session, framework=framework, class_ids={int(v) for v in class_ids if v.isdigit()})
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}#classes-heading", _("The classes are saved."))


# --- competencies ------------------------------------------------------------------------------


@router.post("/admin/frameworks/{framework_id}/competencies")
def create_competency(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, competency_code: TextField = "",
    competency_name: TextField = "", competency_description: TextField = "", parent_id: TextField = "",
) -> Response:
    """Add a competency (optionally inside another)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = service.parse_competency(session=session, framework=framework, code=competency_code, name=competency_name,
                                    description=competency_description, parent_id=parent_id)
    if data.errors:
        return _edit_page(request, session, framework, forms={"competency_data": data}, errors=data.errors, status_code=422)
    competency = service.add_competency(session=session, framework=framework, data=data)
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}",
                     _("%(code)s %(name)s is added.", code=competency.code, name=competency.name))


def _competency_form(request: Request, session, framework, competency, data, *, status_code: int = 200,
                     version: int | None = None, conflict=None) -> Response:
    context = {"framework": framework, "competency": competency, "data": data, "errors": data.errors,
               "parents": service.parent_choices(session=session, framework=framework, exclude=competency),
               "version": competency.version if version is None else version, "conflict": conflict}
    return render(request, "frameworks/competency.html", context, status_code=status_code)


@router.get("/admin/frameworks/{framework_id}/competencies/{competency_id}")
def edit_competency(request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """The form to rename, recode, redescribe or move a competency under another parent."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    data = service.CompetencyInput(code=competency.code, name=competency.name, description=competency.description,
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
    data = service.parse_competency(session=session, framework=framework, code=competency_code, name=competency_name,
                                    description=competency_description, parent_id=parent_id, competency=competency)
    seen_version = parse_version(version)
    if data.errors:
        return _competency_form(request, session, framework, competency, data, status_code=422, version=seen_version)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=competency, version=seen_version)
            service.update_competency(session=session, competency=competency, data=data)
            session.commit()
    except SaveRefused as refused:
        data.errors["form"] = refused.message
        return _competency_form(request, session, framework, competency, data, status_code=refused.status,
                                version=refused.current.version if refused.current else seen_version,
                                conflict=refused.current)
    return _redirect(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}",
                     _("%(code)s is saved.", code=competency.code))


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/move")
def move_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep,
    direction: DirectionField = "up",
) -> Response:
    """Move a competency up or down among its siblings."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    service.move_competency(session=session, competency=competency, direction=direction)
    session.commit()
    message = _("%(code)s moved up.", code=competency.code) if direction == "up" else _("%(code)s moved down.", code=competency.code)
    return _redirect(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}", message)


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/archive")
def archive_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep,
    archived: Annotated[bool, Form()] = True,
) -> Response:
    """Hide a competency from pickers (or bring it back); its history stays."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    service.set_competency_archived(session=session, competency=competency, archived=archived)
    session.commit()
    message = _("%(code)s is archived: students no longer see it in pickers, and its history stays.", code=competency.code) \
        if archived else _("%(code)s is back in use.", code=competency.code)
    return _redirect(request, f"/admin/frameworks/{framework.id}#competency-{competency.id}", message)


@router.get("/admin/frameworks/{framework_id}/competencies/{competency_id}/delete")
def confirm_delete_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep
) -> Response:
    """Ask before deleting a competency, or explain why it can't be (and offer to archive it)."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    check = service.check_competency_deletion(session=session, competency=competency)
    return render(request, "frameworks/delete_competency.html", {"framework": framework, "check": check})


@router.post("/admin/frameworks/{framework_id}/competencies/{competency_id}/delete")
def delete_competency(
    request: Request, framework_id: PathId, competency_id: PathId, user: AdminUser, session: SessionDep
) -> Response:
    """Delete a competency nobody has used; otherwise refuse (422) and suggest archiving it."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    code = competency.code
    check = service.check_competency_deletion(session=session, competency=competency)
    if check.problem or service.delete_competency(session=session, competency=competency):
        session.rollback()
        return render(request, "frameworks/delete_competency.html", {"framework": framework, "check": check}, status_code=422)
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}", _("%(code)s was deleted.", code=code))


# --- the scale ---------------------------------------------------------------------------------


@router.post("/admin/frameworks/{framework_id}/levels")
def create_level(
    request: Request, framework_id: PathId, user: AdminUser, session: SessionDep, level_label: TextField = "",
    level_descriptor: TextField = "",
) -> Response:
    """Add a level at the top of the scale."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    data = scales.parse_level(session=session, framework=framework, label=level_label, descriptor=level_descriptor)
    if data.errors:
        return _edit_page(request, session, framework, forms={"level_data": data}, errors=data.errors, status_code=422)
    level = scales.add_level(session=session, framework=framework, data=data)
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” is added to the scale.", label=level.label))


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
    return _redirect(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” is saved.", label=level.label))


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
    return _redirect(request, f"/admin/frameworks/{framework.id}#scale-heading", message)


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
    return _redirect(request, f"/admin/frameworks/{framework.id}#scale-heading", _("“%(label)s” was deleted.", label=label))


# --- translations ------------------------------------------------------------------------------


def _translations_page(request: Request, session, framework, locale: str, *, typed: dict | None = None,
                       errors: dict | None = None, status_code: int = 200) -> Response:
    """Every competency and level of the framework, each with its own small form for `locale`; `typed` holds what
    was typed in the one form being re-shown ({"name": ..., "description": ...} under its key, e.g. "c12")."""
    if locale not in translations.translation_locales(settings=request.app.state.settings):
        raise NotFound()
    detail = service.framework_detail(session=session, framework=framework)
    saved = translations.framework_translations(session=session, framework=framework)
    forms = {}
    for row in detail.rows:
        existing = saved.competencies.get(row.competency.id, {}).get(locale)
        forms[f"c{row.competency.id}"] = {"name": existing.name if existing else "",
                                           "description": existing.description if existing else ""}
    for level in detail.levels:
        existing = saved.levels.get(level.id, {}).get(locale)
        forms[f"l{level.id}"] = {"name": existing.label if existing else "",
                                 "description": existing.descriptor if existing else ""}
    forms.update(typed or {})
    context = {"detail": detail, "locale": locale, "forms": forms, "errors": errors or {}}
    return render(request, "frameworks/translations.html", context, status_code=status_code)


@router.get("/admin/frameworks/{framework_id}/translations/{locale}")
def translations_page(request: Request, framework_id: PathId, locale: str, user: AdminUser, session: SessionDep) -> Response:
    """The framework's competencies and scale, each with a form for its words in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    return _translations_page(request, session, framework, locale)


def _save_translation(request: Request, session, framework, locale: str, key: str, anchor: str, name: str,
                      description: str, name_limit: int, save) -> Response:
    if locale not in translations.translation_locales(settings=request.app.state.settings):
        raise NotFound()
    data = translations.parse_translation(name=name, description=description, name_limit=name_limit)
    if data.errors:
        errors = {f"{key}-{field}": message for field, message in data.errors.items()}
        return _translations_page(request, session, framework, locale, errors=errors, status_code=422,
                                  typed={key: {"name": name, "description": description}})
    save(data)
    session.commit()
    return _redirect(request, f"/admin/frameworks/{framework.id}/translations/{locale}#{anchor}",
                     _("The %(language)s words are saved.", language=language_name(locale)))


@router.post("/admin/frameworks/{framework_id}/translations/{locale}/competencies/{competency_id}")
def save_competency_translation(
    request: Request, framework_id: PathId, locale: str, competency_id: PathId, user: AdminUser, session: SessionDep,
    name: TextField = "", description: TextField = "",
) -> Response:
    """Save (or, left empty, remove) a competency's name and description in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    competency = service.competency_of(session=session, framework=framework, competency_id=competency_id)
    return _save_translation(
        request, session, framework, locale, f"c{competency.id}", f"competency-{competency.id}", name, description,
        200, lambda data: translations.save_competency_translation(
            session=session, competency=competency, locale=locale, data=data))


@router.post("/admin/frameworks/{framework_id}/translations/{locale}/levels/{level_id}")
def save_level_translation(
    request: Request, framework_id: PathId, locale: str, level_id: PathId, user: AdminUser, session: SessionDep,
    name: TextField = "", description: TextField = "",
) -> Response:
    """Save (or, left empty, remove) a scale level's label and descriptor in `locale`."""
    framework = service.framework_for_admin(session=session, admin=user, framework_id=framework_id)
    level = scales.level_of(session=session, framework=framework, level_id=level_id)
    return _save_translation(
        request, session, framework, locale, f"l{level.id}", f"level-{level.id}", name, description, 60,
        lambda data: translations.save_level_translation(session=session, level=level, locale=locale, data=data))
