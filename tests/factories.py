"""Test data builders: short, explicit, overridable."""

from __future__ import annotations

import itertools

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import ClassRole, EnrolledVia, GuardianLink, Role, School, SchoolClass, User
from app.services.accounts.accounts import create_user
from app.services.classes.classes import enroll, new_join_code

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


def make_school(session: Session, name: str | None = None) -> School:
    school = School(name=name or f"School {next(_sequence)}")
    session.add(school)
    session.commit()
    return school


def make_user(session: Session, school: School, role: Role = Role.student, **overrides) -> User:
    n = next(_sequence)
    values = dict(username=f"{role.value}{n}", display_name=f"{role.value.title()} {n}", password=PASSWORD)
    values.update(overrides)
    user = create_user(session=session, school_id=school.id, role=role, **values)
    session.commit()
    return user


def make_class(
    session: Session, school: School, *, teachers: list[User] = (), students: list[User] = (), name: str | None = None,
    via: EnrolledVia = EnrolledVia.admin,
) -> SchoolClass:
    school_class = SchoolClass(
        school_id=school.id, name=name or f"Class {next(_sequence)}", year="2026–27",
        join_code=new_join_code(session=session),
    )
    session.add(school_class)
    session.flush()
    for teacher in teachers:
        enroll(session=session, school_class=school_class, user=teacher, role=ClassRole.teacher, via=via)
    for student in students:
        enroll(session=session, school_class=school_class, user=student, role=ClassRole.student, via=via)
    session.commit()
    return school_class


def link_guardian(session: Session, guardian: User, student: User) -> None:
    session.add(GuardianLink(guardian_id=guardian.id, student_id=student.id))
    session.commit()


def login(client: TestClient, user: User | str, password: str = PASSWORD) -> None:
    """Sign `client` in through the real form; fails the test if that doesn't work."""
    username = user if isinstance(user, str) else user.username
    response = client.post("/login", data={"identifier": username, "password": password})
    assert response.status_code == 303, response.text
    assert client.cookies.get("folio_session")


def make_framework(
    session: Session,
    school: School,
    *,
    name: str = "Core Competencies",
    levels: tuple[str, ...] = ("Emerging", "Developing", "Proficient", "Extending"),
    competencies: tuple[tuple[str, str, str | None], ...] = (
        ("COM", "Communication", None), ("COM.1", "Communicating", "COM"), ("THK", "Thinking", None),
    ),
    classes: list[SchoolClass] = (),
):
    """A framework with a scale and (code, name, parent code) competencies, optionally used by classes."""
    from app.models import ClassFramework, Competency, Framework, ProficiencyLevel

    framework = Framework(school_id=school.id, name=name, description="")
    session.add(framework)
    session.flush()
    for position, label in enumerate(levels, start=1):
        session.add(ProficiencyLevel(framework_id=framework.id, position=position, label=label, descriptor=f"{label} descriptor"))
    by_code: dict[str, Competency] = {}
    for position, (code, title, parent) in enumerate(competencies):
        competency = Competency(framework_id=framework.id, code=code, name=title, position=position,
                                parent_id=by_code[parent].id if parent else None, description=f"About {title}")
        session.add(competency)
        session.flush()
        by_code[code] = competency
    for school_class in classes:
        session.add(ClassFramework(class_id=school_class.id, framework_id=framework.id))
    session.commit()
    session.refresh(framework)
    return framework


def make_note(session: Session, owner: User, *, title: str = "A note", body: str = "Some words", audience=None,
              occurred_on=None, competency_ids=(), tags=()):
    """A note artefact made through the service (so the timeline and search see it)."""
    from datetime import date

    from app.models import ArtefactKind, Audience
    from app.services.portfolio.artefacts import ArtefactInput, create_text_artefact

    data = ArtefactInput(title=title, body=body, audience=audience or Audience.private,
                         occurred_on=occurred_on or date.today(), competency_ids=set(competency_ids), tags=list(tags))
    artefact = create_text_artefact(session=session, owner=owner, kind=ArtefactKind.note, data=data)
    session.commit()
    return artefact


def make_reflection(session: Session, owner: User, *, title: str = "A reflection", body: str = "I learned",
                    audience=None, draft: bool = False, artefact_ids=(), goal_ids=(), competency_ids=()):
    """A reflection made through the service."""
    from app.models import Audience, ReflectionStatus
    from app.services.portfolio.reflections import ReflectionInput, create_reflection

    data = ReflectionInput(title=title, body=body, audience=audience or Audience.private,
                           status=ReflectionStatus.draft if draft else ReflectionStatus.published,
                           artefact_ids=set(artefact_ids), goal_ids=set(goal_ids), competency_ids=set(competency_ids))
    reflection = create_reflection(session=session, owner=owner, data=data)
    session.commit()
    return reflection


def post_multipart(client: TestClient, url: str, fields: dict, files: dict | None = None, **kwargs):
    """POST as a browser sends a form with enctype=multipart/form-data (fields may hold lists)."""
    pairs = []
    for name, value in fields.items():
        for item in value if isinstance(value, (list, tuple, set)) else [value]:
            pairs.append((name, (None, str(item))))
    for name, (filename, content, content_type) in (files or {}).items():
        pairs.append((name, (filename, content, content_type)))
    if not files:
        pairs.append(("audio", ("", b"", "application/octet-stream")))  # the empty file input a browser sends
    return client.post(url, files=pairs, **kwargs)
