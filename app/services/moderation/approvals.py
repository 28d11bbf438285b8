"""Teacher approval of family-audience items and showcases, where a student's class asks for it first.

An approval covers the item as a teacher approved it: its family-visible words (`family_texts`) are kept on approval.
Every write path of an artefact, published reflection, goal (its steps and check-ins too) or showcase calls
`request_if_needed` / `request_showcase_if_needed`: a new family item waits, and an approved one whose words changed
since goes back to pending, so families see nothing of it until a teacher approves it again (no half-approved
versions). The teacher's inbox shows what changed since the last approval. Who then sees what is decided in
app.access.can_see (showcases: app.services.showcases.showcase_items.can_see_showcase).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.i18n import _
from app.access import family_approval_required, not_an_attached_recording, not_found
from app.access.relationships import students_in_class, students_taught_by, teacher_ids_of
from app.services.portfolio.links import item_link
from app.models import (
    ApprovalStatus, Artefact, AuditEventKind, Audience, Item, ItemApproval, ItemType, MediaKind, NotificationKind,
    Reflection, Showcase, User,
)
from app.models.base import utcnow
from app.services.accounts import audit
from app.services.moderation.approval_texts import (  # noqa: F401  (field_label and Change are the inbox's, via here)
    RECORDING_FIELDS, SHOWCASE, Change, FamilyText, Key, changes_between, family_texts, field_label, fingerprint,
    key_of, same_text,
)
from app.services.moderation.notifications import notify

MAX_NOTE = 2000
# --- asking for approval -------------------------------------------------------------------------


def request_if_needed(
    *, session: Session, owner_id: int, item_id: int, audience: Audience, draft: bool = False, title: str = "",
) -> ItemApproval | None:
    """Ask (again) for a teacher's approval of a family item just saved, when a class of its owner wants one.

    Call it after every change to what families could read of the item. An approved item keeps its approval while its
    words are still those approved; otherwise it waits again, so families never see words no teacher has seen."""
    if audience is not Audience.family or draft:
        return None
    session.flush()
    item_type = session.exec(select(Item.type).where(Item.id == item_id)).one()
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == item_id)).first()
    return _ask(session, approval, owner_id=owner_id, key=(item_type.value, item_id), title=title, item_id=item_id,
                make=lambda: ItemApproval(item_id=item_id, owner_id=owner_id))


def request_showcase_if_needed(*, session: Session, showcase: Showcase) -> ItemApproval | None:
    """The same for a showcase just saved: its title and introduction are the student's words to their family."""
    if showcase.audience is not Audience.family:
        return None
    approval = session.exec(select(ItemApproval).where(ItemApproval.showcase_id == showcase.id)).first()
    return _ask(session, approval, owner_id=showcase.owner_id, key=(SHOWCASE, showcase.id), title=showcase.title,
                showcase_id=showcase.id, make=lambda: ItemApproval(showcase_id=showcase.id, owner_id=showcase.owner_id))


def _ask(session: Session, approval: ItemApproval | None, *, owner_id: int, key: Key, title: str,
         make: Callable[[], ItemApproval], item_id: int | None = None, showcase_id: int | None = None,
         ) -> ItemApproval | None:
    if approval is not None and approval.status is ApprovalStatus.approved and approval.approved_text is not None:
        session.flush()  # the words are read back from the database, as every page shows them
        current = family_texts(session=session, keys=[key]).get(key)
        if current is not None and same_text(approval.approved_text, current):
            return approval
    if not family_approval_required(session=session, student_id=owner_id):
        if approval is not None and approval.status is ApprovalStatus.approved:
            # Changed while no class asks for approval: that approval no longer covers the item, and must not let
            # these words through unseen if a class asks again later.
            session.delete(approval)
        return None
    approval = approval or make()
    already_waiting = approval.id is not None and approval.status is ApprovalStatus.pending
    approval.status, approval.requested_at = ApprovalStatus.pending, utcnow()
    approval.note, approval.reviewed_by_id, approval.reviewed_at = "", None, None
    session.add(approval)
    if not already_waiting:
        # Told when it starts waiting, not again for each edit while it waits.
        owner = session.get(User, owner_id)
        for teacher_id in teacher_ids_of(session=session, student_id=owner_id):
            notify(session=session, user_id=teacher_id, kind=NotificationKind.item_waiting, link="/inbox",
                   item_id=item_id, showcase_id=showcase_id, name=owner.display_name if owner else "", title=title)
    return approval


