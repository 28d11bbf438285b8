"""The school's classes for its admins: terms, each term's classes and their teachers, and the year's end."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, require_user
from app.db import SessionDep
from app.flash import flash, redirect_with
from app.i18n import _, ngettext
from app.models import SchoolTerm, User
from app.security import client_address
from app.services.classes import classes
from app.services.classes import terms
from app.services.accounts import people
from app.templating import render
from app.routes.classes import live_terms
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


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
    data = terms.parse_term(session=session, school_id=user.school_id, name=name, school_year=school_year,
                            starts_on=starts_on, ends_on=ends_on)
    if not data.ok:
        values = {"name": name, "school_year": school_year, "starts_on": starts_on, "ends_on": ends_on}
        return _school_classes_page(request, session, user, values=values, errors=data.errors, status_code=422)
    term = terms.create_term(session=session, actor=user, data=data, address=client_address(request))
    session.commit()
    return redirect_with(request, f"/admin/classes?term_id={term.id}",
                         _("%(name)s is added. Now add its classes.", name=term.name))


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
    targets = [t for t in live_terms(session, user) if t.id != term.id]
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
    target = next((t for t in live_terms(session, user) if str(t.id) == target_term_id and t.id != term.id), None)
    new_names = {class_id: name[:500] for class_id, name in zip(class_ids, names)}
    parsed = terms.parse_rollover(rows=rows, target=target, carry=set(carry), names=new_names)
    if not parsed.ok:
        return _rollover_page(request, session, user, term, rows, target_term_id=target_term_id,
                              errors=parsed.errors, status_code=422)
    made = terms.roll_over(session=session, actor=user, old_term=term, new_term=target, rows=rows,
                           address=client_address(request))
    session.commit()
    return redirect_with(request, f"/admin/classes?term_id={target.id}",
                         ngettext("%(num)s class carried on into %(term)s; %(old)s is archived.",
                                  "%(num)s classes carried on into %(term)s; %(old)s is archived.", len(made),
                                  term=target.name, old=term.name))
