"""A PDF export's feedback: the visible comments on the student's items, grouped by item with their replies."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Comment, CommentStatus, Reflection, ReflectionStatus, User
from app.services.exports.pdf_entries import CommentEntry, FeedbackGroup, anchor_of


def feedback_groups(*, session: Session, owner_id: int, only: set[int] | None) -> list[FeedbackGroup]:
    """The visible comments on the student's items (all of them, or `only` these), grouped by item with their
    replies, items in the order of their first comment: two queries (the comments with authors; the titles)."""
    from app.models import Item

    rows = session.exec(
        select(Comment, User).join(User, User.id == Comment.author_id)
        .where(Comment.owner_id == owner_id, Comment.status == CommentStatus.visible)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    rows = [(c, u) for c, u in rows if only is None or c.item_id in only]
    if not rows:
        return []
    titles = {
        item_id: (item_type, title)
        for item_type, item_id, title in session.exec(
            select(Item.type, Item.id, Item.title)
            .where(Item.owner_id == owner_id)).all()
    }
    # Drafts never have comments, but a comment on an item that is gone (or now a draft) stays out.
    drafts = set(session.exec(select(Reflection.id).where(
        Reflection.owner_id == owner_id, Reflection.status == ReflectionStatus.draft)).all())
    groups: dict[int, FeedbackGroup] = {}
    top: dict[int, CommentEntry] = {}
    replies: list[CommentEntry] = []
    for comment, author in rows:
        key = comment.item_id
        if key not in titles or key in drafts:
            continue
        entry = CommentEntry(comment, author)
        if comment.parent_id is None:
            group = groups.get(key)
            if group is None:
                item_type, title = titles[key]
                group = groups[key] = FeedbackGroup(item_type, key, title, anchor_of(item_type.value, key))
            group.comments.append(entry)
            top[comment.id] = entry
        else:
            replies.append(entry)
    for entry in replies:  # a reply under a hidden comment stays hidden with it
        if entry.comment.parent_id in top:
            top[entry.comment.parent_id].replies.append(entry)
    return list(groups.values())