def clear_when_approval_ends(*, session: Session, school_class) -> int:
    """Drop the waiting (and returned) approvals of the class's students that no class of theirs asks for any more.

    Families see those items at once without the setting, so nothing should stay in a teacher's inbox or tell the
    student it is waiting."""
    students = session.exec(students_in_class(school_class.id)).all()
    still_required = [s for s in students if family_approval_required(session=session, student_id=s)]
    stale = session.exec(
        select(ItemApproval).where(ItemApproval.owner_id.in_(set(students) - set(still_required)),
                                   ItemApproval.status.in_([ApprovalStatus.pending, ApprovalStatus.returned]))
    ).all()
    for approval in stale:
        session.delete(approval)
    return len(stale)


def queue_existing_family_items(*, session: Session, school_class) -> int:
    """Ask for approval of the family items and showcases the class's students already share and no teacher has
    decided on."""
    from app.models import ReflectionStatus

    students = students_in_class(school_class.id)
    decided = select(ItemApproval.id).where(ItemApproval.item_id == Item.id)
    entries = session.exec(
        select(Item).where(Item.owner_id.in_(students), Item.audience == Audience.family,
                           Item.kind != ReflectionStatus.draft.value, ~decided.exists(), not_an_attached_recording())
    ).all()
    for entry in entries:
        session.add(ItemApproval(item_id=entry.id, owner_id=entry.owner_id))
    decided_showcase = select(ItemApproval.id).where(ItemApproval.showcase_id == Showcase.id)
    showcases = session.exec(
        select(Showcase).where(Showcase.owner_id.in_(students), Showcase.audience == Audience.family,
                               ~decided_showcase.exists())
    ).all()
    for showcase in showcases:
        session.add(ItemApproval(showcase_id=showcase.id, owner_id=showcase.owner_id))
    return len(entries) + len(showcases)


# --- the teacher's side ------------------------------------------------------------------------


@dataclass
class WaitingItem:
    approval: ItemApproval
    student_name: str
    title: str
    item_type: ItemType | None  # None for a showcase
    text: FamilyText = field(default_factory=dict)  # what families would see, as it is now
    # The item as its family will see it (items/_item_media.html): its row, its artefact (and spoken caption), a
    # reflection's recording.
    entry: Item | None = None
    artefact: Artefact | None = None
    audio_id: int | None = None
    caption_id: int | None = None  # an artefact's spoken caption

    @property
    def link(self) -> str:
        return _item_link(self.approval, self.item_type)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.text)

    @property
    def approved_before(self) -> bool:
        return self.approval.approved_text is not None

    @property
    def changes(self) -> list[Change]:
        """What changed since a teacher last approved it (empty when none ever did)."""
        if self.approval.approved_text is None:
            return []
        return changes_between(self.approval.approved_text, self.text)

    @property
    def shown(self) -> list[tuple[str, str | list[str]]]:
        """The fields with words in them, labelled, for an item no teacher approved before."""
        # A recording is played on the card itself (items/_item_media.html), not written out.
        return [(field_label(name), value) for name, value in self.text.items()
                if value and name not in RECORDING_FIELDS]


def _item_link(approval: ItemApproval, item_type: ItemType | None) -> str:
    if approval.showcase_id is not None:
        return f"/showcases/{approval.showcase_id}"
    return item_link(item_type, approval.item_id)


