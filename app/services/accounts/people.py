"""Who belongs where: classes, their members, a guardian's children, a school's people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
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
        for enrollment in sorted(school_class.enrollments, key=lambda e: e.user.display_name.lower()):
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
        .outerjoin(User, User.id == teaching.c.user_id)
        .order_by(SchoolClass.year.desc(), SchoolClass.name, SchoolClass.id, sa.func.lower(User.display_name))
    ).all()
    views: dict[int, ClassView] = {}
    for school_class, teacher in rows:
        view = views.setdefault(school_class.id, ClassView(school_class))
        if teacher is not None:
            view.teachers.append(teacher)
    return list(views.values())


def school_classes(*, session: Session, school_id: int) -> list[ClassView]:
    """All active classes of a school, with members."""
    classes = session.exec(_classes_query().where(SchoolClass.school_id == school_id)).all()
    return _class_views(list(classes))


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
    """How many people of each role the school has."""
    roles = session.exec(select(User.role).where(User.school_id == school_id)).all()
    counts = Counter(roles)
    return {role: counts.get(role, 0) for role in Role}


def school_of(*, session: Session, user: User) -> School:
    return session.get(School, user.school_id)


def people_page(*, session: Session, school_id: int, role: Role | None, number: int, size: int = 25) -> Page[User]:
    """One page of a school's people, optionally of one role, by name."""
    statement = select(User).where(User.school_id == school_id)
    if role is not None:
        statement = statement.where(User.role == role)
    return paginate(session, statement.order_by(User.display_name, User.id), number=number, size=size)
