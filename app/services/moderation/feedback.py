"""Comment threads: who sees which comment (one place, `may_see`, used by `visible_comments` and every action
on a single comment), the thread as a viewer sees it, and a student's recent feedback. Nobody sees a comment on
what they can't see (the item loaders in thread_items 404 first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.models import (
    CheckIn,
    CheckInArtefact,
    Comment,
    CommentKind,
    CommentStatus,
    FeedbackRequest,
    Goal,
    GoalStatus,
    ItemType,
    ReflectionArtefact,
    ReflectionGoal,
    RequestStatus,
    Role,
    User,
)
from app.models.items import Item as ItemRow
from app.access.relationships import is_teacher_of
from app.services.portfolio.links import item_link
from app.access import not_found
from app.services.moderation.thread_items import ThreadItem, item_visible_by_id, item_visible_to


def kind_for(*, viewer: User, owner_id: int) -> CommentKind:
    """The kind of comment `viewer` writes on `owner_id`'s item: decided by role, never chosen."""
    if viewer.id == owner_id:
        return CommentKind.student
    return {Role.teacher: CommentKind.teacher, Role.guardian: CommentKind.family}.get(viewer.role, CommentKind.peer)


def may_see(comment: Comment, *, viewer: User, teaches_owner: bool) -> bool:
    """The one rule: visible for all who see the item; pending for its author and the owner's teachers;
    reported for the owner's teachers only; removed for nobody."""
    if comment.status is CommentStatus.visible:
        return True
    if comment.status is CommentStatus.pending:
        return teaches_owner or comment.author_id == viewer.id
    if comment.status is CommentStatus.reported:
        return teaches_owner
    return False


@dataclass
class CommentView:
    comment: Comment
    author: User
    replies: list["CommentView"] = field(default_factory=list)


@dataclass
class Thread:
    item: ThreadItem
    comments: list[CommentView]
    kind: CommentKind  # what the viewer would write
    can_comment: bool
    teaches_owner: bool
    is_owner: bool
    goals: list[Goal] = field(default_factory=list)  # the owner's active goals, for next steps
    requests: list[FeedbackRequest] = field(default_factory=list)  # the owner's open requests on the item
    # Where a next step goes unless the owner picks otherwise: the active goal the item belongs to, else a new goal.
    next_step_goal_id: int | None = None


def _linked_goal_ids(session: Session, item: ThreadItem) -> set[int]:
    """The goals an item belongs to: itself, the goals a reflection is about, or those an artefact is evidence for
    (through a check-in, or a reflection about the goal that uses it); one query at most."""
    if item.type is ItemType.goal:
        return {item.id}
    if item.type is ItemType.reflection:
        return set(session.exec(select(ReflectionGoal.goal_id).where(ReflectionGoal.reflection_id == item.id)).all())
    through_checkins = (select(CheckIn.goal_id).join(CheckInArtefact, CheckInArtefact.checkin_id == CheckIn.id)
                        .where(CheckInArtefact.artefact_id == item.id))
    through_reflections = (select(ReflectionGoal.goal_id)
                           .join(ReflectionArtefact, ReflectionArtefact.reflection_id == ReflectionGoal.reflection_id)
                           .where(ReflectionArtefact.artefact_id == item.id))
    return {row[0] for row in session.exec(through_checkins.union(through_reflections)).all()}


def visible_comments(*, session: Session, viewer: User, item_type: ItemType, item_id: int) -> Thread:
    """The item's thread as `viewer` may see it (404 when they can't see the item), in a constant number of queries."""
    item = item_visible_to(session=session, viewer=viewer, item_type=item_type, item_id=item_id)
    is_owner = viewer.id == item.owner_id
    teaches_owner = not is_owner and is_teacher_of(session=session, viewer=viewer, student_id=item.owner_id)
    rows = session.exec(
        select(Comment, User).join(User, User.id == Comment.author_id)
        .where(Comment.item_id == item_id)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    top: dict[int, CommentView] = {}
    replies: list[CommentView] = []
    for comment, author in rows:
        if not may_see(comment, viewer=viewer, teaches_owner=teaches_owner):
            continue
        view = CommentView(comment, author)
        if comment.parent_id is None:
            top[comment.id] = view
        else:
            replies.append(view)
    for view in replies:  # a reply under a hidden comment stays hidden with it
        if view.comment.parent_id in top:
            top[view.comment.parent_id].replies.append(view)
    thread = Thread(item, list(top.values()), kind_for(viewer=viewer, owner_id=item.owner_id),
                    can_comment=not item.draft, teaches_owner=teaches_owner, is_owner=is_owner)
    if is_owner:
        thread.goals = list(session.exec(select(Goal).where(Goal.owner_id == viewer.id, Goal.status == GoalStatus.active)
                                         .order_by(Goal.title)).all())
        linked = _linked_goal_ids(session, item)
        thread.next_step_goal_id = next((goal.id for goal in thread.goals if goal.id in linked), None)
        thread.requests = list(session.exec(
            select(FeedbackRequest).where(FeedbackRequest.item_id == item_id,
                                          FeedbackRequest.status == RequestStatus.open)
            .order_by(FeedbackRequest.created_at)).all())
    return thread


@dataclass
class RecentFeedback:
    comment: Comment
    author: User
    item_title: str
    link: str

    @property
    def text(self) -> str:
        c = self.comment
        return c.body or c.noticed or c.wonder or c.next_time or c.next_step


def recent_feedback(*, session: Session, student: User, limit: int = 5) -> list[RecentFeedback]:
    """The latest comments others left on `student`'s items that the student can see (one query)."""
    rows = session.exec(
        select(Comment, User, ItemRow.title, ItemRow.type).join(User, User.id == Comment.author_id)
        .join(ItemRow, ItemRow.id == Comment.item_id)
        .where(Comment.owner_id == student.id, Comment.author_id != student.id,
               Comment.status == CommentStatus.visible)
        .order_by(Comment.created_at.desc(), Comment.id.desc()).limit(limit)
    ).all()
    return [RecentFeedback(comment, author, title, f"{item_link(item_type, comment.item_id)}#comment-{comment.id}")
            for comment, author, title, item_type in rows]


def comment_seen_by(*, session: Session, viewer: User, comment_id: int) -> tuple[Comment, ThreadItem, bool]:
    """A comment `viewer` may see (with its item and whether they teach its owner), or 404."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise not_found()
    item = item_visible_by_id(session=session, viewer=viewer, item_id=comment.item_id)
    teaches_owner = viewer.id != item.owner_id and is_teacher_of(session=session, viewer=viewer, student_id=item.owner_id)
    if not may_see(comment, viewer=viewer, teaches_owner=teaches_owner):
        raise not_found()
    return comment, item, teaches_owner
