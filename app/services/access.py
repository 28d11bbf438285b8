"""Who may see a student's items: the one place the audience rules live.

- the student sees everything of theirs;
- their teachers (any class they share as teacher) see everything but drafts;
- classmates (an active class in common whose setting allows it) see items with the "class" audience;
- their guardians see items with the "family" audience;
- nobody else sees anything, and gets 404 (not 403) so existence does not leak.
"""

from __future__ import annotations

from fastapi import HTTPException
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import Audience, ClassRole, Enrollment, GuardianLink, Role, SchoolClass, User

ALL_AUDIENCES = frozenset(Audience)


def not_found() -> HTTPException:
    return HTTPException(status_code=404)


def _shares_class(session: Session, *, viewer_id: int, viewer_role: ClassRole, student_id: int) -> bool:
    theirs = aliased(Enrollment)
    statement = (
        select(Enrollment.id)
        .join(theirs, theirs.class_id == Enrollment.class_id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(
            Enrollment.user_id == viewer_id,
            Enrollment.role == viewer_role,
            theirs.user_id == student_id,
            theirs.role == ClassRole.student,
            SchoolClass.archived == False,  # noqa: E712
        )
    )
    if viewer_role is ClassRole.student:
        # Classmates see "class" items only through a class whose teacher allows it.
        statement = statement.where(SchoolClass.classmates_see_class_items == True)  # noqa: E712
    return session.exec(statement).first() is not None


def visible_audiences(*, session: Session, viewer: User, owner_id: int) -> frozenset[Audience]:
    """The audiences of `owner_id`'s items that `viewer` may see (empty: none at all)."""
    if viewer.id == owner_id:
        return ALL_AUDIENCES
    if viewer.role is Role.teacher:
        if _shares_class(session, viewer_id=viewer.id, viewer_role=ClassRole.teacher, student_id=owner_id):
            return ALL_AUDIENCES
    elif viewer.role is Role.student:
        if _shares_class(session, viewer_id=viewer.id, viewer_role=ClassRole.student, student_id=owner_id):
            return frozenset({Audience.class_})
    elif viewer.role is Role.guardian:
        link = session.exec(
            select(GuardianLink.id).where(GuardianLink.guardian_id == viewer.id, GuardianLink.student_id == owner_id)
        ).first()
        if link is not None:
            return frozenset({Audience.family})
    return frozenset()


def can_see(*, session: Session, viewer: User, owner_id: int, audience: Audience, draft: bool = False) -> bool:
    """True when `viewer` may see one item of `owner_id` with this audience (drafts: the owner only)."""
    if draft and viewer.id != owner_id:
        return False
    return audience in visible_audiences(session=session, viewer=viewer, owner_id=owner_id)


def student_visible_to(*, session: Session, viewer: User, student_id: int) -> User:
    """The student whose portfolio `viewer` may look at (some of), or 404."""
    student = session.get(User, student_id)
    if student is None or student.role is not Role.student:
        raise not_found()
    if not visible_audiences(session=session, viewer=viewer, owner_id=student_id):
        raise not_found()
    return student
