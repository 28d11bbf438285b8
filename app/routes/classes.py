"""Classes: creating them, the class page and roster, adding and removing students, join codes, settings and prompts."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, StaffUser, StudentUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _, ngettext
from app.models import Role, School, SchoolClass, SchoolTerm, User
from app.navigation import home_path
from app.security import client_address
from app.services.classes import classes
from app.services.classes import roster
from app.services.classes import terms
from app.services.accounts import people
from app.services.portfolio.reflections import default_prompts
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])
NO_STORE = {"Cache-Control": "no-store"}


# --- a new class (before /classes/{class_id}, so "new" and "join" are not taken for ids) --------------


def _live_terms(session, user: User) -> list[SchoolTerm]:
    return [term for term in terms.terms_of_school(session=session, school_id=user.school_id) if not term.archived]


def _new_class_context(session, user: User, values: dict, errors: dict) -> dict:
    teachers = classes.teachers_of_school(session=session, school_id=user.school_id) if user.role is Role.admin else []
    return {"values": values, "errors": errors, "teachers": teachers, "terms": _live_terms(session, user)}


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
    data, errors = classes.parse_class(name=name, year=year, term=term, teacher_id=teacher_id, teachers=teachers,
                                       term_id=term_id, school_terms=_live_terms(session, user))
    if errors:
        values = {"name": name, "year": year, "term": term, "teacher_id": teacher_id, "term_id": term_id}
        return render(request, "classes/new.html", _new_class_context(session, user, values, errors), status_code=422)
    teacher = session.get(User, data.teacher_id) if is_admin and data.teacher_id else (None if is_admin else user)
    school_class = classes.create_class(session=session, school_id=user.school_id, data=data, teacher=teacher,
                                        actor=user, address=client_address(request))
    session.commit()
    response = RedirectResponse(f"/classes/{school_class.id}", status_code=303)
    flash(request, response, _("%(name)s is ready. Its join code is %(code)s.", name=school_class.name,
                               code=school_class.join_code), "success")
    return response


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


def _archived(request: Request, school_class: SchoolClass) -> Response | None:
    """For a change to an archived class: back to its page with why (archived classes are history, read-only)."""
    if not school_class.archived:
        return None
    response = RedirectResponse(f"/classes/{school_class.id}", status_code=303)
    flash(request, response, _("%(name)s is archived: it can be read but not changed.", name=school_class.name), "error")
    return response


def _add_students_page(request: Request, school_class: SchoolClass, *, status_code: int = 200, **context) -> Response:
    values = {"display_name": "", "username": "", "email": "", "lines": "", "must_change_password": False}
    values.update(context.pop("values", {}))
    page = {"school_class": school_class, "values": values, "errors": {}, "problems": [], **context}
    return render(request, "classes/add_students.html", page, status_code=status_code)


def _added_page(request: Request, school_class: SchoolClass, created, existing) -> Response:
    # The passwords are shown this once: nothing may keep a copy of the page.
    context = {"school_class": school_class, "created": created, "existing": existing}
    return render(request, "classes/added.html", context, headers=NO_STORE)


@router.get("/classes/{class_id}/students/new")
def add_students_form(request: Request, class_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """Add one student, or many from a list."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    return _add_students_page(request, school_class)


