"""OneRoster sets for the roster import tests: the fixture folders under tests/fixtures/oneroster, as ZIP bytes or
(file name, bytes) pairs, and helpers to plan and apply them."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from sqlmodel import Session, select

from app.models import Role, User
from app.services.roster_import import apply as roster_apply
from app.services.roster_import import plan as roster_plan
from app.services.roster_import.csv_reader import read_upload

FIXTURES = Path(__file__).parent / "fixtures" / "oneroster"


def files_of(name: str) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted((FIXTURES / name).iterdir())]


def zip_of(name: str, *, folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file_name, data in files_of(name):
            archive.writestr(f"{folder}{file_name}", data)
    return buffer.getvalue()


def plan_set(session: Session, school_id: int, name: str):
    return roster_plan.plan_import(session=session, school_id=school_id, roster=read_upload(files_of(name)))


def import_set(session: Session, settings, admin: User, name: str):
    """Plan and apply a fixture set as `admin`, committed; (plan, new accounts)."""
    plan = plan_set(session, admin.school_id, name)
    made = roster_apply.apply_plan(session=session, settings=settings, actor=admin, plan=plan)
    session.commit()
    return plan, made


def people_of(session: Session, school_id: int) -> dict[str, User]:
    session.expire_all()
    return {u.sourced_id: u for u in session.exec(select(User).where(User.school_id == school_id,
                                                                       User.role != Role.admin))}
