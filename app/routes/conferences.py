"""Student-led conferences: a class's conference page, scheduling, changing and cancelling slots (the class's
teachers), and everyone's own conferences at /conferences (teachers, families, students)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.auth import CurrentUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.models import ConferenceSlot, Role, SchoolClass, User
from app.services.conferences import conference_booking
from app.services.conferences import conferences
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

ShortText = Annotated[str, Form(max_length=1000)]
LongText = Annotated[str, Form(max_length=50_000)]
Ids = Annotated[list[str], Form()]


def _timezone(request: Request) -> str:
    return request.app.state.settings.timezone


# --- a class's conferences (its teachers) ----------------------------------------------------------------


@router.get("/classes/{class_id:int}/conferences")
def class_conferences(request: Request, class_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Each student's showcase readiness, family and slots, and the class's slots in time order."""
    school_class = conferences.class_for_teacher(session=session, user=user, class_id=class_id)
    view = conferences.class_conferences(session=session, school_class=school_class)
    return render(request, "conferences/class.html", {"view": view, "timezone": _timezone(request),
                                                       "format_when": conferences.format_when})


def _form_page(
    request: Request, session: Session, *, school_class: SchoolClass, students: list[User], form: conference_booking.SlotForm,
    errors: dict[str, str], slot: ConferenceSlot | None = None, status_code: int = 200, version: int | None = None,
    conflict: ConferenceSlot | None = None,
) -> Response:
    student = conference_booking.chosen_student(students=students, student_id=form.student_id)
    guardians = conferences.guardians_of(session=session, student_ids=[student.id])[student.id] if student else []
    if version is None and slot is not None:
        version = slot.version
    context = {
        "school_class": school_class, "students": students, "student": student, "guardians": guardians, "form": form,
        "errors": errors, "slot": slot, "timezone": _timezone(request), "conflict": conflict,
        "conflict_when": conferences.format_when(conflict.starts_at, _timezone(request)) if conflict else "",
        "version": "" if version is None else version,
        "min_duration": conferences.MIN_DURATION, "max_duration": conferences.MAX_DURATION,
    }
    return render(request, "conferences/form.html", context, status_code=status_code)


def _posted_form(
    session: Session, *, student_id: str, date: str, time: str, duration: str, location: str, note: str, guardian_ids: list[str],
    guardians_for: str, students: list[User],
) -> conference_booking.SlotForm:
    form = conference_booking.SlotForm(student_id, date, time, duration, location, note, list(guardian_ids), guardians_for)
    student = conference_booking.chosen_student(students=students, student_id=student_id)
    if student is not None and guardians_for.strip() != str(student.id):
        # Another student was picked: offer their whole family, as for a new slot.
        family = conferences.guardians_of(session=session, student_ids=[student.id])[student.id]
        form.guardians_for = str(student.id)
        form.guardian_ids = [str(g.id) for g in family]
    return form


@router.get("/classes/{class_id:int}/conferences/new")
def new_slot(request: Request, class_id: PathId, user: CurrentUser, session: SessionDep, student_id: str = "") -> Response:
    """Schedule a conference: pick the student first, then the time, place and the family to invite."""
    school_class = conferences.class_for_teacher(session=session, user=user, class_id=class_id)
    students = conferences.students_of_class(session=session, school_class=school_class)
    student = conference_booking.chosen_student(students=students, student_id=student_id)
    guardians = conferences.guardians_of(session=session, student_ids=[student.id])[student.id] if student else []
    form = conference_booking.blank_form(student=student, guardians=guardians)
    return _form_page(request, session, school_class=school_class, students=students, form=form, errors={})


@router.post("/classes/{class_id:int}/conferences/new")
def create_slot(
    request: Request, class_id: PathId, user: CurrentUser, session: SessionDep,
    student_id: ShortText = "", date: ShortText = "", time: ShortText = "", duration: ShortText = "",
    location: ShortText = "", note: LongText = "", guardian_ids: Ids = [], guardians_for: ShortText = "",
) -> Response:
    """Book the slot and tell the student and invited families, or show the form again with what to fix."""
    school_class = conferences.class_for_teacher(session=session, user=user, class_id=class_id)
    students = conferences.students_of_class(session=session, school_class=school_class)
    form = conference_booking.SlotForm(student_id, date, time, duration, location, note, list(guardian_ids), guardians_for)
    data = conference_booking.parse_slot(session=session, school_class=school_class, students=students, form=form,
                                         timezone=_timezone(request))
    if not data.ok:
        form = _posted_form(session, student_id=student_id, date=date, time=time, duration=duration, location=location,
                            note=note, guardian_ids=guardian_ids, guardians_for=guardians_for, students=students)
        return _form_page(request, session, school_class=school_class, students=students, form=form,
                          errors=data.errors, status_code=422)
    slot = conference_booking.create_slot(session=session, school_class=school_class, teacher=user, data=data,
                                   timezone=_timezone(request))
    message = _("The conference for %(name)s is booked for %(when)s.", name=data.student.display_name,
                when=conferences.format_when(slot.starts_at, _timezone(request)))
    session.commit()
    return redirect_with(request, f"/classes/{school_class.id}/conferences", message)


