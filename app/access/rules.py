"""Who may see a student's items: the one place the audience rules live.

- the student sees everything of theirs;
- their teachers (any class they share as teacher) see everything but drafts;
- classmates (an active class in common whose setting allows it) see items with the "class" audience;
- their guardians see items with the "family" audience, once a teacher has approved them where any active class of
  the student asks for that (SchoolClass.family_items_need_approval); a change to an approved item's words puts it
  back to pending (app.services.approvals), so until it is approved again they see nothing of it;
- nobody else sees anything, and gets 404 (not 403) so existence does not leak.
"""

from __future__ import annotations

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.access.errors import not_found
from app.models import (
    ApprovalStatus, Audience, ClassRole, Enrollment, GuardianLink, ItemApproval, Role, SchoolClass, User,
)

ALL_AUDIENCES = frozenset(Audience)


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


def family_approval_required(*, session: Session, student_id: int) -> bool:
    """True when any active class of the student holds family-audience items for a teacher's approval."""
    return session.exec(
        select(Enrollment.id)
        .join(SchoolClass, SchoolClass.id == Enrollment.class_id)
        .where(Enrollment.user_id == student_id, Enrollment.role == ClassRole.student,
               SchoolClass.archived == False, SchoolClass.family_items_need_approval == True)  # noqa: E712
    ).first() is not None


def _is_approved(session: Session, *, item_id: int) -> bool:
    return session.exec(
        select(ItemApproval.id).where(ItemApproval.item_id == item_id,
                                      ItemApproval.status == ApprovalStatus.approved)
    ).first() is not None


def can_see(
    *, session: Session, viewer: User, owner_id: int, audience: Audience, draft: bool = False,
    item_id: int | None = None,
) -> bool:
    """True when `viewer` may see one item of `owner_id` with this audience (drafts: the owner only).

    A guardian sees a family item only once it is approved, where the student's class asks for approval;
    without `item_id` there is nothing to check, so the answer is no."""
    if draft and viewer.id != owner_id:
        return False
    if audience not in visible_audiences(session=session, viewer=viewer, owner_id=owner_id):
        return False
    if viewer.role is Role.guardian and audience is Audience.family and family_approval_required(
            session=session, student_id=owner_id):
        return item_id is not None and _is_approved(session, item_id=item_id)
    return True


def student_visible_to(*, session: Session, viewer: User, student_id: int) -> User:
    """The student whose portfolio `viewer` may look at (some of), or 404."""
    student = session.get(User, student_id)
    if student is None or student.role is not Role.student:
        raise not_found()
    if not visible_audiences(session=session, viewer=viewer, owner_id=student_id):
        raise not_found()
    return student


def visible_among(*, session: Session, viewer: User, owner_id: int, items: list) -> list:
    """The items (artefacts, reflections or goals of one owner) that `viewer` may see, in the given order.

    For pages that list other items (a reflection's evidence, a goal's check-ins): the same rules as
    can_see, in at most three queries whatever the number of items."""
    if viewer.id == owner_id:
        return list(items)
    audiences = visible_audiences(session=session, viewer=viewer, owner_id=owner_id)
    # Reflection statuses are str enums, so a draft compares equal to "draft"; other items have no draft.
    shown = [i for i in items if i.audience in audiences and getattr(i, "status", None) != "draft"]
    if viewer.role is Role.guardian and shown and family_approval_required(session=session, student_id=owner_id):
        approved = set(session.exec(
            select(ItemApproval.item_id).where(ItemApproval.status == ApprovalStatus.approved,
                                               ItemApproval.item_id.in_([i.id for i in shown]))
        ).all())
        shown = [i for i in shown if i.id in approved]
    return shown
