"""Reading the audit log: the admin's filtered pages of a school's events, and a student's own access history.

Events are stored as kinds and snapshots; the words are made here, in the reader's language, when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from app import dates
from app.i18n import _
from app.models import AuditEvent, AuditEventKind, EnrolledVia, User
from app.pagination import Page, paginate
from app.services.forms import FormInput

PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 20
# What gave someone a view of a student's work, or took it away.
ACCESS_EVENTS = (AuditEventKind.enrolled, AuditEventKind.unenrolled, AuditEventKind.guardian_linked,
                 AuditEventKind.guardian_unlinked)


def event_label(kind: AuditEventKind) -> str:
    """What happened, in a few words."""
    return {
        AuditEventKind.sign_in: _("Signed in"),
        AuditEventKind.sign_in_failed: _("Failed sign-in"),
        AuditEventKind.password_changed: _("Changed own password"),
        AuditEventKind.password_reset: _("Password reset"),
        AuditEventKind.account_created: _("Account created"),
        AuditEventKind.account_updated: _("Account edited"),
        AuditEventKind.account_deactivated: _("Account switched off"),
        AuditEventKind.account_reactivated: _("Account switched on"),
        AuditEventKind.account_deleted: _("Account deleted"),
        AuditEventKind.setup_link_created: _("Setup link made"),
        AuditEventKind.setup_link_used: _("Password chosen with a setup link"),
        AuditEventKind.term_created: _("Term added"),
        AuditEventKind.class_created: _("Class created"),
        AuditEventKind.classes_rolled_over: _("Classes rolled over"),
        AuditEventKind.enrolled: _("Added to a class"),
        AuditEventKind.unenrolled: _("Taken out of a class"),
        AuditEventKind.guardian_linked: _("Family member linked"),
        AuditEventKind.guardian_unlinked: _("Family member unlinked"),
        AuditEventKind.invitation_created: _("Family invitation made"),
        AuditEventKind.invitation_revoked: _("Family invitation cancelled"),
        AuditEventKind.export_requested: _("Export"),
        AuditEventKind.import_requested: _("Import"),
        AuditEventKind.share_link_created: _("Secret link made"),
        AuditEventKind.share_link_revoked: _("Secret link turned off"),
        AuditEventKind.item_approved: _("Family item approved"),
        AuditEventKind.item_returned: _("Family item returned"),
        AuditEventKind.credential_issued: _("Open Badges credential awarded"),
        AuditEventKind.credential_revoked: _("Open Badges credential revoked"),
    }[kind]


def via_label(via: str) -> str:
    """How an enrolment was made, in words."""
    labels = {
        EnrolledVia.admin.value: _("by an administrator"),
        EnrolledVia.roster.value: _("account made from a class list"),
        EnrolledVia.teacher_created.value: _("account made for the class"),
        EnrolledVia.join_code.value: _("with the class's join code"),
        EnrolledVia.class_creator.value: _("created the class"),
        EnrolledVia.legacy.value: _("before Folio recorded how"),
    }
    return labels.get(via, via)


def event_summary(event: AuditEvent) -> str:
    """The object and what else is worth a line on the admin's page."""
    details = event.details or {}
    parts = [event.object_description] if event.object_description else []
    if event.event in (AuditEventKind.enrolled, AuditEventKind.unenrolled) and details.get("via"):
        parts.append(via_label(details["via"]))
    if details.get("method") == "sso":
        parts.append(_("single sign-on"))
    if event.event is AuditEventKind.sign_in_failed:
        parts.append(_failure_reason(details))
    if event.event is AuditEventKind.password_reset and details.get("must_change"):
        parts.append(_("must choose a new one"))
    return " · ".join(parts)


def _failure_reason(details: dict) -> str:
    reason = details.get("reason")
    known = {
        "inactive": _("account switched off"),
        "password_off": _("password sign-in is off for this role"),
        "unknown": _("no account matches"),
        "domain": _("email domain not allowed"),
        "unverified": _("email address not confirmed by the provider"),
    }
    if reason in known:
        return known[reason]
    # Single sign-on's protocol failures (wrong state or nonce, expired token...) keep their technical name.
    return _("did not complete (%(reason)s)", reason=reason) if details.get("method") == "sso" else _("wrong password")


def local_time(moment: datetime, timezone: str) -> str:
    """A moment in the school's time zone and the reader's language."""
    return dates.moment(moment, timezone=timezone)


