"""Reports and reviews: a reported comment hidden until a teacher of the owner looks; approving, restoring,
removing, and approving many at once."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Comment, CommentStatus, NotificationKind, User
from app.models.base import utcnow
from app.models.items import Item as ItemRow
from app.access.relationships import students_taught_by, teacher_ids_of
from app.services.portfolio.links import item_link
from app.access import not_found
from app.services.moderation.notifications import notify
from app.services.moderation.feedback import comment_seen_by


def report_comment(*, session: Session, viewer: User, comment_id: int) -> Comment:
    """Hide a comment until a teacher of the owner reviews it, and tell those teachers."""
    comment, item, _teaches = comment_seen_by(session=session, viewer=viewer, comment_id=comment_id)
    if comment.status is not CommentStatus.visible:
        return comment
    comment.status, comment.reported_by_id, comment.reported_at = CommentStatus.reported, viewer.id, utcnow()
    session.add(comment)
    for teacher_id in teacher_ids_of(session=session, student_id=item.owner_id):
        notify(session=session, user_id=teacher_id, kind=NotificationKind.comment_reported, link="/inbox", item_id=item.id,
                   title=item.title)
    return comment


REVIEW_ACTIONS = {
    "approve": (CommentStatus.pending, CommentStatus.visible),
    "restore": (CommentStatus.reported, CommentStatus.visible),
    "remove": (CommentStatus.pending, CommentStatus.removed),
    "remove_reported": (CommentStatus.reported, CommentStatus.removed),
}


def review_comment(*, session: Session, teacher: User, comment_id: int, action: str) -> Comment:
    """A teacher of the owner approves a pending comment, restores a reported one, or removes either."""
    comment, item, teaches_owner = comment_seen_by(session=session, viewer=teacher, comment_id=comment_id)
    if not teaches_owner:
        raise not_found()
    if action == "remove" and comment.status is CommentStatus.reported:
        action = "remove_reported"
    if action not in REVIEW_ACTIONS or REVIEW_ACTIONS[action][0] is not comment.status:
        return comment
    was_pending = comment.status is CommentStatus.pending
    comment.status, comment.reviewed_by_id, comment.reviewed_at = REVIEW_ACTIONS[action][1], teacher.id, utcnow()
    session.add(comment)
    if was_pending and comment.status is CommentStatus.visible:
        author = session.get(User, comment.author_id)
        notify(session=session, user_id=comment.owner_id, kind=NotificationKind.feedback_received, link=item.link, item_id=item.id,
               name=author.display_name if author else "", title=item.title)
    return comment


def bulk_approve(*, session: Session, teacher: User, comment_ids: list[int]) -> int:
    """Approve the pending comments among `comment_ids` on the teacher's students' items; how many (constant queries)."""
    if not comment_ids:
        return 0
    rows = session.exec(
        select(Comment, User.display_name, ItemRow.title, ItemRow.type)
        .join(User, User.id == Comment.author_id)
        .join(ItemRow, ItemRow.id == Comment.item_id)
        .where(Comment.id.in_(comment_ids), Comment.status == CommentStatus.pending,
               Comment.owner_id.in_(students_taught_by(teacher.id)))
    ).all()
    now = utcnow()
    for comment, author_name, title, item_type in rows:
        comment.status, comment.reviewed_by_id, comment.reviewed_at = CommentStatus.visible, teacher.id, now
        session.add(comment)
        notify(session=session, user_id=comment.owner_id, kind=NotificationKind.feedback_received,
               link=item_link(item_type, comment.item_id), item_id=comment.item_id, name=author_name, title=title or "")
    return len(rows)
