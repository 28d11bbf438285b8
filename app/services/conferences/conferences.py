"""Student-led conferences: a class's teachers schedule a slot per student and invite the student's family;
everyone involved is told, and each sees their own slots.

Times are entered and shown in the school's time zone (settings.timezone) and stored as aware UTC.
Only the teachers of a slot's class may see its class page, schedule, change or cancel it (anyone else: 404);
a guardian sees only the slots they were invited to, a student only their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from app import dates
from app.models import Audience, ConferenceInvite, ConferenceSlot, Role, SchoolClass, Showcase, User
from app.models.base import utcnow
from app.access import not_found, relationships

MIN_DURATION = 5
MAX_DURATION = 120
DEFAULT_DURATION = 20
MAX_LOCATION = 200
MAX_NOTE = 2000
LINK = "/conferences"


# --- time zones and display ----------------------------------------------------------------------


def school_zone(name: str) -> ZoneInfo:
    """The school's time zone by its IANA name (an unknown name means UTC)."""
    return dates.zone(name)


def format_when(value: datetime, timezone: str) -> str:
    """A conference's date and time in the school's zone and the reader's language, e.g.
    "Thursday, January 14, 2027, 6:00 PM"."""
    return dates.appointment(value, timezone=timezone)


def format_time_of_day(value: datetime, timezone: str) -> str:
    """Only the time of day, in the school's zone (the end of a slot)."""
    return dates.time_of_day(value, timezone=timezone)


def local_parts(value: datetime, timezone: str) -> tuple[str, str]:
    """The date (YYYY-MM-DD) and time (HH:MM) of `value` in the school's zone, for the form's inputs."""
    local = value.astimezone(school_zone(timezone))
    return local.date().isoformat(), local.strftime("%H:%M")


def ends_at(slot: ConferenceSlot) -> datetime:
    return slot.starts_at + timedelta(minutes=slot.duration_minutes)


@dataclass
class SlotView:
    """One slot with the people around it (who it is for, which families are invited, what they can look at)."""

    slot: ConferenceSlot
    student: User
    school_class: SchoolClass | None = None
    guardians: list[User] = field(default_factory=list)  # invited
    showcases: list[Showcase] = field(default_factory=list)  # ready ones the viewer may open

    @property
    def ends_at(self) -> datetime:
        return ends_at(self.slot)

    def when(self, timezone: str) -> str:
        """Start date and time in the school's zone."""
        return format_when(self.slot.starts_at, timezone)

    def until(self, timezone: str) -> str:
        """End time in the school's zone."""
        return format_time_of_day(self.ends_at, timezone)

    def is_past(self, now: datetime) -> bool:
        return self.ends_at <= now


# --- who may manage what -----------------------------------------------------------------------------


def class_for_teacher(*, session: Session, user: User, class_id: int) -> SchoolClass:
    """A class `user` teaches (conferences are its teachers' to schedule), or 404."""
    if user.role is not Role.teacher:
        raise not_found()
    school_class = session.exec(
        select(SchoolClass).where(SchoolClass.id == class_id,
                                  SchoolClass.id.in_(relationships.classes_taught_by(user.id)))
    ).first()
    if school_class is None:
        raise not_found()
    return school_class


def slot_for_teacher(*, session: Session, user: User, slot_id: int) -> tuple[ConferenceSlot, SchoolClass]:
    """A slot of a class `user` teaches, with its class, or 404."""
    slot = session.get(ConferenceSlot, slot_id)
    if slot is None:
        raise not_found()
    return slot, class_for_teacher(session=session, user=user, class_id=slot.class_id)


def students_of_class(*, session: Session, school_class: SchoolClass) -> list[User]:
    """The class's students by name."""
    return list(session.exec(
        select(User).where(User.id.in_(relationships.students_in_class(school_class.id)), User.is_active == True)  # noqa: E712
        .order_by(User.display_name, User.id)
    ).all())


