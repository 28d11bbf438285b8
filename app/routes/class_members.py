"""A class's roster: adding students (one, or many from a list or a .csv), their login cards, and taking one out."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.auth import StaffUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.models import Role, School, SchoolClass
from app.security import client_address
from app.services.classes import classes
from app.services.classes import roster
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])
NO_STORE = {"Cache-Control": "no-store"}


def refuse_if_archived(request: Request, school_class: SchoolClass) -> Response | None:
    """For a change to an archived class: back to its page with why (archived classes are history, read-only)."""
    if not school_class.archived:
        return None
    return redirect_with(request, f"/classes/{school_class.id}",
                         _("%(name)s is archived: it can be read but not changed.", name=school_class.name), "error")


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
    if refused := refuse_if_archived(request, school_class):
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
    if refused := refuse_if_archived(request, school_class):
        return refused
    text, problem = lines, None
    if file is not None and file.filename:
        text, problem = roster.decode_upload(file.file.read(roster.MAX_CSV_BYTES + 1))
    parsed = roster.RosterLines(errors={"file": problem}) if problem else roster.parse_lines(lines=text)
    plan = roster.check_rows(session=session, school_class=school_class, rows=parsed.rows,
                             may_add_existing=user.role is Role.admin) if parsed.ok else None
    # The bulk form lists every problem above the box, in order: the whole text's, else each row's.
    problems = list(parsed.errors.values()) or plan.problems
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
    if refused := refuse_if_archived(request, school_class):
        return refused
    enrollment, student = classes.student_enrollment(session=session, school_class=school_class, student_id=student_id)
    classes.remove_student(session=session, school_class=school_class, enrollment=enrollment, student=student,
                           actor=user, address=client_address(request))
    session.commit()
    return redirect_with(request, f"/classes/{school_class.id}",
                         _("%(student)s is no longer in %(name)s. Their portfolio is kept.",
                           student=student.display_name, name=school_class.name))