@router.get("/conferences/{slot_id:int}/edit")
def edit_slot(request: Request, slot_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Change a slot's student, time, place, note or invited families."""
    slot, school_class = conferences.slot_for_teacher(session=session, user=user, slot_id=slot_id)
    students = conferences.students_of_class(session=session, school_class=school_class)
    invited = conferences.invited_to(session=session, slot_ids=[slot.id])[slot.id]
    form = conference_booking.form_of(slot=slot, invited=invited, timezone=_timezone(request))
    return _form_page(request, session, school_class=school_class, students=students, form=form, errors={}, slot=slot)


@router.post("/conferences/{slot_id:int}/edit")
def update_slot(
    request: Request, slot_id: PathId, user: CurrentUser, session: SessionDep,
    student_id: ShortText = "", date: ShortText = "", time: ShortText = "", duration: ShortText = "",
    location: ShortText = "", note: LongText = "", guardian_ids: Ids = [], guardians_for: ShortText = "",
    version: ShortText = "",
) -> Response:
    """Save the changes and tell the student and invited families, or show the form again with what to fix (or that
    someone changed the slot since the form was opened)."""
    slot, school_class = conferences.slot_for_teacher(session=session, user=user, slot_id=slot_id)
    students = conferences.students_of_class(session=session, school_class=school_class)
    form = conference_booking.SlotForm(student_id, date, time, duration, location, note, list(guardian_ids), guardians_for)
    data = conference_booking.parse_slot(session=session, school_class=school_class, students=students, form=form,
                                         timezone=_timezone(request), slot_id=slot.id)
    errors = data.errors
    seen_version = parse_version(version)
    refused = None
    if not errors:
        try:
            with keeping_typed_text(session):
                claim_version(session=session, row=slot, version=seen_version)
                conference_booking.update_slot(session=session, slot=slot, data=data, timezone=_timezone(request))
                message = _("The conference for %(name)s is now on %(when)s; the family has been told.",
                            name=data.student.display_name, when=conferences.format_when(slot.starts_at, _timezone(request)))
                session.commit()
        except SaveRefused as problem:
            refused, errors = problem, {"form": problem.message}
    if errors:
        form = _posted_form(session, student_id=student_id, date=date, time=time, duration=duration, location=location,
                            note=note, guardian_ids=guardian_ids, guardians_for=guardians_for, students=students)
        conflict = refused.current if refused else None
        return _form_page(request, session, school_class=school_class, students=students, form=form, errors=errors,
                          slot=slot, status_code=refused.status if refused else 422, conflict=conflict,
                          version=conflict.version if conflict else seen_version)
    return redirect_with(request, f"/classes/{school_class.id}/conferences", message)


@router.get("/conferences/{slot_id:int}/cancel")
def confirm_cancel(request: Request, slot_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Ask before cancelling a slot."""
    slot, school_class = conferences.slot_for_teacher(session=session, user=user, slot_id=slot_id)
    student = session.get(User, slot.student_id)
    invited = conferences.invited_to(session=session, slot_ids=[slot.id])[slot.id]
    view = conferences.SlotView(slot, student, school_class, invited)
    return render(request, "conferences/cancel.html", {"view": view, "timezone": _timezone(request)})


@router.post("/conferences/{slot_id:int}/cancel")
def cancel_slot(request: Request, slot_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Cancel the slot and tell the student and invited families."""
    slot, school_class = conferences.slot_for_teacher(session=session, user=user, slot_id=slot_id)
    student = session.get(User, slot.student_id)
    when = conferences.format_when(slot.starts_at, _timezone(request))
    conference_booking.cancel_slot(session=session, slot=slot, timezone=_timezone(request))
    session.commit()
    name = student.display_name if student else ""
    return redirect_with(request, f"/classes/{school_class.id}/conferences",
                         _("The conference for %(name)s on %(when)s is cancelled; the family has been told.",
                           name=name, when=when))


# --- everyone's own conferences ----------------------------------------------------------------------------


@router.get("/conferences")
def my_conferences(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Teachers: their classes and the next slots. Families: the slots they're invited to. Students: their own."""
    context = {"timezone": _timezone(request), "role": user.role.value}
    if user.role is Role.teacher:
        context["teacher"] = conferences.for_teacher(session=session, teacher=user)
    elif user.role is Role.guardian:
        context["own"] = conferences.for_guardian(session=session, guardian=user)
    elif user.role is Role.student:
        context["own"] = conferences.for_student(session=session, student=user)
    return render(request, "conferences/index.html", context)