def guardians_of(*, session: Session, student_ids: list[int]) -> dict[int, list[User]]:
    """Each student's linked guardians by name (one query for them all)."""
    result: dict[int, list[User]] = {student_id: [] for student_id in student_ids}
    if not student_ids:
        return result
    links = relationships.guardians_of(student_ids).subquery("links")
    rows = session.exec(
        select(links.c.student_id, User).join(links, links.c.guardian_id == User.id)
        .where(User.is_active == True)  # noqa: E712 (a switched-off family member can't be invited)
        .order_by(User.display_name, User.id)
    ).all()
    for student_id, guardian in rows:
        result[student_id].append(guardian)
    return result


def invited_to(*, session: Session, slot_ids: list[int]) -> dict[int, list[User]]:
    """The guardians invited to each slot, by name (one query for them all)."""
    result: dict[int, list[User]] = {slot_id: [] for slot_id in slot_ids}
    if not slot_ids:
        return result
    rows = session.exec(
        select(ConferenceInvite.slot_id, User).join(User, User.id == ConferenceInvite.guardian_id)
        .where(ConferenceInvite.slot_id.in_(slot_ids)).order_by(User.display_name, User.id)
    ).all()
    for slot_id, guardian in rows:
        result[slot_id].append(guardian)
    return result


# --- a class's conferences page ----------------------------------------------------------------------


@dataclass
class Readiness:
    count: int = 0
    newest_title: str | None = None


@dataclass
class StudentConferences:
    student: User
    readiness: Readiness
    guardians: list[User]
    slots: list[ConferenceSlot]  # upcoming, in time order


@dataclass
class ClassConferences:
    school_class: SchoolClass
    students: list[StudentConferences]
    upcoming: list[SlotView]
    past: list[SlotView]


def ready_showcases(*, session: Session, student_ids) -> dict[int, Readiness]:
    """For each student: how many showcases are ready to present (marked ready, shared beyond the student) and the
    newest one's title. One windowed query; `student_ids` may be a list or a subquery."""
    ranked = (
        select(
            Showcase.owner_id.label("owner_id"), Showcase.title.label("title"),
            sa.func.count().over(partition_by=Showcase.owner_id).label("total"),
            sa.func.row_number().over(partition_by=Showcase.owner_id,
                                      order_by=(Showcase.updated_at.desc(), Showcase.id.desc())).label("rank"),
        )
        .where(Showcase.owner_id.in_(student_ids), Showcase.ready == True,  # noqa: E712
               Showcase.audience != Audience.private)
        .subquery("ranked")
    )
    rows = session.exec(select(ranked.c.owner_id, ranked.c.title, ranked.c.total).where(ranked.c.rank == 1)).all()
    return {owner_id: Readiness(int(total), title) for owner_id, title, total in rows}


def class_conferences(*, session: Session, school_class: SchoolClass, now: datetime | None = None) -> ClassConferences:
    """The class's students with their showcase readiness, families and slots, and the class's slots in time
    order (five queries, whatever the class size)."""
    now = now or utcnow()
    students = students_of_class(session=session, school_class=school_class)
    by_id = {student.id: student for student in students}
    student_ids = relationships.students_in_class(school_class.id)
    readiness = ready_showcases(session=session, student_ids=student_ids) if students else {}
    families = guardians_of(session=session, student_ids=list(by_id))
    rows = session.exec(
        select(ConferenceSlot, User).join(User, User.id == ConferenceSlot.student_id)
        .where(ConferenceSlot.class_id == school_class.id)
        .order_by(ConferenceSlot.starts_at, ConferenceSlot.id)
    ).all()
    invited = invited_to(session=session, slot_ids=[slot.id for slot, _student in rows])
    views = [SlotView(slot, student, school_class, invited[slot.id]) for slot, student in rows]
    upcoming = [view for view in views if not view.is_past(now)]
    past = [view for view in views if view.is_past(now)]
    past.reverse()  # the most recent first
    per_student: dict[int, list[ConferenceSlot]] = {}
    for view in upcoming:
        per_student.setdefault(view.slot.student_id, []).append(view.slot)
    return ClassConferences(
        school_class,
        [StudentConferences(s, readiness.get(s.id, Readiness()), families.get(s.id, []), per_student.get(s.id, []))
         for s in students],
        upcoming, past,
    )


# --- everyone's own conferences ----------------------------------------------------------------------------


