"""Who is whose: teachers and their students, classmates, guardians and their children.

The only module that reads enrolments and guardian links to decide a relationship; everything else asks here. Only
active (not archived) classes count where a rule is about access (what a class's own page lists counts its members
whether archived or not). Functions named like `students_taught_by` return a SELECT of ids, to use inside a larger
query (so a page gains no query); `is_...` answer one question in one query. tests/test_layout.py fails when another
module reads Enrollment or GuardianLink columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload
from sqlmodel import Session, select

from app.models import ClassRole, EnrolledVia, Enrollment, GuardianLink, Role, SchoolClass, User

_active = SchoolClass.archived == False  # noqa: E712


def students_taught_by(teacher_id: int):
    """A SELECT of the ids of students in the teacher's active classes."""
    mine = aliased(Enrollment)
    return (
        select(Enrollment.user_id)
        .join(mine, mine.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(mine.user_id == teacher_id, mine.role == ClassRole.teacher, Enrollment.role == ClassRole.student, _active)
    )


def teachers_of(student_id: int):
    """A SELECT of the ids of the teachers of the student's active classes."""
    theirs = aliased(Enrollment)
    return (
        select(Enrollment.user_id).distinct()
        .join(theirs, theirs.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(theirs.user_id == student_id, theirs.role == ClassRole.student, Enrollment.role == ClassRole.teacher,
               _active)
    )


def teachers_of_students(student_ids):
    """A SELECT of (student id, teacher id) for the teachers of the students' active classes (`student_ids`: a list
    or a SELECT)."""
    theirs = aliased(Enrollment)
    return (
        select(theirs.user_id, Enrollment.user_id).distinct()
        .join(theirs, theirs.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(theirs.user_id.in_(student_ids), theirs.role == ClassRole.student, Enrollment.role == ClassRole.teacher,
               _active)
    )


def teacher_ids_of(*, session: Session, student_id: int) -> list[int]:
    """Ids of the teachers of the student's active classes (one query)."""
    return list(session.exec(teachers_of(student_id)).all())


def shares_class(*, session: Session, viewer_id: int, viewer_role: ClassRole, student_id: int) -> bool:
    """True when the viewer (as teacher or student) and the student are in one active class."""
    theirs = aliased(Enrollment)
    statement = (
        select(Enrollment.id)
        .join(theirs, theirs.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.user_id == viewer_id, Enrollment.role == viewer_role, theirs.user_id == student_id,
               theirs.role == ClassRole.student, _active)
    )
    return session.exec(statement.limit(1)).first() is not None


def is_teacher_of(*, session: Session, viewer: User, student_id: int) -> bool:
    """True when `viewer` teaches the student in an active class."""
    return viewer.role is Role.teacher and shares_class(
        session=session, viewer_id=viewer.id, viewer_role=ClassRole.teacher, student_id=student_id)


def teaches_through(*, session: Session, teacher_id: int, student_id: int, vias: Iterable[EnrolledVia]) -> bool:
    """True when the teacher teaches the student in an active class the student was enrolled in one of these ways."""
    teaches = aliased(Enrollment)
    return session.exec(
        select(Enrollment.id)
        .join(teaches, teaches.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.user_id == student_id, Enrollment.role == ClassRole.student,
               Enrollment.enrolled_via.in_(list(vias)), teaches.user_id == teacher_id,
               teaches.role == ClassRole.teacher, _active)
        .limit(1)
    ).first() is not None


def is_guardian_of(*, session: Session, guardian_id: int, student_id: int) -> bool:
    """True when the guardian is linked to the student."""
    return session.exec(select(GuardianLink.id).where(
        GuardianLink.guardian_id == guardian_id, GuardianLink.student_id == student_id)).first() is not None


def children_among(*, session: Session, guardian_id: int, student_ids: Iterable[int]) -> set[int]:
    """Those of the students the guardian is linked to (one query)."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(session.exec(children_of(guardian_id).where(GuardianLink.student_id.in_(ids))).all())


def taught_among(*, session: Session, teacher_id: int, student_ids: Iterable[int]) -> set[int]:
    """Those of the students the teacher teaches in an active class (one query)."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(session.exec(students_taught_by(teacher_id).where(Enrollment.user_id.in_(ids))).all())


def classmates_among(*, session: Session, student_id: int, student_ids: Iterable[int], setting) -> set[int]:
    """Those of the students who share an active class with the student where this boolean setting is on (one
    query)."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(session.exec(students_with_class_setting(setting).where(
        Enrollment.class_id.in_(active_classes_of_student(student_id)), Enrollment.user_id.in_(ids))).all())


def children_of(guardian_id: int):
    """A SELECT of the ids of the guardian's linked children."""
    return select(GuardianLink.student_id).where(GuardianLink.guardian_id == guardian_id)


def linked_as_guardian(guardian_id_column, student_id_column):
    """SQL: the guardian is linked to the student now (both given as columns of the outer query)."""
    return select(GuardianLink.id).where(GuardianLink.guardian_id == guardian_id_column,
                                         GuardianLink.student_id == student_id_column).exists()


def guardians_of(student_ids):
    """A SELECT of (student id, guardian id) for the students' guardians (`student_ids`: a list or a SELECT)."""
    return select(GuardianLink.student_id, GuardianLink.guardian_id).where(GuardianLink.student_id.in_(student_ids))


def guardian_links_of(*, session: Session, student_id: int) -> list[tuple[User, GuardianLink]]:
    """The student's guardians, each with their link, by name (one query)."""
    return list(session.exec(
        select(User, GuardianLink).join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == student_id).order_by(User.display_name, User.id)
    ).all())


def linked_guardian(*, session: Session, student_id: int, guardian_id: int) -> User | None:
    """The guardian, when linked to the student (one query)."""
    return session.exec(
        select(User).join(GuardianLink, GuardianLink.guardian_id == User.id)
        .where(GuardianLink.student_id == student_id, GuardianLink.guardian_id == guardian_id)
    ).first()


def first_linked_at(*, session: Session, guardian_id: int) -> datetime | None:
    """When the guardian was first linked to a child (None: never)."""
    return session.exec(
        select(GuardianLink.created_at).where(GuardianLink.guardian_id == guardian_id)
        .order_by(GuardianLink.created_at).limit(1)
    ).first()


def unlink(*, session: Session, guardian_id: int, student_id: int) -> None:
    """End the guardian's link to the student (nothing to end: nothing happens)."""
    session.exec(sa.delete(GuardianLink).where(GuardianLink.guardian_id == guardian_id,
                                               GuardianLink.student_id == student_id))


def students_in_class(class_id: int):
    """A SELECT of the ids of the class's students."""
    return select(Enrollment.user_id).where(Enrollment.class_id == class_id, Enrollment.role == ClassRole.student)


def teachers_in_class(class_id: int):
    """A SELECT of the ids of the class's teachers."""
    return select(Enrollment.user_id).where(Enrollment.class_id == class_id, Enrollment.role == ClassRole.teacher)


def teachers_of_classes(class_ids):
    """A SELECT of (class id, teacher id) for the teachers of the classes (`class_ids`: a list or a SELECT)."""
    return select(Enrollment.class_id, Enrollment.user_id).where(
        Enrollment.class_id.in_(class_ids), Enrollment.role == ClassRole.teacher)


def members_of_class(class_id: int):
    """A SELECT of (user id, class role) for everyone in the class."""
    return select(Enrollment.user_id, Enrollment.role).where(Enrollment.class_id == class_id)


def has_memberships(*, session: Session, user_id: int) -> bool:
    """Whether the user is in any class (archived ones too) or linked to a family, either side."""
    in_class = select(Enrollment.id).where(Enrollment.user_id == user_id)
    linked = select(GuardianLink.id).where(sa.or_(GuardianLink.guardian_id == user_id, GuardianLink.student_id == user_id))
    return bool(session.exec(select(sa.or_(sa.exists(in_class), sa.exists(linked)))).one())


def classes_taught_by(teacher_id: int):
    """A SELECT of the ids of the classes the teacher teaches (archived ones too: they can still read them)."""
    return select(Enrollment.class_id).where(Enrollment.user_id == teacher_id, Enrollment.role == ClassRole.teacher)


def classes_of(user_id: int, role: ClassRole):
    """A SELECT of the ids of the classes the user is in with that role."""
    return select(Enrollment.class_id).where(Enrollment.user_id == user_id, Enrollment.role == role)


def active_classes_of_student(student_id: int):
    """A SELECT of the ids of the student's active classes."""
    return (select(Enrollment.class_id).join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(Enrollment.user_id == student_id, Enrollment.role == ClassRole.student, _active))


def teaches_class(*, session: Session, teacher_id: int, class_id: int) -> bool:
    """True when the teacher is a teacher of this class."""
    return session.exec(select(Enrollment.id).where(
        Enrollment.class_id == class_id, Enrollment.user_id == teacher_id, Enrollment.role == ClassRole.teacher
    )).first() is not None


def enrolment(*, session: Session, class_id: int, user_id: int, role: ClassRole | None = None) -> Enrollment | None:
    """The user's enrolment in the class (with that role, when given), its user loaded in the same query; or None."""
    statement = (select(Enrollment).options(joinedload(Enrollment.user))
                 .where(Enrollment.class_id == class_id, Enrollment.user_id == user_id))
    if role is not None:
        statement = statement.where(Enrollment.role == role)
    return session.exec(statement).first()


def students_with_class_setting(setting) -> sa.Select:
    """A SELECT of the ids of students in an active class where this boolean setting is on."""
    return (select(Enrollment.user_id).join(SchoolClass, SchoolClass.id == Enrollment.class_id)
            .where(Enrollment.role == ClassRole.student, _active, setting == True))  # noqa: E712


def classmates_with_setting(*, session: Session, author_id: int, owner_id: int, setting) -> bool:
    """True when the two students share an active class where this boolean setting is on."""
    theirs = aliased(Enrollment)
    return session.exec(
        select(Enrollment.id)
        .join(theirs, theirs.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.user_id == author_id, Enrollment.role == ClassRole.student, theirs.user_id == owner_id,
               theirs.role == ClassRole.student, _active, setting == True)  # noqa: E712
    ).first() is not None


def classmates_of(student_id: int):
    """A SELECT of (user id) of everyone (teachers and students) in the student's active classes but the student."""
    mine = aliased(Enrollment)
    return (
        select(Enrollment.user_id).distinct()
        .join(mine, mine.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(mine.user_id == student_id, mine.role == ClassRole.student, Enrollment.user_id != student_id, _active)
    )


def synced_enrolments(school_id: int, *, switched_back_on: Iterable[str] = ()) -> sa.Select:
    """A SELECT of (class sourcedId, user sourcedId, user name) for the enrolments a roster import keeps in step:
    active people from a roster (and those it is switching back on, whose class lists were kept) in the school's live
    classes from a roster."""
    active = User.is_active == True  # noqa: E712
    back = list(switched_back_on)
    return (select(SchoolClass.sourced_id, User.sourced_id, User.display_name).select_from(Enrollment)
            .join(SchoolClass, SchoolClass.id == Enrollment.class_id).join(User, User.id == Enrollment.user_id)
            .where(SchoolClass.school_id == school_id, SchoolClass.sourced_id.is_not(None),
                   User.sourced_id.is_not(None), SchoolClass.archived == False,  # noqa: E712
                   sa.or_(active, User.sourced_id.in_(back)) if back else active))


def guardian_links_in_school(school_id: int) -> sa.Select:
    """A SELECT of (guardian id, student id) for every guardian link of the school's students."""
    return (select(GuardianLink.guardian_id, GuardianLink.student_id)
            .join(User, User.id == GuardianLink.student_id).where(User.school_id == school_id))