@router.post("/classes/{class_id}/students")
def add_student(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep,
    display_name: Annotated[str, Form(max_length=500)] = "", username: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=500)] = "", must_change_password: Annotated[bool, Form()] = False,
) -> Response:
    """Add one student: a new account with a generated password, or (admins) a student already at the school."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    if refused := _archived(request, school_class):
        return refused
    plan = roster.check_one(session=session, school_class=school_class, display_name=display_name,
                            username=username, email=email, may_add_existing=user.role is Role.admin)
    if plan.errors:
        values = {"display_name": display_name, "username": username, "email": email,
                  "must_change_password": must_change_password}
        return _add_students_page(request, school_class, status_code=422, values=values, errors=plan.errors)
    created = roster.add_to_class(session=session, school_class=school_class, plan=plan, actor=user,
                                  address=client_address(request), bulk=False,
                                  must_change_password=must_change_password)
    session.commit()
    return _added_page(request, school_class, created, plan.existing)


@router.post("/classes/{class_id}/students/bulk")
def add_students_in_bulk(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep,
    lines: Annotated[str, Form(max_length=100_000)] = "", must_change_password: Annotated[bool, Form()] = False,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Add many students from pasted lines or a .csv file; one bad row and nothing is created."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    if refused := _archived(request, school_class):
        return refused
    text, problem = lines, None
    if file is not None and file.filename:
        text, problem = roster.decode_upload(file.file.read(roster.MAX_CSV_BYTES + 1))
    rows, problems = ([], [problem]) if problem else roster.parse_lines(text)
    plan = roster.check_rows(session=session, school_class=school_class, rows=rows,
                             may_add_existing=user.role is Role.admin) if not problems else None
    problems = problems or plan.problems
    if problems:
        values = {"lines": lines, "must_change_password": must_change_password}
        return _add_students_page(request, school_class, status_code=422, values=values, problems=problems)
    created = roster.add_to_class(session=session, school_class=school_class, plan=plan, actor=user,
                                  address=client_address(request), bulk=True,
                                  must_change_password=must_change_password)
    session.commit()
    return _added_page(request, school_class, created, plan.existing)


@router.post("/classes/{class_id}/cards")
def login_cards(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep,
    username: Annotated[list[str], Form()] = [], password: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Printable login cards for the accounts just created (the result page posts them back; nothing is stored)."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    cards = roster.printable_accounts(session=session, school_class=school_class, usernames=username, passwords=password)
    context = {"school_class": school_class, "cards": cards, "school": session.get(School, school_class.school_id),
               "folio_address": request.app.state.settings.base_url}
    return render(request, "classes/cards.html", context, headers=NO_STORE)


@router.get("/classes/{class_id}/students/{student_id}/remove")
def confirm_remove_student(request: Request, class_id: PathId, student_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """Ask before taking a student out of the class."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    _enrollment, student = classes.student_enrollment(session=session, school_class=school_class, student_id=student_id)
    return render(request, "classes/remove_student.html", {"school_class": school_class, "student": student})


@router.post("/classes/{class_id}/students/{student_id}/remove")
def remove_student(request: Request, class_id: PathId, student_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """Take the student out of the class; their portfolio stays theirs."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    if refused := _archived(request, school_class):
        return refused
    enrollment, student = classes.student_enrollment(session=session, school_class=school_class, student_id=student_id)
    classes.remove_student(session=session, school_class=school_class, enrollment=enrollment, student=student,
                           actor=user, address=client_address(request))
    session.commit()
    response = RedirectResponse(f"/classes/{school_class.id}", status_code=303)
    flash(request, response, _("%(student)s is no longer in %(name)s. Their portfolio is kept.",
                               student=student.display_name, name=school_class.name), "success")
    return response


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
    if refused := _archived(request, school_class):
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
    response = RedirectResponse(f"/classes/{school_class.id}", status_code=303)
    flash(request, response, _("Settings saved for %(name)s.", name=school_class.name), "success")
    return response


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
    if refused := _archived(request, school_class):
        return refused
    parsed, problem = classes.parse_prompts(prompts)
    context = {"school_class": school_class, "prompts": prompts, "defaults": default_prompts(), "version": version,
               "conflict": None}
    if problem:
        return render(request, "classes/prompts.html", {**context, "errors": {"prompts": problem}}, status_code=422)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=school_class, version=parse_version(version))
            classes.set_prompts(session=session, school_class=school_class, prompts=parsed)
            session.commit()
    except SaveRefused as refused:
        if refused.current:
            context.update(version=refused.current.version, conflict=refused.current)
        return render(request, "classes/prompts.html", {**context, "errors": {"form": refused.message}},
                      status_code=refused.status)
    response = RedirectResponse(home_path(user), status_code=303)
    message = _("Reflection prompts saved for %(name)s.", name=school_class.name) if parsed else \
        _("%(name)s now uses Folio's default prompts.", name=school_class.name)
    flash(request, response, message, "success")
    return response


# --- terms, the school's classes, teachers, and the year's end (admins) -------------------------------------


def _school_classes_page(request: Request, session, user: User, *, term_id: str = "", values: dict | None = None,
                         errors: dict | None = None, status_code: int = 200) -> Response:
    school_terms = terms.terms_of_school(session=session, school_id=user.school_id)
    chosen = next((t for t in school_terms if str(t.id) == term_id), None) if term_id else None
    chosen = chosen or next((t for t in school_terms if not t.archived), None)
    context = {
        "terms": school_terms, "chosen": chosen,
        "classes": people.classes_in_term(session=session, term_id=chosen.id) if chosen else [],
        "without_term": people.classes_without_term(session=session, school_id=user.school_id),
        "teachers": classes.teachers_of_school(session=session, school_id=user.school_id),
        "values": values or {"name": "", "school_year": "", "starts_on": "", "ends_on": ""}, "errors": errors or {},
    }
    return render(request, "classes/school.html", context, status_code=status_code)


@router.get("/admin/classes")
def list_school_classes(request: Request, user: AdminUser, session: SessionDep, term_id: str = "") -> Response:
    """The school's terms and one term's classes with their teachers; archived terms are the history."""
    return _school_classes_page(request, session, user, term_id=term_id[:20])


@router.post("/admin/terms")
def create_term(
    request: Request, user: AdminUser, session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "", school_year: Annotated[str, Form(max_length=100)] = "",
    starts_on: Annotated[str, Form(max_length=20)] = "", ends_on: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Add a school year or term."""
    data, errors = terms.parse_term(session=session, school_id=user.school_id, name=name, school_year=school_year,
                                    starts_on=starts_on, ends_on=ends_on)
    if errors:
        values = {"name": name, "school_year": school_year, "starts_on": starts_on, "ends_on": ends_on}
        return _school_classes_page(request, session, user, values=values, errors=errors, status_code=422)
    term = terms.create_term(session=session, actor=user, data=data, address=client_address(request))
    session.commit()
    response = RedirectResponse(f"/admin/classes?term_id={term.id}", status_code=303)
    flash(request, response, _("%(name)s is added. Now add its classes.", name=term.name), "success")
    return response


@router.post("/admin/classes/{class_id}/teachers")
def assign_teacher(
    request: Request, class_id: PathId, user: AdminUser, session: SessionDep,
    teacher_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Give the class a teacher (another one, or its first)."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    teacher = next((t for t in classes.teachers_of_school(session=session, school_id=user.school_id)
                    if str(t.id) == teacher_id), None)
    response = RedirectResponse(f"/admin/classes?term_id={school_class.term_id or ''}", status_code=303)
    if school_class.archived:
        flash(request, response, _("%(name)s is archived: it can be read but not changed.", name=school_class.name),
              "error")
    elif teacher is None:
        flash(request, response, _("Choose one of the school's teachers."), "error")
    elif terms.assign_teacher(session=session, school_class=school_class, teacher=teacher, actor=user,
                              address=client_address(request)):
        session.commit()
        flash(request, response, _("%(teacher)s now teaches %(name)s.", teacher=teacher.display_name,
                                   name=school_class.name), "success")
    else:
        flash(request, response, _("%(teacher)s already teaches %(name)s.", teacher=teacher.display_name,
                                   name=school_class.name), "info")
    return response


