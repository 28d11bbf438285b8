"""Who may see a student's items: the one place the audience rules live.

- the student sees everything of theirs;
- their teachers (any class they share as teacher) see everything but drafts;
- classmates (an active class in common whose setting allows it) see items with the "class" audience;
- their guardians see items with the "family" audience, once a teacher has approved them where any active class of
  the student asks for that (SchoolClass.family_items_need_approval); a change to an approved item's words puts it
  back to pending (app.services.moderation.approvals), so until it is approved again they see nothing of it;
- nobody else sees anything, and gets 404 (not 403) so existence does not leak.

A spoken reflection's recording, a piece of evidence's spoken caption and a teacher's spoken feedback are audio artefacts of the student's, but they are
parts of their reflection or comment, not items of their own: they are heard with it (whoever may read the reflection,
or see the comment, may hear it: app.services.portfolio.artefacts.artefact_visible_to) and listed only with it, so
no list shows them to anyone but their owner (`not_an_attached_recording`). Likewise a picture a reflection's text
shows (an imported Mahara journal post's photos, private): its file is seen by whoever may read the reflection
(app.services.portfolio.artefacts.file_visible_to), its page and lists stay its own audience's.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

import app.access.relationships as relationships
from app.access.errors import not_found
from app.models import (
    ApprovalStatus, Artefact, Audience, Comment, Enrollment, Item, ItemApproval, Reflection, ReflectionStatus, Role,
    SchoolClass, User,
)

ALL_AUDIENCES = frozenset(Audience)


def visible_audiences(*, session: Session, viewer: User, owner_id: int) -> frozenset[Audience]:
    """The audiences of `owner_id`'s items that `viewer` may see (empty: none at all)."""
    return audiences_among(session=session, viewer=viewer, owner_ids=[owner_id]).get(owner_id, frozenset())


def audiences_among(*, session: Session, viewer: User, owner_ids: Iterable[int]) -> dict[int, frozenset[Audience]]:
    """The audiences of each owner's items that `viewer` may see, for many owners at once (one query at most); an
    owner they may see nothing of is left out."""
    owners = set(owner_ids)
    found = {owner_id: ALL_AUDIENCES for owner_id in owners if owner_id == viewer.id}
    others = owners - set(found)
    if not others:
        return found
    if viewer.role is Role.teacher:
        related = relationships.taught_among(session=session, teacher_id=viewer.id, student_ids=others)
        audiences = ALL_AUDIENCES
    elif viewer.role is Role.student:
        # Classmates see "class" items only through a class whose teacher allows it.
        related = relationships.classmates_among(session=session, student_id=viewer.id, student_ids=others,
                                                 setting=SchoolClass.classmates_see_class_items)
        audiences = frozenset({Audience.class_})
    elif viewer.role is Role.guardian:
        related = relationships.children_among(session=session, guardian_id=viewer.id, student_ids=others)
        audiences = frozenset({Audience.family})
    else:
        return found
    found.update((owner_id, audiences) for owner_id in related & others)
    return found


def students_needing_family_approval():
    """A SELECT of the ids of students with an active class that holds family items for a teacher's approval."""
    return relationships.students_with_class_setting(SchoolClass.family_items_need_approval)


def needing_family_approval_among(*, session: Session, student_ids: Iterable[int]) -> set[int]:
    """Those of the students with an active class that holds family items for a teacher's approval (one query)."""
    ids = list(student_ids)
    if not ids:
        return set()
    return set(session.exec(students_needing_family_approval().where(Enrollment.user_id.in_(ids))).all())


def family_approval_required(*, session: Session, student_id: int) -> bool:
    """True when any active class of the student holds family-audience items for a teacher's approval."""
    return session.exec(students_needing_family_approval().where(
        Enrollment.user_id == student_id).limit(1)).first() is not None


