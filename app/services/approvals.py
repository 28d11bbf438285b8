"""Teacher approval of family-audience items, where a student's class asks for it first.

Saving an artefact, published reflection or goal for families asks for (or renews) an approval; a teacher of the
student approves it, or returns it with a note. Who then sees what is decided in app.access.can_see.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request
from sqlmodel import Session, select

from app.i18n import _
from app.models import ApprovalStatus, AuditEventKind, Audience, Item, ItemApproval, ItemType, NotificationKind, User
from app.models.base import utcnow
from app.services import audit
from app.access import family_approval_required, not_found
from app.services.notifications import notify

MAX_NOTE = 2000


def request_if_needed(
    *, session: Session, owner_id: int, item_id: int, audience: Audience, draft: bool = False, title: str = "",
) -> ItemApproval | None:
    """Ask (again) for a teacher's approval of a family item just saved, when a class of its owner wants one.

    The approval goes back to pending on every save, so families never see an edit no teacher has seen; the
    owner's teachers are told when it starts waiting (not again for each edit while it waits)."""
    if audience is not Audience.family or draft:
        return None
    if not family_approval_required(session=session, student_id=owner_id):
        return None
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).first()
    if approval is None:
        approval = ItemApproval(item_id=item_id, owner_id=owner_id)
    already_waiting = approval.id is not None and approval.status is ApprovalStatus.pending
    approval.status, approval.requested_at = ApprovalStatus.pending, utcnow()
    approval.note, approval.reviewed_by_id, approval.reviewed_at = "", None, None
    session.add(approval)
    if not already_waiting:
        from app.services.feedback import teacher_ids_of

        owner = session.get(User, owner_id)
        for teacher_id in teacher_ids_of(session=session, student_id=owner_id):
            notify(session=session, user_id=teacher_id, kind=NotificationKind.item_waiting, link="/inbox", item_id=item_id,
                   name=owner.display_name if owner else "", title=title)
    return approval


def clear_when_approval_ends(*, session: Session, school_class) -> int:
    """Drop the waiting (and returned) approvals of the class's students that no class of theirs asks for any more.

    Families see those items at once without the setting, so nothing should stay in a teacher's inbox or tell the
    student it is waiting."""
    from app.models import ClassRole, Enrollment

    students = session.exec(select(Enrollment.user_id).where(Enrollment.class_id == school_class.id,
                                                             Enrollment.role == ClassRole.student)).all()
    still_required = [s for s in students if family_approval_required(session=session, student_id=s)]
    stale = session.exec(
        select(ItemApproval).where(ItemApproval.owner_id.in_(set(students) - set(still_required)),
                                   ItemApproval.status.in_([ApprovalStatus.pending, ApprovalStatus.returned]))
    ).all()
    for approval in stale:
        session.delete(approval)
    return len(stale)


def queue_existing_family_items(*, session: Session, school_class) -> int:
    """Ask for approval of the family items the class's students already share and no teacher has decided on."""
    from app.models import ClassRole, Enrollment, ReflectionStatus

    students = select(Enrollment.user_id).where(Enrollment.class_id == school_class.id, Enrollment.role == ClassRole.student)
    decided = select(ItemApproval.id).where(ItemApproval.item_id == Item.id)
    entries = session.exec(
        select(Item).where(Item.owner_id.in_(students), Item.audience == Audience.family,
                           Item.kind != ReflectionStatus.draft.value, ~decided.exists())
    ).all()
    for entry in entries:
        session.add(ItemApproval(item_id=entry.id, owner_id=entry.owner_id))
    return len(entries)


# --- the teacher's side ------------------------------------------------------------------------


@dataclass
class WaitingItem:
    approval: ItemApproval
    student_name: str
    title: str
    item_type: ItemType

    @property
    def link(self) -> str:
        return _item_link(self.item_type, self.approval.item_id)


def _item_link(item_type: ItemType, item_id: int) -> str:
    from app.services.feedback import item_link  # feedback needs the item services, which need this module

    return item_link(item_type, item_id)


def _with_titles(teacher: User):
    """Approvals of the teacher's students' items that still exist, with the student and the item's title."""
    from app.services.feedback import students_taught_by

    return (
        select(ItemApproval, User, Item.title, Item.type)
        .join(User, User.id == ItemApproval.owner_id)
        .join(Item, Item.id == ItemApproval.item_id)
        .where(ItemApproval.owner_id.in_(students_taught_by(teacher.id)))
    )


