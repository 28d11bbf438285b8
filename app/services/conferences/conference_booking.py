"""Booking conferences: the teacher's form (in the school's time zone), its checks (including overlaps), and
saving, changing and cancelling a slot with everyone involved told. Reading slots is app.services.conferences.conferences."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    ConferenceInvite,
    ConferenceSlot,
    NotificationKind,
    SchoolClass,
    User,
)
from app.models.base import utcnow
from app.services.conferences.conferences import (
    DEFAULT_DURATION,
    LINK,
    MAX_DURATION,
    MAX_LOCATION,
    MAX_NOTE,
    MIN_DURATION,
    ends_at,
    format_when,
    guardians_of,
    local_parts,
    school_zone,
)
from app.services.forms import FormInput
from app.services.moderation.notifications import notify

# --- scheduling: the form ------------------------------------------------------------------------------


@dataclass
class SlotForm:
    """What the teacher typed (strings, as posted). `guardians_for`: the student whose families the form showed."""

    student_id: str = ""
    date: str = ""
    time: str = ""
    duration: str = str(DEFAULT_DURATION)
    location: str = ""
    note: str = ""
    guardian_ids: list[str] = field(default_factory=list)
    guardians_for: str = ""

    def invites(self, guardian: User) -> bool:
        return str(guardian.id) in self.guardian_ids


@dataclass
class SlotInput(FormInput):
    """A checked slot form; ready to save when `ok` (a part that can't be read is None)."""

    student: User | None = None
    starts_at: datetime | None = None  # aware, UTC
    duration_minutes: int | None = None
    location: str = ""
    note: str = ""
    guardian_ids: list[int] = field(default_factory=list)


def blank_form(*, student: User | None, guardians: list[User]) -> SlotForm:
    """A new slot's form: for `student` (if chosen), with every linked guardian invited."""
    if student is None:
        return SlotForm()
    return SlotForm(student_id=str(student.id), guardian_ids=[str(g.id) for g in guardians], guardians_for=str(student.id))


def form_of(*, slot: ConferenceSlot, invited: list[User], timezone: str) -> SlotForm:
    """The edit form filled in from a slot (its time in the school's zone)."""
    day, at = local_parts(slot.starts_at, timezone)
    return SlotForm(student_id=str(slot.student_id), date=day, time=at, duration=str(slot.duration_minutes),
                    location=slot.location, note=slot.note, guardian_ids=[str(g.id) for g in invited],
                    guardians_for=str(slot.student_id))


def chosen_student(*, students: list[User], student_id: str) -> User | None:
    """The class's student with this id (as typed), or None."""
    return next((s for s in students if str(s.id) == student_id.strip()), None)


def _parse_start(form: SlotForm, zone: ZoneInfo, errors: dict[str, str]) -> datetime | None:
    day = moment = None
    if not form.date.strip():
        errors["date"] = _("Choose the day of the conference.")
    else:
        try:
            day = date.fromisoformat(form.date.strip())
        except ValueError:
            errors["date"] = _("Enter the date as year-month-day, for example 2027-01-14.")
    if not form.time.strip():
        errors["time"] = _("Choose the start time.")
    else:
        try:
            moment = time.fromisoformat(form.time.strip())
        except ValueError:
            errors["time"] = _("Enter the time as hours and minutes, for example 18:00.")
    if day is None or moment is None:
        return None
    local = datetime.combine(day, moment.replace(second=0, microsecond=0, tzinfo=None), tzinfo=zone)
    starts_at = local.astimezone(UTC)
    if starts_at.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        # A time skipped when the clocks go forward.
        errors["time"] = _("That time doesn't exist on that day: the clocks change. Choose another time.")
        return None
    return starts_at


def overlapping(
    *, session: Session, class_id: int, starts_at: datetime, duration_minutes: int, exclude_slot_id: int | None = None,
) -> tuple[ConferenceSlot, User] | None:
    """Another slot of the class that overlaps this time (the teacher can't be in two places), with its student."""
    finishes = starts_at + timedelta(minutes=duration_minutes)
    statement = (
        select(ConferenceSlot, User).join(User, User.id == ConferenceSlot.student_id)
        .where(ConferenceSlot.class_id == class_id, ConferenceSlot.starts_at < finishes,
               ConferenceSlot.starts_at > starts_at - timedelta(minutes=MAX_DURATION))
        .order_by(ConferenceSlot.starts_at, ConferenceSlot.id)
    )
    if exclude_slot_id is not None:
        statement = statement.where(ConferenceSlot.id != exclude_slot_id)
    for slot, student in session.exec(statement).all():
        if ends_at(slot) > starts_at:
            return slot, student
    return None


def parse_slot(
    *, session: Session, school_class: SchoolClass, students: list[User], form: SlotForm, timezone: str,
    now: datetime | None = None, slot_id: int | None = None,
) -> SlotInput:
    """The slot the form describes, and a message beside each field to fix (`students`: the class's students;
    `slot_id`: the slot being changed, which can't overlap itself)."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    student = chosen_student(students=students, student_id=form.student_id)
    if student is None:
        errors["student_id"] = _("Choose a student of this class.")
    starts_at = _parse_start(form, school_zone(timezone), errors)
    if starts_at is not None and starts_at < now:
        errors["date"] = _("That day and time have passed. Choose a time still to come.")
    duration = None
    try:
        duration = int(form.duration.strip())
    except ValueError:
        pass
    if duration is None or not MIN_DURATION <= duration <= MAX_DURATION:
        errors["duration"] = _("A conference lasts from %(min)s to %(max)s minutes.", min=MIN_DURATION, max=MAX_DURATION)
    location = " ".join(form.location.split())
    if len(location) > MAX_LOCATION:
        errors["location"] = _("Keep the location under %(max)s characters.", max=MAX_LOCATION)
    note = form.note.strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _("Keep the note under %(max)s characters.", max=MAX_NOTE)
    guardian_ids: list[int] = []
    if student is not None:
        family = {g.id for g in guardians_of(session=session, student_ids=[student.id])[student.id]}
        if form.guardians_for.strip() != str(student.id):
            # The teacher picked another student in the list: show that student's family before saving.
            errors["guardian_ids"] = _("Check which of %(name)s's family to invite, then save again.",
                                       name=student.display_name)
        else:
            try:
                guardian_ids = sorted({int(value) for value in form.guardian_ids})
            except ValueError:
                guardian_ids = [-1]
            if not set(guardian_ids) <= family:
                errors["guardian_ids"] = _("Invite only %(name)s's own family.", name=student.display_name)
    if starts_at is not None and duration is not None and "date" not in errors and "duration" not in errors:
        clash = overlapping(session=session, class_id=school_class.id, starts_at=starts_at, duration_minutes=duration,
                            exclude_slot_id=slot_id)
        if clash is not None:
            other, other_student = clash
            errors["time"] = _("That overlaps %(name)s's conference on %(when)s (%(minutes)s minutes). "
                               "Choose another time.", name=other_student.display_name,
                               when=format_when(other.starts_at, timezone), minutes=other.duration_minutes)
    return SlotInput(student=student, starts_at=starts_at, duration_minutes=duration, location=location, note=note,
                     guardian_ids=guardian_ids, errors=errors)


# --- scheduling: saving, changing, cancelling -------------------------------------------------------


def _tell(*, session: Session, student: User, user_ids: list[int], kind: NotificationKind, starts_at: datetime,
          timezone: str) -> None:
    for user_id in [student.id, *user_ids]:
        notify(session=session, user_id=user_id, kind=kind, link=LINK, name=student.display_name,
               starts_at=starts_at.isoformat(), tz=timezone)


def _set_invites(*, session: Session, slot: ConferenceSlot, guardian_ids: list[int]) -> tuple[set[int], set[int]]:
    """Make the slot's invites exactly `guardian_ids`; returns (added, removed)."""
    current = set(session.exec(select(ConferenceInvite.guardian_id).where(ConferenceInvite.slot_id == slot.id)).all())
    wanted = set(guardian_ids)
    for guardian_id in current - wanted:
        session.delete(session.get(ConferenceInvite, (slot.id, guardian_id)))
    for guardian_id in wanted - current:
        session.add(ConferenceInvite(slot_id=slot.id, guardian_id=guardian_id))
    return wanted - current, current - wanted


def create_slot(
    *, session: Session, school_class: SchoolClass, teacher: User, data: SlotInput, timezone: str,
) -> ConferenceSlot:
    """Book the slot, invite the chosen families, and tell the student and each of them."""
    slot = ConferenceSlot(class_id=school_class.id, student_id=data.student.id, starts_at=data.starts_at,
                          duration_minutes=data.duration_minutes, location=data.location, note=data.note,
                          created_by_id=teacher.id)
    session.add(slot)
    session.flush()
    _set_invites(session=session, slot=slot, guardian_ids=data.guardian_ids)
    _tell(session=session, student=data.student, user_ids=data.guardian_ids, kind=NotificationKind.conference_booked,
          starts_at=slot.starts_at, timezone=timezone)
    return slot


def update_slot(*, session: Session, slot: ConferenceSlot, data: SlotInput, timezone: str) -> ConferenceSlot:
    """Save the changed slot and its invites; tell the student and invited families the new time (and anyone no
    longer invited, or a student who no longer has it, that it is cancelled for them)."""
    old_student = session.get(User, slot.student_id)
    old_start = slot.starts_at
    _added, removed = _set_invites(session=session, slot=slot, guardian_ids=data.guardian_ids)
    slot.student_id = data.student.id
    slot.starts_at = data.starts_at
    slot.duration_minutes = data.duration_minutes
    slot.location = data.location
    slot.note = data.note
    session.add(slot)
    if old_student is not None and old_student.id != data.student.id:
        _tell(session=session, student=old_student, user_ids=sorted(removed), kind=NotificationKind.conference_cancelled,
              starts_at=old_start, timezone=timezone)
    elif removed:
        for guardian_id in sorted(removed):
            notify(session=session, user_id=guardian_id, kind=NotificationKind.conference_cancelled, link=LINK,
                   name=data.student.display_name, starts_at=old_start.isoformat(), tz=timezone)
    _tell(session=session, student=data.student, user_ids=data.guardian_ids, kind=NotificationKind.conference_changed,
          starts_at=data.starts_at, timezone=timezone)
    return slot


def cancel_slot(*, session: Session, slot: ConferenceSlot, timezone: str) -> None:
    """Cancel the slot and tell the student and the invited families."""
    student = session.get(User, slot.student_id)
    invited = list(session.exec(select(ConferenceInvite).where(ConferenceInvite.slot_id == slot.id)).all())
    if student is not None:
        _tell(session=session, student=student, user_ids=[i.guardian_id for i in invited],
              kind=NotificationKind.conference_cancelled, starts_at=slot.starts_at, timezone=timezone)
    for invite in invited:
        session.delete(invite)
    session.flush()
    session.delete(slot)