@dataclass
class TeacherConferences:
    classes: list[SchoolClass]
    upcoming: list[SlotView]


UPCOMING_LIMIT = 10


def for_teacher(*, session: Session, teacher: User, now: datetime | None = None, limit: int = UPCOMING_LIMIT) -> TeacherConferences:
    """The classes `teacher` teaches (not archived) and the next slots across them (three queries)."""
    now = now or utcnow()
    classes = list(session.exec(
        select(SchoolClass)
        .where(SchoolClass.id.in_(relationships.classes_taught_by(teacher.id)), SchoolClass.archived == False)  # noqa: E712
        .order_by(SchoolClass.name, SchoolClass.id)
    ).all())
    if not classes:
        return TeacherConferences([], [])
    by_id = {c.id: c for c in classes}
    rows = session.exec(
        select(ConferenceSlot, User).join(User, User.id == ConferenceSlot.student_id)
        .where(ConferenceSlot.class_id.in_(list(by_id)),
               ConferenceSlot.starts_at > now - timedelta(minutes=MAX_DURATION))
        .order_by(ConferenceSlot.starts_at, ConferenceSlot.id)
    ).all()
    views = [SlotView(slot, student, by_id[slot.class_id]) for slot, student in rows if ends_at(slot) > now][:limit]
    invited = invited_to(session=session, slot_ids=[v.slot.id for v in views])
    for view in views:
        view.guardians = invited[view.slot.id]
    return TeacherConferences(classes, views)


@dataclass
class OwnConferences:
    upcoming: list[SlotView]
    past: list[SlotView]


def _with_showcases(*, session: Session, viewer: User, views: list[SlotView]) -> list[SlotView]:
    """Attach each child's ready showcases that `viewer` may open (one look-up for every child together)."""
    from app.services.showcases.showcase_items import showcases_visible_among

    visible = showcases_visible_among(session=session, viewer=viewer,
                                      owner_ids=dict.fromkeys(view.student.id for view in views))
    for view in views:
        view.showcases = [s for s in visible[view.student.id] if s.ready]
    return views


def _split(views: list[SlotView], now: datetime) -> OwnConferences:
    upcoming = [v for v in views if not v.is_past(now)]
    past = [v for v in views if v.is_past(now)]
    past.reverse()
    return OwnConferences(upcoming, past)


def _slot_rows(session: Session, statement) -> list[SlotView]:
    rows = session.exec(
        statement.join(User, User.id == ConferenceSlot.student_id)
        .join(SchoolClass, SchoolClass.id == ConferenceSlot.class_id)
        .order_by(ConferenceSlot.starts_at, ConferenceSlot.id)
    ).all()
    return [SlotView(slot, student, school_class) for slot, student, school_class in rows]


def for_guardian(*, session: Session, guardian: User, now: datetime | None = None) -> OwnConferences:
    """The slots `guardian` was invited to (still linked to the child): upcoming ones first, then past ones."""
    now = now or utcnow()
    statement = (
        select(ConferenceSlot, User, SchoolClass)
        .join(ConferenceInvite, ConferenceInvite.slot_id == ConferenceSlot.id)
        .where(ConferenceInvite.guardian_id == guardian.id,
               ConferenceSlot.student_id.in_(relationships.children_of(guardian.id)))
    )
    views = _slot_rows(session, statement)
    return _split(_with_showcases(session=session, viewer=guardian, views=views), now)


def upcoming_for_guardian(*, session: Session, guardian: User, now: datetime | None = None) -> list[SlotView]:
    """The slots `guardian` is invited to that haven't ended, soonest first (for the family home page)."""
    return for_guardian(session=session, guardian=guardian, now=now).upcoming


def for_student(*, session: Session, student: User, now: datetime | None = None) -> OwnConferences:
    """A student's own slots, with the families invited and their own ready showcases."""
    now = now or utcnow()
    views = _slot_rows(session, select(ConferenceSlot, User, SchoolClass).where(ConferenceSlot.student_id == student.id))
    invited = invited_to(session=session, slot_ids=[v.slot.id for v in views])
    for view in views:
        view.guardians = invited[view.slot.id]
    return _split(_with_showcases(session=session, viewer=student, views=views), now)
