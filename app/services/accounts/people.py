"""Who belongs where: classes, their members, a guardian's children, a school's people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlalchemy.orm import selectinload
from sqlmodel import Session, select

from app.access import relationships
from app.models import ClassRole, Enrollment, Role, School, SchoolClass, User
from app.pagination import Page, paginate


@dataclass
class ClassView:
    """A class with its teachers and students, ready for a page."""

    school_class: SchoolClass
    teachers: list[User] = field(default_factory=list)
    students: list[User] = field(default_factory=list)


def _class_views(classes: list[SchoolClass]) -> list[ClassView]:
    views = []
    for school_class in classes:
        view = ClassView(school_class)
        # Switched-off accounts keep their enrolments (their history) but leave the daily lists.
        members = [e for e in school_class.enrollments if e.user.is_active]
        for enrollment in sorted(members, key=lambda e: e.user.display_name.lower()):
            (view.teachers if enrollment.role is ClassRole.teacher else view.students).append(enrollment.user)
        views.append(view)
    return views


def _classes_query():
    return (
        select(SchoolClass)
        .where(SchoolClass.archived == False)  # noqa: E712 (SQL expression)
        .options(selectinload(SchoolClass.enrollments).selectinload(Enrollment.user))
        .order_by(SchoolClass.year.desc(), SchoolClass.name)
    )


def classes_of(*, session: Session, user: User, role: ClassRole) -> list[ClassView]:
    """The active classes `user` is enrolled in with `role`, with members (three queries)."""
    member_of = relationships.classes_of(user.id, role)
    classes = session.exec(_classes_query().where(SchoolClass.id.in_(member_of))).all()
    return _class_views(list(classes))


def classes_with_teachers(*, session: Session, user: User, role: ClassRole) -> list[ClassView]:
    """The active classes `user` is enrolled in with `role`, each with its teachers but not its students (one query:
    a student's home names who teaches each class, and needs no row for every classmate)."""
    member_of = relationships.classes_of(user.id, role)
    teaching = relationships.teachers_of_classes(member_of).subquery("teaching")
    rows = session.exec(
        select(SchoolClass, User)
        .where(SchoolClass.archived == False, SchoolClass.id.in_(member_of))  # noqa: E712 (SQL expression)
        .outerjoin(teaching, teaching.c.class_id == SchoolClass.id)
        .outerjoin(User, sa.and_(User.id == teaching.c.user_id, User.is_active == True))  # noqa: E712
        .order_by(SchoolClass.year.desc(), SchoolClass.name, SchoolClass.id, sa.func.lower(User.display_name))
    ).all()
    views: dict[int, ClassView] = {}
    for school_class, teacher in rows:
        view = views.setdefault(school_class.id, ClassView(school_class))
        if teacher is not None:
            view.teachers.append(teacher)
    return list(views.values())


def archived_classes_of(*, session: Session, user: User, role: ClassRole) -> list[SchoolClass]:
    """The archived classes `user` was in with `role`, newest first (their history; one query)."""
    return list(session.exec(
        select(SchoolClass).where(SchoolClass.id.in_(relationships.classes_of(user.id, role)),
                                  SchoolClass.archived == True)  # noqa: E712
        .order_by(SchoolClass.created_at.desc(), SchoolClass.id.desc())
    ).all())


def staff_classes(*, session: Session, user: User) -> list[ClassView]:
    """A teacher's classes (live ones, then archived ones) or an admin's school's live classes, with members (three
    queries): what their home pages list."""
    if user.role is Role.admin:
        return school_classes(session=session, school_id=user.school_id)
    statement = (
        select(SchoolClass)
        .where(SchoolClass.id.in_(relationships.classes_of(user.id, ClassRole.teacher)))
        .options(selectinload(SchoolClass.enrollments).selectinload(Enrollment.user))
        .order_by(SchoolClass.archived, SchoolClass.year.desc(), SchoolClass.name, SchoolClass.id)
    )
    return _class_views(list(session.exec(statement).all()))


def school_classes(*, session: Session, school_id: int) -> list[ClassView]:
    """All active classes of a school, with members."""
    classes = session.exec(_classes_query().where(SchoolClass.school_id == school_id)).all()
    return _class_views(list(classes))


def classes_in_term(*, session: Session, term_id: int, archived: bool | None = None) -> list[ClassView]:
    """A term's classes (live, archived, or both when None) by name, with their active members (three queries)."""
    statement = (select(SchoolClass).where(SchoolClass.term_id == term_id)
                 .options(selectinload(SchoolClass.enrollments).selectinload(Enrollment.user))
                 .order_by(SchoolClass.name, SchoolClass.id))
    if archived is not None:
        statement = statement.where(SchoolClass.archived == archived)
    return _class_views(list(session.exec(statement).all()))


def classes_without_term(*, session: Session, school_id: int) -> list[ClassView]:
    """Live classes made before the school had terms, or by a teacher who chose none."""
    statement = _classes_query().where(SchoolClass.school_id == school_id, SchoolClass.term_id.is_(None))
    return _class_views(list(session.exec(statement).all()))


@dataclass
class ChildView:
    child: User
    classes: list[SchoolClass]


def children_of(*, session: Session, guardian: User) -> list[ChildView]:
    """The students linked to `guardian`, each with their classes."""
    linked = relationships.children_of(guardian.id)
    children = session.exec(
        select(User)
        .where(User.id.in_(linked))
        .options(selectinload(User.enrollments).selectinload(Enrollment.school_class))
        .order_by(User.display_name)
    ).all()
    return [
        ChildView(child, sorted((e.school_class for e in child.enrollments if not e.school_class.archived), key=lambda c: c.name))
        for child in children
    ]


def role_counts(*, session: Session, school_id: int) -> dict[Role, int]:
    """How many active people of each role the school has (as the people list shows them by default)."""
    roles = session.exec(select(User.role).where(User.school_id == school_id, User.is_active == True)).all()  # noqa: E712
    counts = Counter(roles)
    return {role: counts.get(role, 0) for role in Role}


def school_of(*, session: Session, user: User) -> School:
    return session.get(School, user.school_id)


@dataclass
class PeopleFilters:
    """What the admin's people list is narrowed to: words in a name, username or email; a role; a class; a status."""

    search: str = ""
    role: Role | None = None
    class_id: int | None = None
    status: str = "active"  # "active", "inactive" or "all"


STATUSES = ("active", "inactive", "all")


def people_page(*, session: Session, school_id: int, filters: PeopleFilters, number: int, size: int = 25) -> Page[User]:
    """One page of a school's people matching `filters`, by name (two queries)."""
    statement = select(User).where(User.school_id == school_id)
    if filters.role is not None:
        statement = statement.where(User.role == filters.role)
    if filters.status != "all":
        statement = statement.where(User.is_active == (filters.status == "active"))
    if filters.class_id is not None:
        members = relationships.members_of_class(filters.class_id).subquery("members")
        statement = statement.where(User.id.in_(select(members.c.user_id)))
    for word in filters.search.lower().split()[:5]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(or_(func.lower(User.display_name).like(pattern, escape="\\"),
                                        User.username.like(pattern, escape="\\"), User.email.like(pattern, escape="\\")))
    return paginate(session, statement.order_by(func.lower(User.display_name), User.id), number=number, size=size)