def approved_for_families(item_id_column) -> sa.ColumnElement[bool]:
    """SQL: a teacher approved this item for families (as it is now: a change puts it back to pending)."""
    return (select(ItemApproval.id)
            .where(ItemApproval.item_id == item_id_column, ItemApproval.status == ApprovalStatus.approved).exists())


def not_an_attached_recording(item_id_column=Item.id) -> sa.ColumnElement[bool]:
    """SQL: this item (or artefact) is not some reflection's recording, evidence's spoken caption or comment's spoken
    feedback, which are listed only as part of what they belong to (the audience an old recording copied counts for
    nothing)."""
    captioned = aliased(Artefact)  # the caller's own query may be on artefacts
    return sa.and_(
        ~select(Reflection.id).where(Reflection.audio_artefact_id == item_id_column).exists(),
        ~select(Comment.id).where(Comment.audio_artefact_id == item_id_column).exists(),
        ~select(captioned.id).where(captioned.audio_artefact_id == item_id_column).exists(),
    )


def attached_recordings_among(*, session: Session, ids) -> set[int]:
    """Those of `ids` that are a reflection's recording, an evidence's caption or a comment's spoken feedback (one
    query)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(session.exec(sa.union(
        select(Reflection.audio_artefact_id).where(Reflection.audio_artefact_id.in_(ids)),
        select(Comment.audio_artefact_id).where(Comment.audio_artefact_id.in_(ids)),
        select(Artefact.audio_artefact_id).where(Artefact.audio_artefact_id.in_(ids)),
    )).scalars().all())


def family_items() -> sa.ColumnElement[bool]:
    """SQL on `items`: what a linked guardian may see (the family audience, no drafts, the approval rule; recordings
    only with what they belong to)."""
    return sa.and_(
        Item.audience == Audience.family,
        Item.kind != ReflectionStatus.draft.value,
        sa.or_(Item.owner_id.not_in(students_needing_family_approval()), approved_for_families(Item.id)),
        not_an_attached_recording(),
    )


def visible_items(viewer: User) -> sa.ColumnElement[bool]:
    """SQL on `items`: every item `viewer` may see, the same rules as can_see in one condition (for lists, search,
    digests and exports that must never show more than the item pages would)."""
    not_draft = sa.not_(sa.and_(Item.type == "reflection", Item.kind == ReflectionStatus.draft.value))
    if viewer.role is Role.teacher:
        others = sa.and_(Item.owner_id.in_(relationships.students_taught_by(viewer.id)), not_draft)
    elif viewer.role is Role.student:
        classmates = relationships.students_with_class_setting(SchoolClass.classmates_see_class_items).where(
            Enrollment.class_id.in_(relationships.active_classes_of_student(viewer.id)))
        others = sa.and_(Item.owner_id.in_(classmates), Item.audience == Audience.class_, not_draft)
    elif viewer.role is Role.guardian:
        others = sa.and_(Item.owner_id.in_(relationships.children_of(viewer.id)), family_items())
    else:
        others = sa.false()
    return sa.or_(Item.owner_id == viewer.id, sa.and_(others, not_an_attached_recording()))


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
    can_see, in at most four queries whatever the number of items. A recording is never listed on its own to anyone
    but its owner (it is heard with its reflection or comment)."""
    return visible_among_owners(session=session, viewer=viewer, pairs=[(owner_id, item) for item in items])