# --- the admin's page ------------------------------------------------------------------------------


@dataclass
class AuditFilters(FormInput):
    event: AuditEventKind | None = None
    person: User | None = None
    since: date | None = None
    until: date | None = None


def parse_filters(
    *, session: Session, school_id: int, event: str, person: str, since: str, until: str
) -> AuditFilters:
    """The filters from the form (a person by username or email, of the admin's school), and a message for each
    one that can't be used (that filter is then left off)."""
    filters = AuditFilters()
    errors = filters.errors
    if event:
        if event in AuditEventKind._value2member_map_:
            filters.event = AuditEventKind(event)
        else:
            errors["event"] = _("Choose one of the kinds of event in the list.")
    wanted = person.strip().lower()
    if wanted:
        found = session.exec(select(User).where(User.school_id == school_id,
                                                sa.or_(User.username == wanted, User.email == wanted))).first()
        if found is None:
            errors["person"] = _("Nobody at your school has the username or email “%(person)s”.", person=person.strip())
        filters.person = found
    for name, raw in (("since", since), ("until", until)):
        if raw:
            try:
                setattr(filters, name, date.fromisoformat(raw))
            except ValueError:
                errors[name] = _("Write the date as year-month-day, for example 2026-09-30.")
    if filters.since and filters.until and filters.since > filters.until:
        errors["until"] = _("The end date is before the start date.")
        filters.until = None
    return filters


def events_page(
    *, session: Session, school_id: int, filters: AuditFilters, timezone: str, number: int, size: int = PAGE_SIZE
) -> Page[AuditEvent]:
    """One page of the school's events, newest first (two queries: the count and the page)."""
    statement = select(AuditEvent).where(AuditEvent.school_id == school_id)
    if filters.event is not None:
        statement = statement.where(AuditEvent.event == filters.event)
    if filters.person is not None:
        statement = statement.where(sa.or_(AuditEvent.actor_id == filters.person.id,
                                           AuditEvent.subject_id == filters.person.id))
    zone = ZoneInfo(timezone)
    if filters.since is not None:
        statement = statement.where(AuditEvent.at >= datetime.combine(filters.since, time(0), tzinfo=zone))
    if filters.until is not None:
        statement = statement.where(
            AuditEvent.at < datetime.combine(filters.until + timedelta(days=1), time(0), tzinfo=zone))
    return paginate(session, statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()), number=number, size=size)


# --- a student's own history -----------------------------------------------------------------------


@dataclass
class AccessEntry:
    event: AuditEvent
    text: str


def access_text(event: AuditEvent) -> str:
    """One line of a student's access history, addressed to the student."""
    details = event.details or {}
    values = {"actor": event.actor_name or _("Someone"), "class": event.object_description,
              "guardian": details.get("guardian_name") or event.object_description,
              "teachers": ", ".join(details.get("teachers") or []) or _("no teacher yet")}
    if event.event is AuditEventKind.enrolled:
        if details.get("via") == EnrolledVia.join_code.value:
            return _("You joined %(class)s with its code. Its teachers (%(teachers)s) can see your work, except "
                     "drafts.", **values)
        if details.get("via") in (EnrolledVia.roster.value, EnrolledVia.teacher_created.value):
            return _("%(actor)s made your account in %(class)s. Its teachers (%(teachers)s) can see your work, "
                     "except drafts.", **values)
        return _("%(actor)s added you to %(class)s. Its teachers (%(teachers)s) can see your work, except drafts.",
                 **values)
    if event.event is AuditEventKind.unenrolled:
        return _("%(actor)s took you out of %(class)s.", **values)
    if event.event is AuditEventKind.guardian_linked:
        return _("%(guardian)s, of your family, can see what you share with your family.", **values)
    if event.actor_id is not None and event.actor_id == event.subject_id:
        return _("You ended %(guardian)s's link to your work.", **values)
    return _("%(actor)s ended %(guardian)s's link to your work.", **values)


def access_history(*, session: Session, student: User, number: int, size: int = HISTORY_PAGE_SIZE) -> Page[AccessEntry]:
    """Who was given (or lost) a view of the student's work, and when: newest first, from the audit log."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.subject_id == student.id, AuditEvent.event.in_(ACCESS_EVENTS))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    page = paginate(session, statement, number=number, size=size)
    return Page([AccessEntry(event, access_text(event)) for event in page.items], page.number, page.size, page.total)