def _with_titles(teacher: User):
    """Approvals of the teacher's students' items and showcases, with the student, the title and the item's type."""
    return (
        select(ItemApproval, User, sa.func.coalesce(Item.title, Showcase.title), Item.type)
        .join(User, User.id == ItemApproval.owner_id)
        .outerjoin(Item, Item.id == ItemApproval.item_id)
        .outerjoin(Showcase, Showcase.id == ItemApproval.showcase_id)
        .where(ItemApproval.owner_id.in_(students_taught_by(teacher.id)))
    )


def waiting_for(*, session: Session, teacher: User) -> list[WaitingItem]:
    """Family items of the teacher's students waiting for approval, oldest first, with their words now (a fixed
    number of queries, whatever the number of items).

    Items no longer shared with families (or back to a draft) don't wait for anything, so they are left out; nor do
    recordings, which go with their reflection's approval (or their comment's)."""
    return _waiting(session, teacher=teacher)


def waiting_item(*, session: Session, teacher: User, approval_id: int) -> WaitingItem | None:
    """One approval of the teacher's students as the inbox shows it, or None once it no longer waits."""
    found = _waiting(session, teacher=teacher, approval_id=approval_id)
    return found[0] if found else None


def _waiting(session: Session, *, teacher: User, approval_id: int | None = None) -> list[WaitingItem]:
    statement = (
        _with_titles(teacher)
        .where(ItemApproval.status == ApprovalStatus.pending,
               sa.or_(sa.and_(Item.audience == Audience.family, Item.kind != "draft", not_an_attached_recording()),
                      Showcase.audience == Audience.family))
        .order_by(ItemApproval.requested_at, ItemApproval.id)
    )
    if approval_id is not None:
        statement = statement.where(ItemApproval.id == approval_id)
    rows = session.exec(statement).all()
    texts = family_texts(session=session, keys=[key_of(approval, item_type) for approval, _o, _t, item_type in rows])
    item_ids = [approval.item_id for approval, _o, _t, _type in rows if approval.item_id is not None]
    entries = {e.id: e for e in session.exec(select(Item).where(Item.id.in_(item_ids))).all()}
    # A photo's spoken caption goes to families with it, so the teacher hears it too (same query).
    caption = aliased(Artefact)
    found = session.exec(
        select(Artefact, caption.id).outerjoin(caption, sa.and_(
            caption.id == Artefact.audio_artefact_id, caption.owner_id == Artefact.owner_id,
            caption.media_kind == MediaKind.audio))
        .where(Artefact.id.in_(item_ids))).all()
    artefacts = {a.id: a for a, _caption_id in found}
    captions = {a.id: caption_id for a, caption_id in found if caption_id}
    recordings = dict(session.exec(select(Reflection.id, Reflection.audio_artefact_id)
                                   .where(Reflection.id.in_(item_ids), Reflection.audio_artefact_id.is_not(None))).all())
    return [WaitingItem(approval, owner.display_name, title, item_type, texts.get(key_of(approval, item_type), {}),
                        entries.get(approval.item_id), artefacts.get(approval.item_id), recordings.get(approval.item_id),
                        captions.get(approval.item_id))
            for approval, owner, title, item_type in rows]


def _review(session: Session, *, teacher: User, approval: ItemApproval, owner: User, title: str,
            item_type: ItemType | None, status: ApprovalStatus, address: str | None, note: str = "",
            text: FamilyText | None = None) -> None:
    approval.status, approval.note = status, note
    approval.reviewed_by_id, approval.reviewed_at = teacher.id, utcnow()
    approved = status is ApprovalStatus.approved
    if approved:
        approval.approved_text = text
    session.add(approval)
    notify(session=session, user_id=approval.owner_id, kind=NotificationKind.item_approved if approved
           else NotificationKind.item_returned, link=_item_link(approval, item_type), item_id=approval.item_id,
           showcase_id=approval.showcase_id, title=title)
    kind, target = key_of(approval, item_type)
    audit.record(session=session, event=AuditEventKind.item_approved if approved else AuditEventKind.item_returned,
                 actor=teacher, subject=owner, object_description=f"{kind} {target}", address=address,
                 details={"item_type": kind, "item_id": target})


