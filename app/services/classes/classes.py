"""Classes: creating them, join codes, rosters and membership, and the settings a teacher chooses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import Enum

from sqlmodel import Session, select

from app.access import relationships
from app.config import Settings
from app.models import AuditEventKind, ClassRole, EnrolledVia, Enrollment, NotificationKind, SchoolClass, User
from app.services.accounts import audit
from app.services.accounts import throttle
from app.services.forms import FormInput
from app.services.moderation.notifications import notify

# Read aloud or copied from a board: no look-alike characters.
_JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_join_code(*, session: Session, length: int = 6) -> str:
    """A join code no other class uses."""
    while True:
        code = "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(length))
        if session.exec(select(SchoolClass.id).where(SchoolClass.join_code == code)).first() is None:
            return code


def enroll(*, session: Session, school_class: SchoolClass, user: User, role: ClassRole, via: EnrolledVia) -> Enrollment:
    """Put `user` in `school_class` as a student or teacher, saying how (no audit record: see add_students)."""
    enrollment = Enrollment(class_id=school_class.id, user_id=user.id, role=role, enrolled_via=via)
    session.add(enrollment)
    return enrollment


def class_teachers(*, session: Session, school_class: SchoolClass) -> list[User]:
    """The class's teachers, by name."""
    return list(session.exec(
        select(User).where(User.id.in_(relationships.teachers_in_class(school_class.id)))
        .order_by(User.display_name, User.id)
    ).all())


def _enrolment_record(school_class: SchoolClass, role: ClassRole, via: EnrolledVia, teachers: list[User]) -> dict:
    # The teachers' names as they are now: who was given access to the student's work by this enrolment.
    return {"class_id": school_class.id, "role": role.value, "via": via.value,
            "teachers": [teacher.display_name for teacher in teachers]}


def add_students(
    *, session: Session, school_class: SchoolClass, students: list[User], via: EnrolledVia, actor: User,
    address: str | None, tell: bool,
) -> None:
    """Enrol students, each recorded in the audit log; `tell`: notify them (unless they did it) and all their teachers.

    A constant number of queries however many students (the roster adds up to 500 at once)."""
    if not students:
        return
    teachers = class_teachers(session=session, school_class=school_class)
    details = _enrolment_record(school_class, ClassRole.student, via, teachers)
    for student in students:
        enroll(session=session, school_class=school_class, user=student, role=ClassRole.student, via=via)
        audit.record(session=session, event=AuditEventKind.enrolled, actor=actor, subject=student,
                     school_id=school_class.school_id, object_description=school_class.name, address=address,
                     details=details)
    if tell and students:
        session.flush()
        _tell_about_enrolment(session, school_class=school_class, students=students, via=via, actor=actor)


def _tell_about_enrolment(session: Session, *, school_class: SchoolClass, students: list[User], via: EnrolledVia,
                          actor: User) -> None:
    """The students (unless they joined themselves) and every teacher of theirs, this class's included, get a notice."""
    by_id = {student.id: student for student in students}
    pairs = session.exec(relationships.teachers_of_students(list(by_id))).all()
    kind = NotificationKind.student_joined if via is EnrolledVia.join_code else NotificationKind.student_added
    for student_id, teacher_id in pairs:
        if teacher_id != actor.id:
            notify(session=session, user_id=teacher_id, kind=kind, link=f"/students/{student_id}",
                   name=by_id[student_id].display_name, title=school_class.name, by=actor.display_name)
    for student in students:
        if student.id != actor.id:
            notify(session=session, user_id=student.id, kind=NotificationKind.added_to_class, link="/account#access",
                   name=student.display_name, title=school_class.name, by=actor.display_name)


MAX_PROMPTS = 8
MAX_PROMPT_LENGTH = 200


def class_for_staff(*, session: Session, user: User, class_id: int) -> SchoolClass:
    """A class its teacher (or the school's admin) may manage, or 404."""
    from app.models import Role
    from app.access import not_found

    school_class = session.get(SchoolClass, class_id)
    if school_class is None or school_class.school_id != user.school_id:
        raise not_found()
    if user.role is Role.admin:
        return school_class
    if user.role is not Role.teacher or not relationships.teaches_class(
            session=session, teacher_id=user.id, class_id=class_id):
        raise not_found()
    return school_class


@dataclass(kw_only=True)
class PromptsInput(FormInput):
    prompts: list[str] = field(default_factory=list)


def parse_prompts(*, prompts: str) -> PromptsInput:
    """Prompts, one per line (blank lines dropped), and a message beside the box if there are too many or too long."""
    from app.i18n import _

    data = PromptsInput(prompts=[" ".join(line.split()) for line in prompts.splitlines() if line.strip()])
    if len(data.prompts) > MAX_PROMPTS:
        data.errors["prompts"] = _("Use at most %(max)s prompts (there are %(n)s).", max=MAX_PROMPTS,
                                   n=len(data.prompts))
    elif any(len(prompt) > MAX_PROMPT_LENGTH for prompt in data.prompts):
        data.errors["prompts"] = _("Keep each prompt under %(max)s characters.", max=MAX_PROMPT_LENGTH)
    return data