def waiting_for(*, session: Session, teacher: User) -> list[WaitingItem]:
    """Family items of the teacher's students waiting for approval, oldest first (one query).

    Items no longer shared with families (or back to a draft) don't wait for anything, so they are left out."""
    rows = session.exec(
        _with_titles(teacher)
        .where(ItemApproval.status == ApprovalStatus.pending, Item.audience == Audience.family, Item.kind != "draft")
        .order_by(ItemApproval.requested_at, ItemApproval.id)
    ).all()
    return [WaitingItem(approval, owner.display_name, title, item_type) for approval, owner, title, item_type in rows]


def _review(session: Session, *, teacher: User, approval: ItemApproval, owner: User, title: str, item_type: ItemType,
            status: ApprovalStatus, address: str | None, note: str = "") -> None:
    approval.status, approval.note = status, note
    approval.reviewed_by_id, approval.reviewed_at = teacher.id, utcnow()
    session.add(approval)
    approved = status is ApprovalStatus.approved
    notify(session=session, user_id=approval.owner_id, kind=NotificationKind.item_approved if approved
           else NotificationKind.item_returned, link=_item_link(item_type, approval.item_id), item_id=approval.item_id,
           title=title)
    audit.record(session=session, event=AuditEventKind.item_approved if approved else AuditEventKind.item_returned,
                 actor=teacher, subject=owner, object_description=title, address=address,
                 details={"item_type": item_type.value, "item_id": approval.item_id})


def _approval_for(session: Session, *, teacher: User, approval_id: int) -> tuple[ItemApproval, User, str, ItemType]:
    """An approval of one of the teacher's students' items, with the student, the item's title and type, or 404."""
    row = session.exec(_with_titles(teacher).where(ItemApproval.id == approval_id)).first()
    if row is None:
        raise not_found()
    return row[0], row[1], row[2], row[3]


def approve(*, session: Session, teacher: User, approval_id: int, address: str | None) -> ItemApproval:
    """Let families see the item, and tell the student (nothing changes if it is approved already)."""
    approval, owner, title, item_type = _approval_for(session, teacher=teacher, approval_id=approval_id)
    if approval.status is not ApprovalStatus.approved:
        _review(session, teacher=teacher, approval=approval, owner=owner, title=title, item_type=item_type,
                status=ApprovalStatus.approved, address=address)
    return approval


def return_item(
    *, session: Session, teacher: User, approval_id: int, note: str, address: str | None
) -> tuple[ItemApproval, str | None]:
    """Keep the item from families and tell the student why; the approval, and what is wrong with the note if any."""
    approval, owner, title, item_type = _approval_for(session, teacher=teacher, approval_id=approval_id)
    note = note.strip()
    if not note:
        return approval, _("Write a short note so the student knows what to change.")
    if len(note) > MAX_NOTE:
        return approval, _("Use at most %(max)s characters (this has %(n)s).", max=MAX_NOTE, n=len(note))
    _review(session, teacher=teacher, approval=approval, owner=owner, title=title, item_type=item_type,
            status=ApprovalStatus.returned, address=address, note=note)
    return approval, None


def bulk_approve(*, session: Session, teacher: User, approval_ids: list[int], address: str | None) -> int:
    """Approve the pending ones among `approval_ids` of the teacher's students; how many (constant queries)."""
    if not approval_ids:
        return 0
    rows = session.exec(
        _with_titles(teacher).where(ItemApproval.id.in_(approval_ids), ItemApproval.status == ApprovalStatus.pending)
    ).all()
    for approval, owner, title, item_type in rows:
        _review(session, teacher=teacher, approval=approval, owner=owner, title=title, item_type=item_type,
                status=ApprovalStatus.approved, address=address)
    return len(rows)


# --- the student's side ------------------------------------------------------------------------


def notice_for_owner(*, session: Session, owner: User, item_id: int) -> ItemApproval | None:
    """The owner's pending or returned approval of one item (nothing to say once approved, or when none is asked)."""
    return session.exec(
        select(ItemApproval).where(ItemApproval.item_id == item_id,
                                   ItemApproval.owner_id == owner.id,
                                   ItemApproval.status.in_([ApprovalStatus.pending, ApprovalStatus.returned]))
    ).first()


def approval_notice(request: Request, item_id: int) -> ItemApproval | None:
    """For templates: the signed-in owner's notice on one of their item pages (see approvals/_status.html)."""
    user = getattr(request.state, "user", None)
    if user is None:
        return None
    with Session(request.app.state.engine) as session:
        return notice_for_owner(session=session, owner=user, item_id=item_id)