def visible_among_owners(*, session: Session, viewer: User, pairs: Iterable[tuple[int, object]]) -> list:
    """Of (owner id, item) pairs, the items `viewer` may see, in the given order: visible_among's rule for the items
    of many owners at once (a guardian's children in a digest), in at most four queries whatever the number of
    owners or items. An item needs its id, audience and, for a reflection, its status."""
    pairs = list(pairs)
    audiences = audiences_among(session=session, viewer=viewer,
                                owner_ids={owner_id for owner_id, _item in pairs if owner_id != viewer.id})
    # Reflection statuses are str enums, so a draft compares equal to "draft"; other items have no draft.
    shown = [(owner_id, item) for owner_id, item in pairs if owner_id != viewer.id
             and item.audience in audiences.get(owner_id, ()) and getattr(item, "status", None) != "draft"]
    if viewer.role is Role.guardian and shown:
        careful = needing_family_approval_among(session=session, student_ids={owner_id for owner_id, _item in shown})
        waiting = [item.id for owner_id, item in shown if owner_id in careful]
        approved = set(session.exec(
            select(ItemApproval.item_id).where(ItemApproval.status == ApprovalStatus.approved,
                                               ItemApproval.item_id.in_(waiting))
        ).all()) if waiting else set()
        shown = [(owner_id, item) for owner_id, item in shown if owner_id not in careful or item.id in approved]
    recordings = attached_recordings_among(session=session, ids=[item.id for _owner_id, item in shown])
    seen = {id(item) for _owner_id, item in shown if item.id not in recordings}
    return [item for owner_id, item in pairs if owner_id == viewer.id or id(item) in seen]


def may_award_credential(*, session: Session, viewer: User, student_id: int) -> bool:
    """Only a teacher of one of the student's active classes awards (signs) a credential for them."""
    return relationships.is_teacher_of(session=session, viewer=viewer, student_id=student_id)


def may_revoke_credential(*, viewer: User, school_id: int, issued_by_id: int | None) -> bool:
    """An admin of the issuing school, or the teacher who issued it, may revoke a credential."""
    if viewer.role is Role.admin:
        return viewer.school_id == school_id
    return viewer.role is Role.teacher and issued_by_id == viewer.id


def _sees_credential(*, viewer: User, student_id: int, school_id: int, issued_by_id: int | None, revoked: bool,
                     related) -> bool:
    """The credential rule, with `related()` answering whether the viewer is the student's linked guardian (for a
    guardian) or teaches them in an active class (anyone else), so one credential or many ask it their own way."""
    if viewer.id == student_id or may_revoke_credential(viewer=viewer, school_id=school_id, issued_by_id=issued_by_id):
        return True
    if viewer.role is Role.guardian:
        return not revoked and related()
    return related()


def may_see_credential(*, session: Session, viewer: User, student_id: int, school_id: int, issued_by_id: int | None,
                       revoked: bool = False) -> bool:
    """The student, their teachers, its issuer and the school's admins see a credential's page in Folio; a linked
    guardian too while it stands (a revoked one is no longer theirs to show off). Anyone may verify it on its public
    page."""
    def related() -> bool:
        if viewer.role is Role.guardian:
            return relationships.is_guardian_of(session=session, guardian_id=viewer.id, student_id=student_id)
        return relationships.is_teacher_of(session=session, viewer=viewer, student_id=student_id)

    return _sees_credential(viewer=viewer, student_id=student_id, school_id=school_id, issued_by_id=issued_by_id,
                            revoked=revoked, related=related)


def credentials_visible_among(*, session: Session, viewer: User, credentials: list) -> list:
    """Those of `credentials` (rows with student_id, school_id, issued_by_id, revoked_at) `viewer` may see, in the
    given order: may_see_credential's rule for many students at once, in at most one query."""
    related_students: set[int] | None = None

    def related(student_id: int) -> bool:
        nonlocal related_students
        if related_students is None:
            student_ids = {credential.student_id for credential in credentials}
            if viewer.role is Role.guardian:
                related_students = relationships.children_among(session=session, guardian_id=viewer.id,
                                                                student_ids=student_ids)
            elif viewer.role is Role.teacher:
                related_students = relationships.taught_among(session=session, teacher_id=viewer.id,
                                                              student_ids=student_ids)
            else:
                related_students = set()
        return student_id in related_students

    return [credential for credential in credentials if _sees_credential(
        viewer=viewer, student_id=credential.student_id, school_id=credential.school_id,
        issued_by_id=credential.issued_by_id, revoked=credential.revoked_at is not None,
        related=lambda student_id=credential.student_id: related(student_id))]
