"""Applying a roster plan (app.services.roster_import.plan) to a school: each change through the same services and
audit records as an admin's own hands. New accounts get no password (none is hashed here): each gets a setup link,
returned so the admin can hand them out. Nothing is deleted: people are switched off, classes and terms archived."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.access import relationships
from app.models import AuditEventKind, ClassRole, EnrolledVia, GuardianLink, Role, SchoolClass, SchoolTerm, User
from app.models.base import utcnow
from app.services.accounts import audit, people_admin, setup_links
from app.services.classes import classes, terms
from app.services.roster_import.changes import Change, Plan

# Matches no password: argon2 can't read it, so signing in fails until the person chooses one through their link.
NO_PASSWORD = "!oneroster-setup-link"
Progress = Callable[[int, int, str], None]


@dataclass
class NewAccount:
    user: User
    link: str


def _no_progress(_done: int, _total: int, _stage: str) -> None:
    pass


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


class _Applier:
    def __init__(self, session: Session, settings: Settings, actor: User, address: str | None, progress: Progress,
                 total: int) -> None:
        self.session, self.settings, self.actor, self.address = session, settings, actor, address
        self.school_id = actor.school_id
        self.progress, self.total, self.done = progress, total, 0

    def tick(self, stage: str) -> None:
        self.done += 1
        if self.done % 25 == 0 or self.done == self.total:
            self.progress(self.done, self.total, stage)

    def _by_sid(self, model, sids: set[str]) -> dict:
        if not sids:
            return {}
        return {row.sourced_id: row for row in self.session.exec(select(model).where(
            model.school_id == self.school_id, model.sourced_id.in_(sids)))}

    def _by_id(self, model, changes: list[Change]) -> dict:
        ids = {c.existing_id for c in changes if c.existing_id is not None}
        return {row.id: row for row in self.session.exec(select(model).where(model.id.in_(ids)))} if ids else {}

    def terms(self, plan: Plan) -> None:
        changes = plan.of("term")
        existing = self._by_id(SchoolTerm, changes)
        for change in changes:
            values = change.values
            if change.action == "create":
                data = terms.TermInput(name=values["name"], school_year=values["school_year"],
                                       starts_on=_day(values["starts_on"]), ends_on=_day(values["ends_on"]))
                term = terms.create_term(session=self.session, actor=self.actor, data=data, address=self.address)
                term.sourced_id = change.key
            else:
                term = existing[change.existing_id]
                if change.action == "archive":
                    term.archived = True
                else:
                    for name in ("name", "school_year", "sourced_id"):
                        if name in values:
                            setattr(term, name, values[name])
                    term.starts_on, term.ends_on = _day(values.get("starts_on")), _day(values.get("ends_on"))
            self.session.add(term)
            self.tick(_("Terms"))
        self.session.flush()

    def people(self, plan: Plan) -> list[User]:
        changes = plan.of("person")
        existing = self._by_id(User, changes)
        created = []
        for change in changes:
            values = change.values
            if change.action == "create":
                user = User(school_id=self.school_id, role=Role(values["role"]), username=values["username"],
                            display_name=values["display_name"], email=values["email"], password_hash=NO_PASSWORD,
                            sourced_id=change.key, is_active=values["active"],
                            deactivated_at=None if values["active"] else utcnow())
                self.session.add(user)
                created.append(user)
            elif change.action == "update":
                user = existing[change.existing_id]
                for name, value in values.items():
                    setattr(user, name, value)
                self.session.add(user)
                audit.record(session=self.session, event=AuditEventKind.account_updated, actor=self.actor, subject=user,
                             address=self.address, details={"changed": sorted(values), "via": "oneroster"})
            elif change.action == "deactivate":
                # Marked, so the next import can tell a person switched off by hand in Folio (people.plan_people).
                people_admin.deactivate(session=self.session, actor=self.actor, target=existing[change.existing_id],
                                        address=self.address, details={"via": "oneroster"})
            else:
                people_admin.reactivate(session=self.session, actor=self.actor, target=existing[change.existing_id],
                                        address=self.address, details={"via": "oneroster"})
            self.tick(_("People"))
        self.session.flush()
        for user in created:
            audit.record(session=self.session, event=AuditEventKind.account_created, actor=self.actor, subject=user,
                         address=self.address, details={"role": user.role.value, "start_with": "link",
                                                        "via": "oneroster"})
        return created

    def classes(self, plan: Plan) -> None:
        changes = plan.of("class")
        existing = self._by_id(SchoolClass, changes)
        term_of = self._by_sid(SchoolTerm, {c.values["term_sid"] for c in changes if c.values.get("term_sid")})
        for change in changes:
            if change.action == "archive":
                school_class = existing[change.existing_id]
                school_class.archived = True
                self.session.add(school_class)
                self.tick(_("Classes"))
                continue
            term = term_of.get(change.values.get("term_sid"))
            data = classes.ClassInput(name=change.values["name"], year="", term=None)
            if term is not None:
                classes.apply_term(data=data, term=term)
            if change.action == "create":
                school_class = classes.create_class(session=self.session, school_id=self.school_id, data=data,
                                                    teacher=None, actor=self.actor, address=self.address)
                school_class.sourced_id = change.key
            else:
                school_class = existing[change.existing_id]
                school_class.name = data.name
                if term is not None:
                    school_class.year, school_class.term, school_class.term_id = data.year, data.term, data.term_id
            self.session.add(school_class)
            self.tick(_("Classes"))
        self.session.flush()

    def enrolments(self, plan: Plan) -> None:
        changes = plan.of("enrolment")
        pairs = [change.key.split("|", 1) for change in changes]
        class_of = self._by_sid(SchoolClass, {c for c, _u in pairs})
        user_of = self._by_sid(User, {u for _c, u in pairs})
        students: dict[str, list[User]] = {}
        for change, (class_sid, user_sid) in zip(changes, pairs):
            school_class, user = class_of[class_sid], user_of[user_sid]
            if change.action == "remove":
                enrollment = relationships.enrolment(session=self.session, class_id=school_class.id, user_id=user.id)
                if enrollment is not None:
                    self.session.delete(enrollment)
                    audit.record(session=self.session, event=AuditEventKind.unenrolled, actor=self.actor,
                                 subject=user, object_description=school_class.name, address=self.address,
                                 details={"class_id": school_class.id, "role": enrollment.role.value, "via": "oneroster"})
            elif change.values["role"] == ClassRole.teacher.value:
                terms.assign_teacher(session=self.session, school_class=school_class, teacher=user, actor=self.actor,
                                     address=self.address)
            else:
                students.setdefault(class_sid, []).append(user)
            self.tick(_("Enrolments"))
        self.session.flush()  # teachers first, so each student's enrolment record names them
        for class_sid, members in students.items():
            classes.add_students(session=self.session, school_class=class_of[class_sid], students=members,
                                 via=EnrolledVia.admin, actor=self.actor, address=self.address, tell=False)
        self.session.flush()

    def links(self, plan: Plan) -> None:
        changes = plan.of("link")
        pairs = [change.key.split("|", 1) for change in changes]
        user_of = self._by_sid(User, {sid for pair in pairs for sid in pair})
        for guardian_sid, student_sid in pairs:
            guardian, student = user_of[guardian_sid], user_of[student_sid]
            self.session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
            audit.record(session=self.session, event=AuditEventKind.guardian_linked, actor=self.actor,
                         subject=student, address=self.address,
                         details={"guardian_id": guardian.id, "guardian_name": guardian.display_name,
                                  "via": "oneroster"})
            self.tick(_("Families"))
        self.session.flush()


def apply_plan(*, session: Session, settings: Settings, actor: User, plan: Plan, address: str | None = None,
               progress: Progress | None = None) -> list[NewAccount]:
    """Make every change of `plan` in the actor's school (the caller commits); the new accounts with their links."""
    applier = _Applier(session, settings, actor, address, progress or _no_progress, total=len(plan.changes))
    applier.terms(plan)
    created = applier.people(plan)
    applier.classes(plan)
    applier.enrolments(plan)
    applier.links(plan)
    made = []
    for user in sorted(created, key=lambda u: (u.role.value, u.display_name.lower(), u.id)):
        if user.is_active:
            token = setup_links.create_link(session=session, actor=actor, user=user, settings=settings,
                                            address=address)
            made.append(NewAccount(user=user, link=setup_links.link_address(settings=settings, token=token)))
    session.flush()
    return made


def accounts_csv(accounts: list[NewAccount]) -> str:
    """The new accounts as CSV for the admin to print or mail merge: name, username, role, email, setup link."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Name"), _("Username"), _("Role"), _("Email"), _("Setup link")])
    for account in accounts:
        user = account.user
        writer.writerow([_safe_cell(user.display_name), user.username, user.role.value, user.email or "", account.link])
    return "\ufeff" + out.getvalue()  # the byte-order mark makes spreadsheets read it as UTF-8


def _safe_cell(text: str) -> str:
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