def set_prompts(*, session: Session, school_class: SchoolClass, prompts: list[str]) -> None:
    """Save the class's reflection prompts; none means Folio's defaults."""
    school_class.reflection_prompts = "\n".join(prompts) or None
    session.add(school_class)


# --- creating a class --------------------------------------------------------------------------


@dataclass
class ClassInput(FormInput):
    name: str
    year: str
    term: str | None
    teacher_id: int | None = None
    term_id: int | None = None  # the school term it belongs to (see app.services.classes.terms)


def teachers_of_school(*, session: Session, school_id: int) -> list[User]:
    """The active teachers of a school, by name (an admin picks one for a new class)."""
    from app.models import Role

    statement = select(User).where(User.school_id == school_id, User.role == Role.teacher, User.is_active == True)  # noqa: E712
    return list(session.exec(statement.order_by(User.display_name, User.id)).all())


def apply_term(*, data: ClassInput, term) -> None:
    """A class in `term` (a SchoolTerm) says the term's year and name in its own year and term words."""
    data.year = term.school_year
    data.term = term.name if term.name != term.school_year else None
    data.term_id = term.id


def parse_class(
    *, name: str, year: str, term: str, teacher_id: str = "", teachers: list[User] | None = None,
    term_id: str = "", school_terms: list | None = None,
) -> ClassInput:
    """A new class's fields, cleaned, and a message for each one to fix (`teachers`: the admin's choices;
    `school_terms`: the live terms to choose from; a chosen term gives the class its year and term words)."""
    from app.i18n import _

    data = ClassInput(name=" ".join(name.split()), year=" ".join(year.split()), term=" ".join(term.split()) or None)
    errors = data.errors
    if not data.name:
        errors["name"] = _("Give the class a name, for example “Grade 5 Room 12”.")
    elif len(data.name) > 120:
        errors["name"] = _("Keep the name under %(max)s characters.", max=120)
    chosen_term = next((t for t in school_terms or [] if str(t.id) == term_id), None) if term_id else None
    if term_id and chosen_term is None:
        errors["term_id"] = _("Choose one of the school's current terms.")
    elif chosen_term is not None:
        apply_term(data=data, term=chosen_term)
    elif not data.year:
        errors["year"] = _("Say which school year, for example “2026–27”.")
    elif len(data.year) > 20:
        errors["year"] = _("Keep the year under %(max)s characters.", max=20)
    if data.term and len(data.term) > 40:
        errors["term"] = _("Keep the term under %(max)s characters.", max=40)
    if teachers is not None and teacher_id:
        chosen = next((t for t in teachers if str(t.id) == teacher_id), None)
        if chosen is None:
            errors["teacher_id"] = _("Choose one of the school's teachers.")
        else:
            data.teacher_id = chosen.id
    return data


def create_class(
    *, session: Session, school_id: int, data: ClassInput, teacher: User | None, actor: User, address: str | None,
) -> SchoolClass:
    """A new class with a fresh join code, taught by `teacher` (if any: the actor, or a teacher an admin chose)."""
    school_class = SchoolClass(
        school_id=school_id, name=data.name, year=data.year, term=data.term, term_id=data.term_id,
        join_code=new_join_code(session=session),
    )
    session.add(school_class)
    session.flush()
    audit.record(session=session, event=AuditEventKind.class_created, actor=actor, school_id=school_id,
                 object_description=school_class.name, address=address,
                 details={"class_id": school_class.id, "term_id": data.term_id})
    if teacher is not None:
        via = EnrolledVia.class_creator if teacher.id == actor.id else EnrolledVia.admin
        enroll(session=session, school_class=school_class, user=teacher, role=ClassRole.teacher, via=via)
        audit.record(session=session, event=AuditEventKind.enrolled, actor=actor, subject=teacher,
                     school_id=school_id, object_description=school_class.name, address=address,
                     details=_enrolment_record(school_class, ClassRole.teacher, via, [teacher]))
    return school_class


# --- the roster ------------------------------------------------------------------------------------


@dataclass
class Roster:
    school_class: SchoolClass
    teachers: list[User] = field(default_factory=list)
    students: list[User] = field(default_factory=list)


def roster(*, session: Session, school_class: SchoolClass) -> Roster:
    """The class's teachers and students by name, in one query however big the class."""
    members = relationships.members_of_class(school_class.id).subquery("members")
    rows = session.exec(
        select(members.c.role, User).join(members, members.c.user_id == User.id)
        .where(User.is_active == True)  # noqa: E712 (switched-off accounts leave the roster; their work is kept)
        .order_by(User.display_name, User.id)
    ).all()
    result = Roster(school_class)
    for role, user in rows:
        (result.teachers if role is ClassRole.teacher else result.students).append(user)
    return result


