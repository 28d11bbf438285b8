"""Planning the people of a OneRoster set: accounts (students, teachers, families), their class enrolments and the
links between families and their children. Part of app.services.roster_import.plan."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app.i18n import _
from app.labels import role_label
from app.access import relationships
from app.dates import day
from app.models import AuditEvent, AuditEventKind, ClassRole, Role, SchoolClass, User
from app.services.accounts.accounts import USERNAME_PATTERN, looks_like_email
from app.services.roster_import.csv_reader import RosterSet, Row, is_deleted, split_list
from app.services.roster_import.changes import Change, Plan

FOLIO_ROLE = {"student": Role.student, "teacher": Role.teacher, "guardian": Role.guardian, "parent": Role.guardian,
              "relative": Role.guardian}
CLASS_ROLE = {"student": ClassRole.student, "teacher": ClassRole.teacher}
MAX_NAME = 200


def _org_names(roster: RosterSet) -> dict[str, str]:
    return {r.get("sourcedId"): r.get("name") or r.get("sourcedId") for r in roster.rows("orgs")}


def _roles_by_user(roster: RosterSet) -> dict[str, list[tuple[str, str]]]:
    """user sourcedId -> [(OneRoster role, org sourcedId)], from users.csv's role column and 1.2's roles.csv."""
    found: dict[str, list[tuple[str, str]]] = {}
    for row in roster.rows("users"):
        role = row.get("role")
        if role:
            orgs = split_list(row.get("orgSourcedIds")) or [row.get("primaryOrgSourcedId")]
            found.setdefault(row.get("sourcedId"), []).extend((role, org) for org in orgs)
    for row in roster.rows("roles"):
        if row.get("role") and not is_deleted(row):
            found.setdefault(row.get("userSourcedId"), []).append((row.get("role"), row.get("orgSourcedId")))
    return found


def _role_for(plan: Plan, row: Row, roles: list[tuple[str, str]], orgs: dict[str, str]) -> Role | None:
    """The one Folio role of the person, or None (the reason is recorded on the row)."""
    if not roles:
        plan.problem(row, _("No role is given for this person (in users.csv or roles.csv)."))
        return None
    folio = {FOLIO_ROLE.get(role.strip().lower()): (role, org) for role, org in roles}
    known = {key: value for key, value in folio.items() if key is not None}
    if len(known) > 1:
        places = "; ".join(f"{role} ({orgs.get(org, org) or '—'})" for role, org in known.values())
        plan.problem(row, _("This person has different roles: %(roles)s. A Folio account has one role, so they were "
                            "left out: settle it in the student information system, or add them by hand.",
                            roles=places))
        return None
    if not known:
        plan.problem(row, _("Folio imports students, teachers and families; someone whose role is “%(role)s” is left "
                            "out (add staff who need Folio by hand).", role=roles[0][0]))
        return None
    return next(iter(known))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", ".", text.lower()).strip(".-_")[:40]


def _wanted_username(row: Row) -> str:
    raw = row.get("username").lower()
    if USERNAME_PATTERN.match(raw):
        return raw
    candidate = _slug(raw.split("@", 1)[0]) if raw else ""
    if len(candidate) < 3:
        candidate = _slug(f"{row.get('givenName')}.{row.get('familyName')}") or _slug(row.get("sourcedId"))
    return candidate if len(candidate) >= 3 else f"user.{candidate}".strip(".")


def _display_name(row: Row) -> str:
    given = row.get("preferredGivenName") or row.get("givenName")
    family = row.get("preferredFamilyName") or row.get("familyName")
    return " ".join(f"{given} {family}".split())[:MAX_NAME]


def plan_people(*, session: Session, school_id: int, roster: RosterSet, plan: Plan) -> None:
    """Plan every user row: new accounts, changed ones, and those to switch off or back on."""
    rows = roster.rows("users")
    roles = _roles_by_user(roster)
    orgs = _org_names(roster)
    sids = {r.get("sourcedId") for r in rows if r.get("sourcedId")}
    existing = {u.sourced_id: u for u in session.exec(select(User).where(
        User.school_id == school_id, User.sourced_id.in_(sids)))} if sids else {}
    wanted = {_wanted_username(r) for r in rows}
    emails = {r.get("email").lower() for r in rows if r.get("email")}
    holders = list(session.exec(select(User).where(User.username.in_(wanted) | User.email.in_(emails))))
    by_username = {u.username: u for u in holders}
    by_email = {u.email: u for u in holders if u.email}
    used_usernames: set[str] = set()
    used_emails: set[str] = set()
    seen: set[str] = set()
    for row in rows:
        sid = plan.new_sourced_id(row, seen)
        if sid is None:
            continue
        user = existing.get(sid)
        if is_deleted(row):
            if user is not None and user.is_active and user.role is not Role.admin:
                plan.changes.append(Change("person", "deactivate", sid, user.display_name, existing_id=user.id))
            elif user is not None:
                plan.same("person")
            continue
        role = _role_for(plan, row, roles.get(sid, []), orgs)
        if role is None:
            continue
        name = _display_name(row)
        if not name:
            plan.problem(row, _("This person has no name (givenName and familyName are empty)."))
            continue
        username = _wanted_username(row)
        email = row.get("email").lower() or None
        if email and not looks_like_email(email):
            plan.note(row, _("“%(email)s” isn't an email address; the account is kept without it.", email=email))
            email = None
        if user is None:  # an account made by hand before the first import is the same person: it is adopted
            match = by_username.get(username) or (by_email.get(email) if email else None)
            if match is not None and match.school_id == school_id and not match.sourced_id and match.role is role:
                user = match
        holder = by_email.get(email) if email else None
        if email and (email in used_emails or holder is not None and holder is not user):
            plan.note(row, _("Another account already uses %(email)s; this one is kept without an email address.",
                             email=email))
            email = user.email if user is not None else None
        if email:
            used_emails.add(email)
        enabled = row.get("enabledUser").lower() not in ("false", "0", "no")
        if user is None:
            username = _free_username(session, username, by_username, used_usernames, plan, row)
            plan.changes.append(Change("person", "create", sid, name, {"role": role.value, "display_name": name,
                                       "username": username, "email": email, "active": enabled}))
            continue
        used_usernames.add(user.username)
        if user.role is not role:
            plan.problem(row, _("%(name)s is “%(now)s” in Folio but “%(then)s” in this file; Folio doesn't change "
                                "roles from a roster. Change it by hand if it is right.", name=user.display_name,
                                now=role_label(user.role), then=role_label(role)))
            continue
        values = {"display_name": name}
        if email and email != user.email:
            values["email"] = email
        if user.sourced_id != sid:
            values["sourced_id"] = sid
        changed = {k: v for k, v in values.items() if getattr(user, k) != v}
        if changed:
            plan.changes.append(Change("person", "update", sid, name, changed, existing_id=user.id))
        if enabled and not user.is_active:
            plan.changes.append(Change("person", "reactivate", sid, name, existing_id=user.id))
        elif not enabled and user.is_active:
            plan.changes.append(Change("person", "deactivate", sid, name, existing_id=user.id))
        elif not changed:
            plan.same("person")
    _say_what_it_undoes(session, plan)
    if roster.is_bulk("users"):
        gone = select(User).where(User.school_id == school_id, User.sourced_id.is_not(None), User.is_active == True,  # noqa: E712
                                  User.role != Role.admin)
        for user in session.exec(gone):
            if user.sourced_id not in sids:
                plan.changes.append(Change("person", "deactivate", user.sourced_id, user.display_name,
                                           existing_id=user.id))


def _say_what_it_undoes(session: Session, plan: Plan) -> None:
    """Mark the changes that undo what was done by hand in Folio since (the last event of that kind was not an
    import's): a person switched off turned back on, a name or email edited written over. One query."""
    touched = {c.existing_id for c in plan.of("person") if c.action in ("reactivate", "update")}
    if not touched:
        return
    last: dict[tuple[int, str], AuditEvent] = {}
    for event in session.exec(select(AuditEvent).where(
            AuditEvent.event.in_((AuditEventKind.account_deactivated, AuditEventKind.account_updated)),
            AuditEvent.subject_id.in_(touched)).order_by(AuditEvent.at, AuditEvent.id)):
        if event.event is AuditEventKind.account_deactivated:
            last[(event.subject_id, "off")] = event
        for name in (event.details or {}).get("changed") or ():
            last[(event.subject_id, name)] = event
    for change in plan.of("person"):
        if change.existing_id not in touched:
            continue
        user = session.get(User, change.existing_id)  # loaded with the plan: no query
        if change.action == "reactivate":
            # No event: the roster made the account switched off. Syncs from before imports marked their own ran
            # as "folio roster-sync".
            event = last.get((user.id, "off"))
            if _by_hand(event):
                change.undoes = _("switched off in Folio on %(date)s; the roster turns them back on.",
                                  date=day(user.deactivated_at or event.at))
        elif change.action == "update":
            said = []
            renamed, emailed = last.get((user.id, "display_name")), last.get((user.id, "email"))
            if "display_name" in change.values and _by_hand(renamed):
                said.append(_("renamed “%(name)s” in Folio on %(date)s; the roster names them “%(roster)s” again.",
                              name=user.display_name, date=day(renamed.at), roster=change.values["display_name"]))
            if "email" in change.values and _by_hand(emailed):
                said.append(_("email address changed in Folio on %(date)s; the roster puts back “%(email)s”.",
                              date=day(emailed.at), email=change.values["email"]))
            change.undoes = " ".join(said)


def _by_hand(event: AuditEvent | None) -> bool:
    return event is not None and (event.details or {}).get("via") != "oneroster" \
        and event.ip_address != "folio roster-sync"


def _free_username(session: Session, wanted: str, taken: dict, used: set[str], plan: Plan, row: Row) -> str:
    """`wanted`, or wanted2, wanted3... when another account (in any school) or this import has it already."""
    if wanted not in taken and wanted not in used:
        used.add(wanted)
        return wanted
    base = wanted[:37]
    others = set(session.exec(select(User.username).where(User.username.startswith(base))))
    number = 2
    while f"{base}{number}" in others or f"{base}{number}" in used:
        number += 1
    username = f"{base}{number}"
    used.add(username)
    plan.note(row, _("The username “%(wanted)s” is taken; this account gets “%(username)s”.", wanted=wanted,
                     username=username))
    return username


def _planned_people(session: Session, school_id: int, plan: Plan, sids: set[str]) -> dict[str, tuple[Role, int | None, str]]:
    """user sourcedId -> (role, id or None when new, name) for the people the plan keeps or the school has."""
    known = {c.key: (Role(c.values["role"]), None, c.label) for c in plan.of("person", "create")}
    back = {c.key for c in plan.of("person", "reactivate")}
    known |= {u.sourced_id: (u.role, u.id, u.display_name) for u in session.exec(select(User).where(
        User.school_id == school_id, User.sourced_id.in_(sids - set(known)))) if u.is_active or u.sourced_id in back}
    known |= {c.key: (known[c.key][0], known[c.key][1], c.label) for c in plan.of("person", "update") if c.key in known}
    gone = {c.key for c in plan.of("person", "deactivate")}
    return {sid: value for sid, value in known.items() if sid not in gone}


def plan_enrolments(*, session: Session, school_id: int, roster: RosterSet, plan: Plan) -> None:
    """Plan each enrolment: a teacher or student in a class of the set (or of an earlier import)."""
    rows = roster.rows("enrollments")
    people = _planned_people(session, school_id, plan, {r.get("userSourcedId") for r in rows})
    classes = {c.sourced_id: c.name for c in session.exec(select(SchoolClass).where(
        SchoolClass.school_id == school_id, SchoolClass.sourced_id.is_not(None)))}
    classes |= {c.key: c.label for c in plan.changes if c.kind == "class" and c.action in ("create", "update")}
    # Switched off people and archived classes keep their class lists, as history (and for switching back on).
    archived = {c.key for c in plan.of("class", "archive")}
    gone = {c.key for c in plan.of("person", "deactivate")}
    names: dict[str, str] = {}
    current = set()
    back = {c.key for c in plan.of("person", "reactivate")}  # their class lists were kept: not added twice
    for class_sid, user_sid, name in session.exec(relationships.synced_enrolments(school_id, switched_back_on=back)):
        current.add((class_sid, user_sid))
        names[user_sid] = name
    listed: set[tuple[str, str]] = set()
    for row in rows:
        class_sid, user_sid, raw_role = row.get("classSourcedId"), row.get("userSourcedId"), row.get("role").lower()
        key = (class_sid, user_sid)
        label = _("%(person)s in %(class)s", person=people[user_sid][2] if user_sid in people else user_sid,
                  **{"class": classes.get(class_sid) or class_sid})
        if is_deleted(row):
            listed.add(key)
            if key in current:
                plan.changes.append(Change("enrolment", "remove", f"{class_sid}|{user_sid}", label))
            continue
        if key in listed:
            continue  # the same person in the same class twice (a teacher as primary and not): once is enough
        if class_sid in archived or user_sid in gone:
            listed.add(key)
            continue
        if raw_role not in CLASS_ROLE:
            plan.problem(row, _("Folio's classes have teachers and students; a “%(role)s” enrolment is left out.",
                                role=row.get("role") or "—"))
            continue
        if class_sid not in classes:
            plan.problem(row, _("The class “%(id)s” isn't in classes.csv (or couldn't be used).", id=class_sid))
            continue
        if user_sid not in people:
            plan.problem(row, _("The person “%(id)s” isn't in users.csv (or was left out there).", id=user_sid))
            continue
        role = CLASS_ROLE[raw_role]
        if people[user_sid][0].value != role.value:
            plan.problem(row, _("“%(id)s” is “%(role)s” in users.csv but enrolled as “%(as)s”; the enrolment is left "
                                "out.", id=user_sid, role=role_label(people[user_sid][0]),
                                **{"as": role_label(Role(role.value))}))
            continue
        listed.add(key)
        if key in current:
            plan.same("enrolment")
        else:
            plan.changes.append(Change("enrolment", "add", f"{class_sid}|{user_sid}", label, {"role": role.value}))
    if roster.is_bulk("enrollments"):
        for key in sorted(set(current) - listed):
            if key[0] in archived or key[1] in gone:
                continue
            plan.changes.append(Change("enrolment", "remove", f"{key[0]}|{key[1]}", _(
                "%(person)s in %(class)s", person=names.get(key[1], key[1]), **{"class": classes.get(key[0], key[0])})))


def plan_links(*, session: Session, school_id: int, roster: RosterSet, plan: Plan) -> None:
    """Plan the family links from agentSourcedIds (on a child's row or on the guardian's, either way round)."""
    rows = [r for r in roster.rows("users") if r.get("agentSourcedIds") and not is_deleted(r)]
    sids = {r.get("sourcedId") for r in rows} | {a for r in rows for a in split_list(r.get("agentSourcedIds"))}
    people = _planned_people(session, school_id, plan, sids)
    current = set(session.exec(relationships.guardian_links_in_school(school_id)))
    done: set[tuple[str, str]] = set()
    for row in rows:
        sid = row.get("sourcedId")
        if sid not in people:
            continue
        for agent in split_list(row.get("agentSourcedIds")):
            if agent not in people:
                plan.note(row, _("“%(id)s” (in agentSourcedIds) isn't a person of this import; no link was made to "
                                 "them.", id=agent))
                continue
            pair = {people[sid][0]: sid, people[agent][0]: agent}
            if set(pair) != {Role.guardian, Role.student}:
                continue  # a teacher as an agent, or two students: not a family link
            guardian, student = pair[Role.guardian], pair[Role.student]
            if (guardian, student) in done:
                continue
            done.add((guardian, student))
            ids = (people[guardian][1], people[student][1])
            if None not in ids and ids in current:
                plan.same("link")
            else:
                plan.changes.append(Change("link", "add", f"{guardian}|{student}", _(
                    "%(guardian)s, family of %(student)s", guardian=people[guardian][2], student=people[student][2])))
