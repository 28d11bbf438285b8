"""The Riverside School demo: a small, believable school to explore Folio with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


from sqlmodel import Session, select

from app.models import ClassRole, EnrolledVia, GuardianLink, Role, School, SchoolClass, SchoolTerm, User
from app.services.accounts.accounts import create_user
from app.services.classes.classes import enroll, new_join_code
from app.config import Settings
from app.services.demo.demo_credentials import seed_credentials
from app.services.demo.demo_portfolio import seed_portfolios
from app.services.demo.demo_showcase import seed_showcase
from app.storage import Storage

DEMO_SCHOOL = "Riverside School"
DEMO_PASSWORD = "folio-demo"

# (username, display name); the first of each class list is the one the README names.
TEACHERS = [("teacher", "Priya Shah"), ("teacher2", "Daniel Okafor")]
CLASSES = [
    ("Grade 5 Maple", "teacher", [
        ("student", "Maya Chen"), ("noah", "Noah Williams"), ("amara", "Amara Okeke"), ("liam", "Liam O'Connor"),
        ("sofia", "Sofía García"), ("ethan", "Ethan Nguyen"), ("zara", "Zara Ahmed"), ("oliver", "Oliver Brown"),
    ]),
    ("Grade 7 Cedar", "teacher2", [
        ("jonah", "Jonah Chen"), ("aisha", "Aisha Karim"), ("mateo", "Mateo Rossi"), ("hana", "Hana Sato"),
        ("lucas", "Lucas Martin"), ("isla", "Isla MacDonald"), ("kai", "Kai Tanaka"), ("priya", "Priya Patel"),
    ]),
]
# A guardian with two children in different classes (siblings under one login), and two more families.
GUARDIANS = [
    ("family", "Li Chen", ["student", "jonah"]),
    ("family2", "Grace Williams", ["noah"]),
    ("family3", "Fatima Karim", ["aisha"]),
]


@dataclass
class SeedOutcome:
    created: bool
    demo_present: bool
    message: str


def demo_logins() -> list[tuple[str, str]]:
    """The accounts to try, for the console and the README."""
    return [
        ("admin", "school administrator (Alex Morgan)"),
        ("teacher", "teacher of Grade 5 Maple (Priya Shah)"),
        ("student", "student in Grade 5 Maple (Maya Chen)"),
        ("family", "guardian of Maya and Jonah Chen (Li Chen)"),
        ("teacher2", "teacher of Grade 7 Cedar; other students: noah, amara, jonah, aisha..."),
    ]


def _demo_present(session: Session) -> bool:
    return session.exec(select(School.id).where(School.name == DEMO_SCHOOL)).first() is not None


def _this_school_year(*, school_id: int, today: date) -> SchoolTerm:
    """The school year running today (September to June; from August on, the one about to start)."""
    first = today.year if today.month >= 8 else today.year - 1
    label = f"{first}–{str(first + 1)[-2:]}"
    return SchoolTerm(school_id=school_id, name=label, school_year=label, starts_on=date(first, 9, 1),
                      ends_on=date(first + 1, 6, 30))


def seed_demo(*, session: Session, settings: Settings, only_if_empty: bool, store: Storage) -> SeedOutcome:
    """Create Riverside School with its people, classes and a living portfolio, unless it (or, with
    only_if_empty, any school) exists already (`settings` give the address its credentials are signed for)."""
    if _demo_present(session):
        return SeedOutcome(False, True, "The demo school is already here; nothing was added.")
    if only_if_empty and session.exec(select(School.id)).first() is not None:
        return SeedOutcome(False, False, "The database already has a school; the demo was not added.")

    school = School(name=DEMO_SCHOOL)
    session.add(school)
    session.flush()

    def person(role: Role, username: str, name: str) -> User:
        return create_user(session=session, school_id=school.id, role=role, username=username,
                           display_name=name, password=DEMO_PASSWORD)

    person(Role.admin, "admin", "Alex Morgan").email = "office@riverside.example"
    teachers = {u: person(Role.teacher, u, n) for u, n in TEACHERS}
    students: dict[str, User] = {}
    term = _this_school_year(school_id=school.id, today=date.today())
    session.add(term)
    session.flush()
    classes = []
    for class_name, teacher_username, roster in CLASSES:
        school_class = SchoolClass(school_id=school.id, name=class_name, year=term.school_year, term_id=term.id,
                                   join_code=new_join_code(session=session))
        session.add(school_class)
        classes.append((school_class, teacher_username, roster))
        for username, name in roster:
            students[username] = person(Role.student, username, name)
    session.flush()
    for school_class, teacher_username, roster in classes:
        enroll(session=session, school_class=school_class, user=teachers[teacher_username], role=ClassRole.teacher,
               via=EnrolledVia.admin)
        for username, _name in roster:
            enroll(session=session, school_class=school_class, user=students[username], role=ClassRole.student,
                   via=EnrolledVia.roster)
    for username, name, children in GUARDIANS:
        guardian = person(Role.guardian, username, name)
        session.flush()
        for child in children:
            session.add(GuardianLink(guardian_id=guardian.id, student_id=students[child].id))
    session.flush()
    seed_portfolios(session=session, school=school, store=store)
    seed_showcase(session=session, school_id=school.id)
    seed_credentials(session=session, settings=settings, school_id=school.id)
    session.commit()
    return SeedOutcome(True, True, f"Seeded {DEMO_SCHOOL}: 1 admin, 2 teachers, 2 classes of 8 students, 3 families, "
                                   "BC Core Competencies, Maya's portfolio, her conference showcase and two credentials.")
