"""`folio roster-sync`: pull the roster from a OneRoster REST service and apply it to a school, the same plan and
apply as an admin's CSV import (app.services.roster_import), run by a nightly timer or by hand with --dry-run."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import httpx
from sqlmodel import Session, select

from app.config import Settings
from app.db import make_engine
from app.models import Role, School, User
from app.services.roster_import import apply as roster_apply
from app.services.roster_import.plan import plan_import
from app.services.roster_import.rest import RosterServiceProblem, fetch_roster


def _school_and_admin(session: Session, school_name: str | None) -> tuple[School, User] | str:
    schools = list(session.exec(select(School).where(School.name == school_name) if school_name else select(School)))
    if len(schools) != 1:
        return (f"No school is called {school_name!r}." if school_name and not schools else
                "This Folio holds several schools: name one with --school." if schools else "There is no school yet.")
    admin = session.exec(select(User).where(User.school_id == schools[0].id, User.role == Role.admin,
                                            User.is_active == True).order_by(User.id)).first()  # noqa: E712
    if admin is None:
        return f"{schools[0].name} has no active administrator to record the changes under."
    return schools[0], admin


def roster_sync(*, settings: Settings, args: argparse.Namespace, transport: httpx.BaseTransport | None = None) -> int:
    """Run the sync; 0 when it worked (rows that couldn't be used are listed, and don't fail it), 2 when not."""
    try:
        roster = fetch_roster(base_url=args.url, client_id=args.client_id, client_secret=args.client_secret,
                              token_url=args.token_url, transport=transport)
    except (RosterServiceProblem, httpx.HTTPError, ValueError) as exc:
        print(f"Roster sync failed, nothing was changed: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings)
    try:
        with Session(engine, expire_on_commit=False) as session:
            found = _school_and_admin(session, args.school)
            if isinstance(found, str):
                print(f"Roster sync failed, nothing was changed: {found}", file=sys.stderr)
                return 2
            school, admin = found
            plan = plan_import(session=session, school_id=school.id, roster=roster)
            counts = Counter((change.kind, change.action) for change in plan.changes)
            summary = ", ".join(f"{kind} {action}: {number}" for (kind, action), number in sorted(counts.items()))
            print(f"OneRoster {plan.version} for {school.name}: {summary or 'nothing to change'}.")
            for change in plan.undoing():
                print(f"  undoes a change made in Folio: {change.label}: {change.undoes}")
            for problem in plan.sorted_problems():
                print(f"  left out: {problem.file} row {problem.row or '-'}: {problem.reason}")
            if args.dry_run:
                print("Dry run: nothing was changed.")
                return 0
            made = roster_apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan,
                                           address="folio roster-sync")
            if made and args.links_file:
                args.links_file.write_text(roster_apply.accounts_csv(made), encoding="utf-8")
            session.commit()
    finally:
        engine.dispose()
    if made:
        print(f"{len(made)} new accounts; " + (f"their setup links are in {args.links_file}." if args.links_file else
                                               "make their setup links on the People page, or use --links-file."))
    return 0
