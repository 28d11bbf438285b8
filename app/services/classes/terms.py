"""School years and terms: the admin makes them, every class belongs to one, and at the year's end the classes of
one term roll over into the next (new classes with the same teachers and students; the old ones archived, read-only,
kept as history; every portfolio stays with its student)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from app.access import not_found, relationships
from app.i18n import _
from app.models import AuditEventKind, ClassRole, EnrolledVia, SchoolClass, SchoolTerm, User
from app.services.accounts import audit
from app.services.classes import classes
from app.services.forms import FormInput

MAX_TERM_NAME = 40  # a class's term words hold at most 40
MAX_YEAR = 20


@dataclass
class TermInput(FormInput):
    name: str
    school_year: str
    starts_on: date | None = None
    ends_on: date | None = None


def _date(raw: str) -> tuple[date | None, bool]:
    if not raw.strip():
        return None, True
    try:
        return date.fromisoformat(raw.strip()), True
    except ValueError:
        return None, False


def parse_term(*, session: Session, school_id: int, name: str, school_year: str, starts_on: str, ends_on: str
               ) -> TermInput:
    """A new term's fields, cleaned, and a message beside each one to fix (names are unique in a school)."""
    data = TermInput(name=" ".join(name.split()), school_year=" ".join(school_year.split()))
    errors = data.errors
    if not data.school_year:
        errors["school_year"] = _("Say which school year, for example “2026–27”.")
    elif len(data.school_year) > MAX_YEAR:
        errors["school_year"] = _("Keep the year under %(max)s characters.", max=MAX_YEAR)
    data.name = data.name or data.school_year
    if len(data.name) > MAX_TERM_NAME:
        errors["name"] = _("Keep the name under %(max)s characters.", max=MAX_TERM_NAME)
    elif data.name and session.exec(select(SchoolTerm.id).where(SchoolTerm.school_id == school_id,
                                                                SchoolTerm.name == data.name)).first() is not None:
        errors["name"] = _("The school already has a term called “%(name)s”.", name=data.name)
    data.starts_on, ok = _date(starts_on)
    if not ok:
        errors["starts_on"] = _("Use a date like 2026-09-01.")
    data.ends_on, ok = _date(ends_on)
    if not ok:
        errors["ends_on"] = _("Use a date like 2026-09-01.")
    elif data.starts_on and data.ends_on and data.ends_on <= data.starts_on:
        errors["ends_on"] = _("The end must come after the start.")
    return data


def create_term(*, session: Session, actor: User, data: TermInput, address: str | None) -> SchoolTerm:
    """A new term in the actor's school."""
    term = SchoolTerm(school_id=actor.school_id, name=data.name, school_year=data.school_year,
                      starts_on=data.starts_on, ends_on=data.ends_on)
    session.add(term)
    session.flush()
    audit.record(session=session, event=AuditEventKind.term_created, actor=actor, object_description=term.name,
                 address=address, details={"term_id": term.id})
    return term


def terms_of_school(*, session: Session, school_id: int) -> list[SchoolTerm]:
    """The school's terms: current ones first, then the archived (history), newest first within each."""
    return list(session.exec(
        select(SchoolTerm).where(SchoolTerm.school_id == school_id)
        .order_by(SchoolTerm.archived, SchoolTerm.created_at.desc(), SchoolTerm.id.desc())
    ).all())


def term_for_admin(*, session: Session, admin: User, term_id: int) -> SchoolTerm:
    """A term of the admin's school, or 404."""
    term = session.get(SchoolTerm, term_id)
    if term is None or term.school_id != admin.school_id:
        raise not_found()
    return term


def class_choices(*, session: Session, school_id: int) -> list[SchoolClass]:
    """The school's classes that are not archived, by name (for pickers and filters)."""
    return list(session.exec(
        select(SchoolClass).where(SchoolClass.school_id == school_id, SchoolClass.archived == False)  # noqa: E712
        .order_by(SchoolClass.name, SchoolClass.id)
    ).all())


