"""What importing a OneRoster set would do to a school, worked out before anything changes: the terms, people,
classes, enrolments and family links to create, update or switch off, and every row that can't be used and why.

Records are matched by their sourcedId (unique per school), so planning the same set twice after applying it finds
nothing to do. A file the manifest calls "bulk" is the whole truth: records an earlier import made that it no longer
lists are switched off (never deleted). Without a manifest, or in "delta" files, only what is listed changes.
People are in app.services.roster_import.people; applying a plan is app.services.roster_import.apply."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from app.i18n import _
from app.models import SchoolClass, SchoolTerm
from app.services.roster_import import people
from app.services.roster_import.changes import Change, Plan
from app.services.roster_import.csv_reader import Problem, RosterSet, Row, is_deleted, parse_date, split_list

MAX_TERM_NAME = 40
MAX_CLASS_NAME = 120


def plan_import(*, session: Session, school_id: int, roster: RosterSet) -> Plan:
    """Everything importing `roster` into the school would change (nothing is written)."""
    plan = Plan(problems=list(roster.problems), version=roster.version)
    for name in roster.ignored_files:
        plan.notes.append(Problem(name, None, _("Folio doesn't use this file, so it was left aside.")))
    if roster.rows("demographics"):
        plan.notes.append(Problem("demographics.csv", None, _("Folio keeps no demographic data: this file was not "
                                                              "read.")))
    if roster.rows("userProfiles"):
        plan.notes.append(Problem("userProfiles.csv", None, _("App logins are not used: new accounts get a setup "
                                                              "link where the person chooses their own password.")))
    term_ids = _plan_terms(session, school_id, roster, plan)
    people.plan_people(session=session, school_id=school_id, roster=roster, plan=plan)
    _plan_classes(session, school_id, roster, plan, term_ids)
    people.plan_enrolments(session=session, school_id=school_id, roster=roster, plan=plan)
    people.plan_links(session=session, school_id=school_id, roster=roster, plan=plan)
    return plan


# --- terms ---------------------------------------------------------------------------------------------------

def _school_year(row: Row, starts: date | None, ends: date | None) -> str:
    if starts and ends and ends.year > starts.year:
        return f"{starts.year}–{str(ends.year)[2:]}"
    year = row.get("schoolYear")
    if year.isdigit() and len(year) == 4:  # OneRoster names a school year by the year it ends in
        return f"{int(year) - 1}–{year[2:]}"
    return (year or row.get("title"))[:20]


def _class_terms(roster: RosterSet) -> dict[str, str]:
    """class sourcedId -> the sourcedId of its term (the first listed; a Folio class belongs to one)."""
    course_years = {r.get("sourcedId"): r.get("schoolYearSourcedId") for r in roster.rows("courses")}
    found = {}
    for row in roster.rows("classes"):
        terms = split_list(row.get("termSourcedIds") or row.get("termSourcedId") or row.get("terms"))
        term = terms[0] if terms else course_years.get(row.get("courseSourcedId"), "")
        if term:
            found[row.get("sourcedId")] = term
    return found


def _plan_terms(session: Session, school_id: int, roster: RosterSet, plan: Plan) -> dict[str, str]:
    """Plan the school terms the classes belong to; returns class sourcedId -> term sourcedId (for known terms)."""
    class_terms = _class_terms(roster)
    rows = {row.get("sourcedId"): row for row in roster.rows("academicSessions") if row.get("sourcedId")}
    wanted = set(class_terms.values()) | set(rows)
    existing = {t.sourced_id: t for t in session.exec(select(SchoolTerm).where(
        SchoolTerm.school_id == school_id, SchoolTerm.sourced_id.in_(wanted)))} if wanted else {}
    names = {t.name: t for t in session.exec(select(SchoolTerm).where(SchoolTerm.school_id == school_id))}
    used_names: set[str] = set()
    for sid, row in rows.items():
        term = existing.get(sid)
        if is_deleted(row):
            if term is not None and not term.archived:
                plan.changes.append(Change("term", "archive", sid, term.name, existing_id=term.id))
            elif term is not None:
                plan.same("term")
            continue
        if term is None and sid not in class_terms.values():
            continue  # a session no class uses (a grading period, last year) makes no term
        starts, ok_start = parse_date(row.get("startDate"))
        ends, ok_end = parse_date(row.get("endDate"))
        if not (ok_start and ok_end):
            plan.note(row, _("A date here isn't one Folio can read (use 2026-09-01 or 01/09/2026); the term is "
                             "kept without it."))
        year = _school_year(row, starts, ends)
        name = " ".join((row.get("title") or year or sid).split())[:MAX_TERM_NAME]
        taken = names.get(name)
        if name in used_names or (taken is not None and taken is not term and taken.sourced_id):
            name = f"{name} {year}"[:MAX_TERM_NAME] if year not in name else f"{name} ({sid})"[:MAX_TERM_NAME]
        used_names.add(name)
        values = {"name": name, "school_year": year, "starts_on": starts and starts.isoformat(),
                  "ends_on": ends and ends.isoformat()}
        if term is None and taken is not None and not taken.sourced_id:
            term = taken  # the admin made this term by hand before the first import: it is the same one
            plan.changes.append(Change("term", "update", sid, name, values | {"sourced_id": sid}, existing_id=term.id))
        elif term is None:
            plan.changes.append(Change("term", "create", sid, name, values))
        else:
            current = {"name": term.name, "school_year": term.school_year,
                       "starts_on": term.starts_on and term.starts_on.isoformat(),
                       "ends_on": term.ends_on and term.ends_on.isoformat()}
            if current != values:
                plan.changes.append(Change("term", "update", sid, name, values, existing_id=term.id))
            else:
                plan.same("term")
    for class_sid, term_sid in class_terms.items():
        if term_sid not in rows and term_sid not in existing:
            row = next(r for r in roster.rows("classes") if r.get("sourcedId") == class_sid)
            plan.note(row, _("Its term “%(term)s” isn't in academicSessions.csv, so the class has no term.",
                             term=term_sid))
    return {c: t for c, t in class_terms.items() if t in rows or t in existing}


# --- classes -------------------------------------------------------------------------------------------------

def _class_name(row: Row, courses: dict[str, Row]) -> str:
    title = row.get("title")
    if not title:
        course = courses.get(row.get("courseSourcedId"))
        title = " ".join(part for part in (course.get("title") if course else "", row.get("classCode")) if part)
    return " ".join(title.split())[:MAX_CLASS_NAME]


def _plan_classes(session: Session, school_id: int, roster: RosterSet, plan: Plan, term_of: dict[str, str]) -> None:
    rows = roster.rows("classes")
    courses = {r.get("sourcedId"): r for r in roster.rows("courses")}
    sids = {r.get("sourcedId") for r in rows}
    existing = {c.sourced_id: c for c in session.exec(select(SchoolClass).where(
        SchoolClass.school_id == school_id, SchoolClass.sourced_id.in_(sids)))} if sids else {}
    terms = {t.id: t.sourced_id for t in session.exec(select(SchoolTerm).where(SchoolTerm.school_id == school_id))}
    seen: set[str] = set()
    for row in rows:
        sid = plan.new_sourced_id(row, seen)
        if sid is None:
            continue
        school_class = existing.get(sid)
        if is_deleted(row):
            if school_class is not None and not school_class.archived:
                plan.changes.append(Change("class", "archive", sid, school_class.name, existing_id=school_class.id))
            elif school_class is not None:
                plan.same("class")
            continue
        name = _class_name(row, courses)
        if not name:
            plan.problem(row, _("The class has no title, and no course title to name it by."))
            continue
        values = {"name": name, "term_sid": term_of.get(sid)}
        if school_class is None:
            plan.changes.append(Change("class", "create", sid, name, values))
        elif school_class.name != name or terms.get(school_class.term_id) != values["term_sid"] and values["term_sid"]:
            plan.changes.append(Change("class", "update", sid, name, values, existing_id=school_class.id))
        else:
            plan.same("class")
    if roster.is_bulk("classes"):
        gone = select(SchoolClass).where(SchoolClass.school_id == school_id, SchoolClass.sourced_id.is_not(None),
                                         SchoolClass.archived == False)  # noqa: E712
        for school_class in session.exec(gone):
            if school_class.sourced_id not in sids:
                plan.changes.append(Change("class", "archive", school_class.sourced_id, school_class.name,
                                           existing_id=school_class.id))