def student_enrollment(*, session: Session, school_class: SchoolClass, student_id: int) -> tuple[Enrollment, User]:
    """A student's place in the class (and the student), or 404."""
    from app.access import not_found

    enrollment = relationships.enrolment(session=session, class_id=school_class.id, user_id=student_id,
                                         role=ClassRole.student)
    if enrollment is None:
        raise not_found()
    return enrollment, enrollment.user


def remove_student(
    *, session: Session, school_class: SchoolClass, enrollment: Enrollment, student: User, actor: User,
    address: str | None,
) -> None:
    """Take a student out of a class; their portfolio (everything they made) stays theirs."""
    session.delete(enrollment)
    audit.record(session=session, event=AuditEventKind.unenrolled, actor=actor, subject=student,
                 school_id=school_class.school_id, object_description=school_class.name, address=address,
                 details={"class_id": school_class.id, "role": ClassRole.student.value,
                          "via": enrollment.enrolled_via.value})


# --- joining with a code -------------------------------------------------------------------------


class JoinOutcome(str, Enum):
    joined = "joined"
    already_member = "already_member"
    unknown_code = "unknown_code"
    throttled = "throttled"


def normalise_join_code(raw: str) -> str:
    """What a student typed, as stored: upper-case, spaces and dashes dropped."""
    return "".join(ch for ch in raw.upper() if not ch.isspace() and ch != "-")


def join_with_code(
    *, session: Session, student: User, code: str, address: str | None, settings: Settings
) -> tuple[JoinOutcome, SchoolClass | None]:
    """Put `student` in the active class of their school with this code (another school's code: unknown);
    recorded, and their teachers told.

    Wrong codes count in app.services.accounts.throttle (per student and per address): six characters could otherwise
    be guessed by trying many."""
    scope, account = throttle.Scope.join_code, throttle.user_account(student)
    if throttle.is_throttled(session=session, scope=scope, account=account, address=address, settings=settings):
        return JoinOutcome.throttled, None
    value = normalise_join_code(code)
    school_class = session.exec(select(SchoolClass).where(SchoolClass.join_code == value)).first() if value else None
    if school_class is None or school_class.archived or school_class.school_id != student.school_id:
        throttle.record_failure(session=session, scope=scope, account=account, address=address, settings=settings)
        return JoinOutcome.unknown_code, None
    if relationships.enrolment(session=session, class_id=school_class.id, user_id=student.id) is not None:
        return JoinOutcome.already_member, school_class
    add_students(session=session, school_class=school_class, students=[student], via=EnrolledVia.join_code,
                 actor=student, address=address, tell=True)
    return JoinOutcome.joined, school_class


# --- class settings ----------------------------------------------------------------------------------

SETTING_NAMES = (
    "classmates_see_class_items", "peer_comments_need_approval", "family_items_need_approval", "secret_links_allowed",
)


def framework_choices(*, session: Session, school_class: SchoolClass) -> tuple[list, set[int]]:
    """The school's live frameworks a class may use, and the ids of those it uses now."""
    from app.models import ClassFramework, Framework

    frameworks = session.exec(
        select(Framework).where(Framework.school_id == school_class.school_id, Framework.archived == False)  # noqa: E712
        .order_by(Framework.name, Framework.id)
    ).all()
    used = session.exec(select(ClassFramework.framework_id).where(ClassFramework.class_id == school_class.id)).all()
    return list(frameworks), set(used)


def save_settings(
    *, session: Session, school_class: SchoolClass, framework_ids: set[int], allowed_framework_ids: set[int],
    flags: dict[str, bool],
) -> None:
    """Save which frameworks the class uses and its switches (SETTING_NAMES).

    Only the school's live frameworks are offered; links to an archived framework are left alone."""
    from app.models import ClassFramework

    chosen = framework_ids & allowed_framework_ids
    current = set(session.exec(select(ClassFramework.framework_id).where(ClassFramework.class_id == school_class.id)).all())
    for framework_id in (current & allowed_framework_ids) - chosen:
        session.delete(session.get(ClassFramework, (school_class.id, framework_id)))
    for framework_id in chosen - current:
        session.add(ClassFramework(class_id=school_class.id, framework_id=framework_id))
    turning_on_approval = bool(flags.get("family_items_need_approval")) and not school_class.family_items_need_approval
    turning_off_approval = not flags.get("family_items_need_approval") and school_class.family_items_need_approval
    for name in SETTING_NAMES:
        setattr(school_class, name, bool(flags.get(name)))
    session.add(school_class)
    if turning_on_approval:
        # Otherwise the students' family items shared so far would vanish for families with nothing to approve.
        from app.services.moderation.approvals import queue_existing_family_items

        session.flush()
        queue_existing_family_items(session=session, school_class=school_class)
    if turning_off_approval:
        from app.services.moderation.approvals import clear_when_approval_ends

        session.flush()
        clear_when_approval_ends(session=session, school_class=school_class)