def _approval_for(session: Session, *, teacher: User, approval_id: int
                  ) -> tuple[ItemApproval, User, str, ItemType | None]:
    """An approval of one of the teacher's students' items, with the student, the title and the item's type; or 404."""
    row = session.exec(_with_titles(teacher).where(ItemApproval.id == approval_id)).first()
    if row is None:
        raise not_found()
    return row[0], row[1], row[2], row[3]


def parse_seen(values: list[str]) -> dict[int, str]:
    """The inbox's "approval id:fingerprint" pairs, by approval id (anything else is ignored)."""
    seen = {}
    for value in values:
        approval_id, _sep, digest = value.partition(":")
        if approval_id.isdigit() and digest:
            seen[int(approval_id)] = digest
    return seen


def approve(
    *, session: Session, teacher: User, approval_id: int, address: str | None = None, seen: str | None = None,
) -> tuple[ItemApproval, str | None]:
    """Let families see the item as it is now, and tell the student; with `seen` (the fingerprint the teacher's page
    showed), only if it is still that version. The approval, and why it wasn't approved if it wasn't."""
    approval, owner, title, item_type = _approval_for(session, teacher=teacher, approval_id=approval_id)
    if approval.status is ApprovalStatus.approved:
        return approval, None
    key = key_of(approval, item_type)
    text = family_texts(session=session, keys=[key]).get(key)
    if seen is not None and seen != fingerprint(text):
        return approval, _("It changed since you opened your inbox. Look at it again before you approve it.")
    _review(session, teacher=teacher, approval=approval, owner=owner, title=title, item_type=item_type,
            status=ApprovalStatus.approved, address=address, text=text)
    return approval, None


def return_item(
    *, session: Session, teacher: User, approval_id: int, note: str, address: str | None = None,
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


@dataclass
class BulkResult:
    approved: int = 0
    changed: int = 0  # ticked, but changed since the teacher's page showed them: left waiting


def bulk_approve(
    *, session: Session, teacher: User, approval_ids: list[int], seen: dict[int, str] | None = None,
    address: str | None = None,
) -> BulkResult:
    """Approve the pending ones among `approval_ids` of the teacher's students, each only if it is still the version
    `seen` names (when it names one); a fixed number of queries."""
    result = BulkResult()
    if not approval_ids:
        return result
    seen = seen or {}
    rows = session.exec(
        _with_titles(teacher).where(ItemApproval.id.in_(approval_ids), ItemApproval.status == ApprovalStatus.pending)
    ).all()
    texts = family_texts(session=session, keys=[key_of(approval, item_type) for approval, _o, _t, item_type in rows])
    for approval, owner, title, item_type in rows:
        text = texts.get(key_of(approval, item_type))
        if approval.id in seen and seen[approval.id] != fingerprint(text):
            result.changed += 1
            continue
        _review(session, teacher=teacher, approval=approval, owner=owner, title=title, item_type=item_type,
                status=ApprovalStatus.approved, address=address, text=text)
        result.approved += 1
    return result


# --- the student's side ------------------------------------------------------------------------


def notice_for_owner(
    *, session: Session, owner: User, item_id: int | None = None, showcase_id: int | None = None,
) -> ItemApproval | None:
    """The owner's pending or returned approval of one item or showcase (nothing to say once approved, or when none
    is asked)."""
    target = ItemApproval.showcase_id == showcase_id if showcase_id is not None else ItemApproval.item_id == item_id
    return session.exec(
        select(ItemApproval).where(target, ItemApproval.owner_id == owner.id,
                                   ItemApproval.status.in_([ApprovalStatus.pending, ApprovalStatus.returned]))
    ).first()


def approval_notice(*, session: Session, viewer: User, owner_id: int, item_id: int | None = None,
                    showcase_id: int | None = None) -> ItemApproval | None:
    """What approvals/_status.html says on an item or showcase page: the owner's notice, nothing for anyone else."""
    if viewer.id != owner_id:
        return None
    return notice_for_owner(session=session, owner=viewer, item_id=item_id, showcase_id=showcase_id)
