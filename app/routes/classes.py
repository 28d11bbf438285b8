"""Classes: creating them, joining one with a code, the class page, its settings and its reflection prompts.

The roster's routes are in app/routes/class_members.py, the admins' school-wide pages in app/routes/school_classes.py."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import StaffUser, StudentUser, require_user
from app.db import SessionDep
from app.flash import flash, redirect_with
from app.i18n import _
from app.models import Role, SchoolClass, SchoolTerm, User
from app.navigation import home_path
from app.security import client_address
from app.services.classes import classes
from app.services.classes import terms
from app.services.portfolio.reflections import default_prompts
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId
from app.routes.class_members import refuse_if_archived

router = APIRouter(dependencies=[Depends(require_user)])


# --- a new class (before /classes/{class_id}, so "new" and "join" are not taken for ids) --------------


def live_terms(session, user: User) -> list[SchoolTerm]:
    """The school's terms that are not archived (new classes go into one of them)."""
    return [term for term in terms.terms_of_school(session=session, school_id=user.school_id) if not term.archived]


def _new_class_context(session, user: User, values: dict, errors: dict) -> dict:
    teachers = classes.teachers_of_school(session=session, school_id=user.school_id) if user.role is Role.admin else []
    return {"values": values, "errors": errors, "teachers": teachers, "terms": live_terms(session, user)}


@router.get("/classes/new")
def new_class(request: Request, user: StaffUser, session: SessionDep, term_id: str = "") -> Response:
    """The new-class form: its term (or year and term words), and for an admin its teacher."""
    values = {"name": "", "year": "", "term": "", "teacher_id": "", "term_id": term_id[:20]}
    return render(request, "classes/new.html", _new_class_context(session, user, values, {}))


