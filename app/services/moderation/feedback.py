"""Feedback: comments on items (one level of replies), peer approval, reports, next steps, requests, the teacher inbox.

Who may see which comment is decided in one place, `_may_see`, used by `visible_comments` and every action
on a single comment; nobody comments on what they can't see (the item loaders 404 first).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Audience,
    CheckIn,
    CheckInArtefact,
    Comment,
    CommentKind,
    CommentStatus,
    FeedbackRecipient,
    FeedbackRequest,
    Goal,
    GoalStatus,
    ItemType,
    MediaKind,
    NotificationKind,
    ReflectionArtefact,
    ReflectionGoal,
    ReflectionStatus,
    RequestStatus,
    Role,
    SchoolClass,
    User,
)
from app.models.base import utcnow
from app.models.items import Item as ItemRow
from app.access import relationships
from app.access.relationships import is_teacher_of, students_taught_by, teacher_ids_of
from app.services.portfolio.links import item_link
from app.services.portfolio import goals as goal_service
from app.services.portfolio import storage
from app.access import family_approval_required, not_found
from app.services.portfolio.artefacts import ArtefactInput, artefact_visible_to, create_file_artefacts
from app.services.portfolio.goal_forms import MAX_TITLE, GoalData
from app.services.moderation.notifications import notify
from app.services.portfolio.reflections import reflection_visible_to
from app.services.portfolio.uploads import StoredFile

MAX_BODY = 5000
MAX_PART = 2000
MAX_NEXT_STEP = 300
MAX_QUESTION = 2000


# --- items -------------------------------------------------------------------------------------


@dataclass
class ThreadItem:
    """The artefact, reflection or goal a thread belongs to, as far as feedback needs it."""

    type: ItemType
    id: int
    owner_id: int
    title: str
    audience: Audience
    draft: bool = False

    @property
    def link(self) -> str:
        return item_link(self.type, self.id)


def parse_item_type(raw: str) -> ItemType:
    """The item type named in a form or query, or 404."""
    try:
        return ItemType(raw)
    except ValueError:
        raise not_found() from None


def item_visible_to(*, session: Session, viewer: User, item_type: ItemType, item_id: int) -> ThreadItem:
    """The item `viewer` may see, or 404 (the item services' own loaders decide)."""
    if item_type is ItemType.artefact:
        artefact = artefact_visible_to(session=session, viewer=viewer, artefact_id=item_id)
        return ThreadItem(item_type, artefact.id, artefact.owner_id, artefact.title, artefact.audience)
    if item_type is ItemType.reflection:
        reflection = reflection_visible_to(session=session, viewer=viewer, reflection_id=item_id)
        return ThreadItem(item_type, reflection.id, reflection.owner_id, reflection.title, reflection.audience,
                    draft=reflection.status is ReflectionStatus.draft)
    goal = goal_service.goal_visible_to(session=session, viewer=viewer, goal_id=item_id)
    return ThreadItem(item_type, goal.id, goal.owner_id, goal.title, goal.audience)


def item_visible_by_id(*, session: Session, viewer: User, item_id: int) -> ThreadItem:
    """The item with this id, of whatever type, if `viewer` may see it; or 404."""
    row = session.get(ItemRow, item_id)
    if row is None:
        raise not_found()
    return item_visible_to(session=session, viewer=viewer, item_type=row.type, item_id=item_id)




# --- who is who --------------------------------------------------------------------------------


def peer_approval_needed(*, session: Session, author_id: int, owner_id: int) -> bool:
    """True when any active class the two students share holds peer comments for a teacher's approval."""
    return relationships.classmates_with_setting(session=session, author_id=author_id, owner_id=owner_id,
                                                 setting=SchoolClass.peer_comments_need_approval)


def kind_for(*, viewer: User, owner_id: int) -> CommentKind:
    """The kind of comment `viewer` writes on `owner_id`'s item: decided by role, never chosen."""
    if viewer.id == owner_id:
        return CommentKind.student
    return {Role.teacher: CommentKind.teacher, Role.guardian: CommentKind.family}.get(viewer.role, CommentKind.peer)


# --- seeing comments ---------------------------------------------------------------------------


def _may_see(comment: Comment, *, viewer: User, teaches_owner: bool) -> bool:
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
        if not _may_see(comment, viewer=viewer, teaches_owner=teaches_owner):
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


def _comment_seen_by(*, session: Session, viewer: User, comment_id: int) -> tuple[Comment, ThreadItem, bool]:
    """A comment `viewer` may see (with its item and whether they teach its owner), or 404."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise not_found()
    item = item_visible_by_id(session=session, viewer=viewer, item_id=comment.item_id)
    teaches_owner = viewer.id != item.owner_id and is_teacher_of(session=session, viewer=viewer, student_id=item.owner_id)
    if not _may_see(comment, viewer=viewer, teaches_owner=teaches_owner):
        raise not_found()
    return comment, item, teaches_owner


# --- writing comments --------------------------------------------------------------------------


@dataclass
class CommentInput:
    """What someone typed in the comment form."""

    body: str = ""
    noticed: str = ""
    wonder: str = ""
    next_time: str = ""
    next_step: str = ""
    parent_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


def too_long(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return _("Use at most %(max)s characters (this has %(n)s).", max=limit, n=len(text))
    return None


def parse_comment(*, kind: CommentKind, body: str = "", noticed: str = "", wonder: str = "", next_time: str = "",
                  next_step: str = "", parent_id: str = "", has_audio: bool = False) -> CommentInput:
    """Check a comment form for the writer's kind: peers use I noticed / I wonder / Next time, others a text
    (a teacher's recording may stand in for it)."""
    data = CommentInput(body=body.strip(), noticed=noticed.strip(), wonder=wonder.strip(), next_time=next_time.strip(),
                        next_step=next_step.strip() if kind is CommentKind.teacher else "")
    data.parent_id = int(parent_id) if parent_id.strip().isdigit() else None
    errors = data.errors
    if kind is CommentKind.peer and data.parent_id is None:
        data.body = ""
        if not (data.noticed or data.wonder or data.next_time):
            errors["noticed"] = _("Fill in at least one: I noticed…, I wonder… or Next time….")
        for name in ("noticed", "wonder", "next_time"):
            if problem := too_long(getattr(data, name), MAX_PART):
                errors[name] = problem
    else:
        data.noticed = data.wonder = data.next_time = ""
        if not data.body and not has_audio:
            errors["body"] = _("Write your comment first.")
        elif problem := too_long(data.body, MAX_BODY):
            errors["body"] = problem
    if problem := too_long(data.next_step, MAX_NEXT_STEP):
        errors["next_step"] = problem
    return data


def add_comment(*, session: Session, author: User, item: ThreadItem, data: CommentInput, audio: StoredFile | None = None,
                quota_bytes: int | None = None) -> Comment | None:
    """Save a comment (or reply) on an item the author can see; None with data.errors when it can't be saved.

    A teacher's recording (`audio`, already stored in the student's folder) becomes an audio artefact owned by the
    student, saved private: it is part of the comment, heard by whoever may see the comment
    (artefacts.artefact_visible_to) and listed nowhere on its own; it counts against the student's quota
    (`quota_bytes`)."""
    if item.draft:
        data.errors["form"] = _("Drafts can't have comments yet.")
        return None
    kind = kind_for(viewer=author, owner_id=item.owner_id)
    if data.parent_id is not None:
        parent = session.get(Comment, data.parent_id)
        teaches_owner = kind is CommentKind.teacher and is_teacher_of(session=session, viewer=author, student_id=item.owner_id)
        if (parent is None or parent.item_id != item.id or parent.parent_id is not None
                or not _may_see(parent, viewer=author, teaches_owner=teaches_owner)):
            data.errors["form"] = _("That comment can't be answered: it may have been removed.")
            return None
    if audio is not None and (kind is not CommentKind.teacher or audio.media_kind is not MediaKind.audio):
        data.errors["audio"] = _("That file isn't a sound recording. Choose an audio file, or record one.")
        return None
    status = CommentStatus.visible
    if kind is CommentKind.peer and peer_approval_needed(session=session, author_id=author.id, owner_id=item.owner_id):
        status = CommentStatus.pending
    elif kind is CommentKind.family and family_approval_required(session=session, student_id=item.owner_id):
        # Where the class holds family items for approval, a family's comments wait for a teacher too.
        status = CommentStatus.pending
    comment = Comment(item_id=item.id, owner_id=item.owner_id, author_id=author.id,
                      parent_id=data.parent_id, kind=kind, body=data.body, noticed=data.noticed, wonder=data.wonder,
                      next_time=data.next_time, next_step=data.next_step, status=status)
    if audio is not None:
        owner = session.get(User, item.owner_id)
        recording = ArtefactInput(title=_("Feedback from %(name)s on “%(title)s”", name=author.display_name,
                                          title=item.title)[:200], audience=Audience.private)
        try:
            created = create_file_artefacts(session=session, owner=owner, files=[audio], data=recording,
                                            quota_bytes=quota_bytes)
        except storage.QuotaExceeded as full:  # nothing was reserved or added
            data.errors["audio"] = full.message
            return None
        comment.audio_artefact_id = created[0].id
    session.add(comment)
    comment.request_id = _answer_requests(session=session, author=author, item=item)
    session.flush()
    if status is CommentStatus.pending:
        for teacher_id in teacher_ids_of(session=session, student_id=item.owner_id):
            notify(session=session, user_id=teacher_id, kind=NotificationKind.comment_pending, link="/inbox", item_id=item.id,
                   name=author.display_name, title=item.title)
    elif author.id != item.owner_id:
        notify(session=session, user_id=item.owner_id, kind=NotificationKind.feedback_received, link=item.link, item_id=item.id,
               name=author.display_name, title=item.title)
    return comment


def _answer_requests(*, session: Session, author: User, item: ThreadItem) -> int | None:
    """Mark the author's part of open requests on the item answered; closes the ones everyone answered."""
    rows = session.exec(
        select(FeedbackRecipient, FeedbackRequest)
        .join(FeedbackRequest, FeedbackRequest.id == FeedbackRecipient.request_id)
        .where(FeedbackRecipient.user_id == author.id, FeedbackRecipient.answered_at.is_(None),
               FeedbackRequest.item_id == item.id,
               FeedbackRequest.status == RequestStatus.open)
    ).all()
    if not rows:
        return None
    now = utcnow()
    for recipient, _request in rows:
        recipient.answered_at = now
        session.add(recipient)
    session.flush()
    request_ids = [request.id for _recipient, request in rows]
    still_open = set(session.exec(
        select(FeedbackRecipient.request_id).where(FeedbackRecipient.request_id.in_(request_ids),
                                                   FeedbackRecipient.answered_at.is_(None))
    ).all())
    for _recipient, request in rows:
        if request.id not in still_open:
            request.status, request.closed_at = RequestStatus.answered, now
            session.add(request)
    return rows[0][1].id


# --- reports and reviews -----------------------------------------------------------------------


def report_comment(*, session: Session, viewer: User, comment_id: int) -> Comment:
    """Hide a comment until a teacher of the owner reviews it, and tell those teachers."""
    comment, item, _teaches = _comment_seen_by(session=session, viewer=viewer, comment_id=comment_id)
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
    comment, item, teaches_owner = _comment_seen_by(session=session, viewer=teacher, comment_id=comment_id)
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


# --- next steps --------------------------------------------------------------------------------


def use_next_step(*, session: Session, owner: User, comment_id: int, goal_choice: str) -> tuple[Goal | None, str | None]:
    """Turn a teacher's next step into a step of one of the owner's active goals, or a new goal ("new")."""
    comment = session.get(Comment, comment_id)
    if (comment is None or comment.owner_id != owner.id or comment.kind is not CommentKind.teacher
            or comment.status is not CommentStatus.visible or not comment.next_step):
        raise not_found()
    if comment.next_step_used_at is not None:
        return None, _("You've already used this next step.")
    if goal_choice == "new":
        data = GoalData(title=comment.next_step[:MAX_TITLE], why="", success_criteria="", target_date=None,
                        audience=Audience.private, competency_ids=set(), steps=[])
        goal = goal_service.create_goal(session=session, owner=owner, data=data)
    else:
        if not goal_choice.isdigit():
            return None, _("Choose one of your goals, or a new goal.")
        goal = goal_service.goal_for_owner(session=session, owner=owner, goal_id=int(goal_choice))
        if goal.status is not GoalStatus.active:
            return None, _("Choose one of your active goals, or a new goal.")
        _step, problem = goal_service.add_step(session=session, goal=goal, text=comment.next_step)
        if problem:
            return None, problem
    comment.next_step_used_at = utcnow()
    session.add(comment)
    return goal, None