def assign_teacher(*, session: Session, school_class: SchoolClass, teacher: User, actor: User, address: str | None
                   ) -> bool:
    """Make `teacher` a teacher of the class (recorded); False when they already were."""
    if relationships.enrolment(session=session, class_id=school_class.id, user_id=teacher.id) is not None:
        return False
    classes.enroll(session=session, school_class=school_class, user=teacher, role=ClassRole.teacher,
                   via=EnrolledVia.admin)
    audit.record(session=session, event=AuditEventKind.enrolled, actor=actor, subject=teacher,
                 school_id=school_class.school_id, object_description=school_class.name, address=address,
                 details={"class_id": school_class.id, "role": ClassRole.teacher.value, "via": EnrolledVia.admin.value,
                          "teachers": [teacher.display_name]})
    return True


# --- rolling over at the year's end -------------------------------------------------------------------------


@dataclass
class RolloverRow:
    """One class of the old term and what becomes of it."""

    school_class: SchoolClass
    carry_on: bool = True
    new_name: str = ""
    teachers: list[User] = field(default_factory=list)
    students: list[User] = field(default_factory=list)


def rollover_rows(*, session: Session, term: SchoolTerm) -> list[RolloverRow]:
    """The term's live classes with their (active) teachers and students (two queries)."""
    from app.services.accounts.people import classes_in_term

    return [RolloverRow(view.school_class, new_name=view.school_class.name, teachers=view.teachers,
                        students=view.students)
            for view in classes_in_term(session=session, term_id=term.id, archived=False)]


@dataclass(kw_only=True)
class RolloverInput(FormInput):
    target: SchoolTerm | None = None
    rows: list[RolloverRow] = field(default_factory=list)


def parse_rollover(*, rows: list[RolloverRow], target: SchoolTerm | None, carry: set[str], names: dict[str, str]
                   ) -> RolloverInput:
    """Read the form into `rows` (which classes carry on, under which names); a message per field to fix."""
    data = RolloverInput(target=target, rows=rows)
    errors = data.errors
    if target is None:
        errors["target_term_id"] = _("Choose the term the classes move into (add it first if it isn't listed).")
    for row in rows:
        key = str(row.school_class.id)
        row.carry_on = key in carry
        row.new_name = " ".join(names.get(key, row.school_class.name).split())
        if row.carry_on and not row.new_name:
            errors[f"name_{key}"] = _("Give the new class a name.")
        elif row.carry_on and len(row.new_name) > 120:
            errors[f"name_{key}"] = _("Keep the name under %(max)s characters.", max=120)
    return data


def roll_over(*, session: Session, actor: User, old_term: SchoolTerm, new_term: SchoolTerm, rows: list[RolloverRow],
              address: str | None) -> list[SchoolClass]:
    """Make the new term's classes (same teachers, same students), then archive the old term and all its classes.

    Nothing is deleted: the old classes stay readable as history, and every portfolio belongs to its student."""
    made = []
    for row in rows:
        if not row.carry_on:
            continue
        data = classes.ClassInput(name=row.new_name, year="", term=None)
        classes.apply_term(data=data, term=new_term)
        new_class = classes.create_class(session=session, school_id=actor.school_id, data=data, teacher=None,
                                         actor=actor, address=address)
        for teacher in row.teachers:
            assign_teacher(session=session, school_class=new_class, teacher=teacher, actor=actor, address=address)
        classes.add_students(session=session, school_class=new_class, students=row.students, via=EnrolledVia.admin,
                             actor=actor, address=address, tell=False)
        made.append(new_class)
    for row in rows:
        row.school_class.archived = True
        session.add(row.school_class)
    old_term.archived = True
    session.add(old_term)
    audit.record(session=session, event=AuditEventKind.classes_rolled_over, actor=actor, object_description=old_term.name,
                 address=address, details={"from_term_id": old_term.id, "to_term_id": new_term.id,
                                           "archived": [row.school_class.id for row in rows],
                                           "created": [c.id for c in made]})
    return made