@router.post("/classes/new")
def create_class(
    request: Request, user: StaffUser, session: SessionDep,
    name: Annotated[str, Form(max_length=500)] = "", year: Annotated[str, Form(max_length=100)] = "",
    term: Annotated[str, Form(max_length=200)] = "", teacher_id: Annotated[str, Form(max_length=20)] = "",
    term_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Create the class: a teacher teaches it; an admin's choice of teacher (or nobody yet) does."""
    is_admin = user.role is Role.admin
    teachers = classes.teachers_of_school(session=session, school_id=user.school_id) if is_admin else None
    data = classes.parse_class(name=name, year=year, term=term, teacher_id=teacher_id, teachers=teachers,
                               term_id=term_id, school_terms=live_terms(session, user))
    if not data.ok:
        values = {"name": name, "year": year, "term": term, "teacher_id": teacher_id, "term_id": term_id}
        return render(request, "classes/new.html", _new_class_context(session, user, values, data.errors),
                      status_code=422)
    teacher = session.get(User, data.teacher_id) if is_admin and data.teacher_id else (None if is_admin else user)
    school_class = classes.create_class(session=session, school_id=user.school_id, data=data, teacher=teacher,
                                        actor=user, address=client_address(request))
    session.commit()
    return redirect_with(request, f"/classes/{school_class.id}",
                         _("%(name)s is ready. Its join code is %(code)s.",
                           name=school_class.name, code=school_class.join_code))


# --- joining with a code (students) ------------------------------------------------------------------


@router.get("/classes/join")
def join_form(request: Request, user: StudentUser) -> Response:
    """Where a student types the join code their teacher shared."""
    return render(request, "classes/join.html", {"code": "", "errors": {}})


@router.post("/classes/join")
def join_class(
    request: Request, user: StudentUser, session: SessionDep, code: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """Join the class with that code (case and spaces don't matter)."""
    settings = request.app.state.settings
    outcome, school_class = classes.join_with_code(session=session, student=user, code=code,
                                                   address=client_address(request), settings=settings)
    if outcome is classes.JoinOutcome.throttled:
        minutes = settings.login_window_minutes
        errors = {"code": _("Too many codes that didn't work. For your safety, please wait %(minutes)s minutes and "
                            "try again, or ask your teacher for help.", minutes=minutes)}
        return render(request, "classes/join.html", {"code": code, "errors": errors}, status_code=429,
                      headers={"Retry-After": str(minutes * 60)})
    if outcome is classes.JoinOutcome.unknown_code:
        errors = {"code": _("No class has that code. Check it with your teacher and try again.")}
        return render(request, "classes/join.html", {"code": code, "errors": errors}, status_code=422)
    session.commit()
    response = RedirectResponse(home_path(user), status_code=303)
    if outcome is classes.JoinOutcome.already_member:
        flash(request, response, _("You're already in %(name)s.", name=school_class.name), "info")
    else:
        flash(request, response, _("Welcome to %(name)s!", name=school_class.name), "success")
    return response


# --- the class page and its roster ---------------------------------------------------------------------


@router.get("/classes/{class_id}")
def show_class(request: Request, class_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """The class for its teachers (and the admin): roster, join code, links to settings and prompts."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    return render(request, "classes/show.html", {"roster": classes.roster(session=session, school_class=school_class)})


# --- settings ------------------------------------------------------------------------------------------


def _settings_page(request: Request, session, school_class: SchoolClass, *, typed: dict | None = None,
                   refused: SaveRefused | None = None) -> Response:
    """The settings form: as saved, or (`typed`) as the teacher left it when the save was refused."""
    frameworks, used = classes.framework_choices(session=session, school_class=school_class)
    flags = {name: getattr(school_class, name) for name in classes.SETTING_NAMES}
    context = {"school_class": school_class, "frameworks": frameworks, "chosen": used, "flags": flags,
               "version": school_class.version, "errors": {}, "conflict": None}
    if refused is not None:
        context.update(typed or {})
        context["saved_flags"], context["saved_chosen"] = flags, used
        context.update(errors={"form": refused.message}, conflict=refused.current)
        if refused.current is None:
            context["version"] = typed.get("version", "") if typed else ""
    return render(request, "classes/settings.html", context, status_code=refused.status if refused else 200)


@router.get("/classes/{class_id}/settings")
def edit_settings(request: Request, class_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """The class's frameworks, and who sees what."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    return _settings_page(request, session, school_class)


@router.post("/classes/{class_id}/settings")
def update_settings(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep,
    framework_ids: Annotated[list[int], Form()] = [],  # noqa: B006
    classmates_see_class_items: Annotated[bool, Form()] = False,
    peer_comments_need_approval: Annotated[bool, Form()] = False,
    family_items_need_approval: Annotated[bool, Form()] = False,
    secret_links_allowed: Annotated[bool, Form()] = False, version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the settings (unchecked boxes are not sent, so they mean "off"), unless someone saved them meanwhile."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    if refused := refuse_if_archived(request, school_class):
        return refused
    frameworks, _used = classes.framework_choices(session=session, school_class=school_class)
    flags = {"classmates_see_class_items": classmates_see_class_items,
             "peer_comments_need_approval": peer_comments_need_approval,
             "family_items_need_approval": family_items_need_approval,
             "secret_links_allowed": secret_links_allowed}
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=school_class, version=parse_version(version))
            classes.save_settings(session=session, school_class=school_class, framework_ids=set(framework_ids),
                                  allowed_framework_ids={f.id for f in frameworks}, flags=flags)
            session.commit()
    except SaveRefused as refused:
        typed = {"flags": flags, "chosen": set(framework_ids), "version": version}
        return _settings_page(request, session, school_class, typed=typed, refused=refused)
    return redirect_with(request, f"/classes/{school_class.id}",
                         _("Settings saved for %(name)s.", name=school_class.name))


@router.get("/classes/{class_id}/prompts")
def edit_prompts(request: Request, class_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """The class's reflection prompts, one per line."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    context = {"school_class": school_class, "prompts": school_class.reflection_prompts or "", "defaults": default_prompts(),
               "errors": {}, "version": school_class.version, "conflict": None}
    return render(request, "classes/prompts.html", context)


@router.post("/classes/{class_id}/prompts")
def update_prompts(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep, prompts: Annotated[str, Form(max_length=5000)] = "",
    version: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the prompts (empty: Folio's defaults), unless someone saved the class's settings meanwhile."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    if refused := refuse_if_archived(request, school_class):
        return refused
    parsed = classes.parse_prompts(prompts=prompts)
    context = {"school_class": school_class, "prompts": prompts, "defaults": default_prompts(), "version": version,
               "conflict": None}
    if not parsed.ok:
        return render(request, "classes/prompts.html", {**context, "errors": parsed.errors}, status_code=422)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=school_class, version=parse_version(version))
            classes.set_prompts(session=session, school_class=school_class, prompts=parsed.prompts)
            session.commit()
    except SaveRefused as refused:
        if refused.current:
            context.update(version=refused.current.version, conflict=refused.current)
        return render(request, "classes/prompts.html", {**context, "errors": {"form": refused.message}},
                      status_code=refused.status)
    response = RedirectResponse(home_path(user), status_code=303)
    message = _("Reflection prompts saved for %(name)s.", name=school_class.name) if parsed.prompts else \
        _("%(name)s now uses Folio's default prompts.", name=school_class.name)
    flash(request, response, message, "success")
    return response
