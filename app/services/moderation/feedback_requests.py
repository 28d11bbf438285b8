"""Feedback requests (a student asking named people) and the teacher's inbox of what waits for them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Comment,
    CommentStatus,
    FeedbackRecipient,
    FeedbackRequest,
    NotificationKind,
    RequestStatus,
    Item,
    ItemType,
    User,
)
from app.models.base import utcnow
from app.access import can_see, not_found
from app.access.relationships import classmates_of, students_taught_by
from app.services.moderation.comment_writing import too_long
from app.services.moderation.thread_items import ThreadItem
from app.services.portfolio.links import item_link
from app.services.moderation.notifications import notify

MAX_QUESTION = 2000


# --- feedback requests -------------------------------------------------------------------------


def possible_recipients(*, session: Session, student: User) -> list[User]:
    """The student's teachers and classmates (active classes), teachers first, by name (one query)."""
    return list(session.exec(
        select(User)
        .where(User.id.in_(classmates_of(student.id)), User.is_active == True)  # noqa: E712
        .order_by(User.role.desc(), User.display_name)
    ).all())


def request_feedback(*, session: Session, student: User, item: ThreadItem, recipient_ids: set[int], question: str
                     ) -> tuple[FeedbackRequest | None, dict[str, str]]:
    """Ask named teachers and classmates about one of the student's items, and tell them."""
    errors: dict[str, str] = {}
    if item.owner_id != student.id:
        raise not_found()
    question = question.strip()
    if not question:
        errors["question"] = _("Write what you'd like to know, like “Is my conclusion clear?”.")
    elif problem := too_long(question, MAX_QUESTION):
        errors["question"] = problem
    candidates = {user.id: user for user in possible_recipients(session=session, student=student)}
    chosen = [candidates[i] for i in sorted(recipient_ids) if i in candidates]
    if not chosen:
        errors["recipients"] = _("Choose at least one teacher or classmate to ask.")
    blind = [user.display_name for user in chosen
             if not can_see(session=session, viewer=user, owner_id=item.owner_id, audience=item.audience, draft=item.draft)]
    if blind:
        errors["recipients"] = _("%(names)s can't see this item. Share it with your class first, or ask someone else.",
                                 names=", ".join(blind))
    if errors:
        return None, errors
    request = FeedbackRequest(student_id=student.id, item_id=item.id, question=question,
                              status=RequestStatus.open)
    session.add(request)
    session.flush()
    for user in chosen:
        session.add(FeedbackRecipient(request_id=request.id, user_id=user.id))
        notify(session=session, user_id=user.id, kind=NotificationKind.request_received, link=item.link, item_id=item.id,
               name=student.display_name, title=item.title)
    return request, {}


def withdraw_request(*, session: Session, student: User, request_id: int) -> FeedbackRequest:
    """The student takes back an open request; it leaves every inbox."""
    request = session.get(FeedbackRequest, request_id)
    if request is None or request.student_id != student.id:
        raise not_found()
    if request.status is RequestStatus.open:
        request.status, request.closed_at = RequestStatus.withdrawn, utcnow()
        session.add(request)
    return request


def questions_for(*, session: Session, viewer: User, item: ThreadItem) -> list[tuple[FeedbackRequest, str]]:
    """The open requests on `item` that ask `viewer` and that they haven't answered yet, oldest first (one query):
    what the student (named with it) wants to know, shown above the comment form."""
    if viewer.id == item.owner_id:
        return []
    return [(request, name) for request, name in session.exec(
        select(FeedbackRequest, User.display_name)
        .join(FeedbackRecipient, FeedbackRecipient.request_id == FeedbackRequest.id)
        .join(User, User.id == FeedbackRequest.student_id)
        .where(FeedbackRequest.item_id == item.id, FeedbackRequest.status == RequestStatus.open,
               FeedbackRecipient.user_id == viewer.id, FeedbackRecipient.answered_at.is_(None))
        .order_by(FeedbackRequest.created_at, FeedbackRequest.id)
    ).all()]


# --- the teacher's inbox -----------------------------------------------------------------------


@dataclass
class InboxRequest:
    request: FeedbackRequest
    student_name: str
    title: str
    item_type: ItemType

    @property
    def link(self) -> str:
        return item_link(self.item_type, self.request.item_id)


@dataclass
class InboxComment:
    comment: Comment
    author_name: str
    student_name: str
    title: str
    item_type: ItemType

    @property
    def link(self) -> str:
        return item_link(self.item_type, self.comment.item_id)


@dataclass
class Inbox:
    requests: list[InboxRequest]
    pending: list[InboxComment]
    reported: list[InboxComment]

    @property
    def empty(self) -> bool:
        return not (self.requests or self.pending or self.reported)


def inbox(*, session: Session, teacher: User) -> Inbox:
    """Open requests to the teacher and comments awaiting approval or review, oldest first (two queries)."""
    student = aliased(User)
    requests = session.exec(
        select(FeedbackRequest, student.display_name, Item.title, Item.type)
        .join(FeedbackRecipient, FeedbackRecipient.request_id == FeedbackRequest.id)
        .join(student, student.id == FeedbackRequest.student_id)
        .join(Item, Item.id == FeedbackRequest.item_id)
        .where(FeedbackRecipient.user_id == teacher.id, FeedbackRecipient.answered_at.is_(None),
               FeedbackRequest.status == RequestStatus.open)
        .order_by(FeedbackRequest.created_at, FeedbackRequest.id)
    ).all()
    author = aliased(User)
    comments = session.exec(
        select(Comment, author.display_name, student.display_name, Item.title, Item.type)
        .join(author, author.id == Comment.author_id)
        .join(student, student.id == Comment.owner_id)
        .join(Item, Item.id == Comment.item_id)
        .where(Comment.status.in_([CommentStatus.pending, CommentStatus.reported]),
               Comment.owner_id.in_(students_taught_by(teacher.id)))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    views = [InboxComment(c, author_name, student_name, title, item_type)
             for c, author_name, student_name, title, item_type in comments]
    return Inbox(
        requests=[InboxRequest(r, name, title, item_type) for r, name, title, item_type in requests],
        pending=[v for v in views if v.comment.status is CommentStatus.pending],
        reported=[v for v in views if v.comment.status is CommentStatus.reported],
    )