def _rollover_page(request: Request, session, user: User, term: SchoolTerm, rows, *, target_term_id: str = "",
                   errors: dict | None = None, status_code: int = 200) -> Response:
    targets = [t for t in _live_terms(session, user) if t.id != term.id]
    context = {"term": term, "rows": rows, "targets": targets, "target_term_id": target_term_id, "errors": errors or {}}
    return render(request, "classes/rollover.html", context, status_code=status_code)


@router.get("/admin/terms/{term_id}/rollover")
def rollover_form(request: Request, term_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """The year's end: which of the term's classes carry on into which term, under which names."""
    term = terms.term_for_admin(session=session, admin=user, term_id=term_id)
    if term.archived:
        return RedirectResponse(f"/admin/classes?term_id={term.id}", status_code=303)
    return _rollover_page(request, session, user, term, terms.rollover_rows(session=session, term=term))


@router.post("/admin/terms/{term_id}/rollover")
def roll_over(
    request: Request, term_id: PathId, user: AdminUser, session: SessionDep,
    target_term_id: Annotated[str, Form(max_length=20)] = "",
    class_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    names: Annotated[list[str], Form()] = [],  # noqa: B006
    carry: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Make the new classes with the same teachers and students, and archive this term's classes."""
    term = terms.term_for_admin(session=session, admin=user, term_id=term_id)
    if term.archived:
        return RedirectResponse(f"/admin/classes?term_id={term.id}", status_code=303)
    rows = terms.rollover_rows(session=session, term=term)
    target = next((t for t in _live_terms(session, user) if str(t.id) == target_term_id and t.id != term.id), None)
    new_names = {class_id: name[:500] for class_id, name in zip(class_ids, names)}
    errors = terms.parse_rollover(rows=rows, target=target, carry=set(carry), names=new_names)
    if errors:
        return _rollover_page(request, session, user, term, rows, target_term_id=target_term_id, errors=errors,
                              status_code=422)
    made = terms.roll_over(session=session, actor=user, old_term=term, new_term=target, rows=rows,
                           address=client_address(request))
    session.commit()
    response = RedirectResponse(f"/admin/classes?term_id={target.id}", status_code=303)
    flash(request, response, ngettext("%(num)s class carried on into %(term)s; %(old)s is archived.",
                                      "%(num)s classes carried on into %(term)s; %(old)s is archived.", len(made),
                                      term=target.name, old=term.name), "success")
    return response
