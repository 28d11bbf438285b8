"""Feedback: requests a student sends, comments on items (threaded one level), and notifications."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class RequestStatus(str, Enum):
    open = "open"
    answered = "answered"
    withdrawn = "withdrawn"


class FeedbackRequest(SQLModel, table=True):
    """A student asking named people for feedback on one of their items."""

    __tablename__ = "feedback_requests"

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="items.id", index=True, ondelete="CASCADE")
    question: str = Field(default="", sa_type=sa.Text)
    status: RequestStatus = Field(sa_column=_enum_column(RequestStatus, nullable=False, default=RequestStatus.open))
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = Field(default=None)


class FeedbackRecipient(SQLModel, table=True):
    __tablename__ = "feedback_recipients"

    request_id: int = Field(foreign_key="feedback_requests.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", primary_key=True, index=True, ondelete="CASCADE")
    answered_at: datetime | None = Field(default=None)


class CommentKind(str, Enum):
    teacher = "teacher"
    peer = "peer"
    family = "family"
    student = "student"  # the owner replying


class CommentStatus(str, Enum):
    visible = "visible"
    pending = "pending"  # waiting for a teacher's approval (peer or family comments, per class setting)
    reported = "reported"  # hidden until a teacher reviews it
    removed = "removed"


class Comment(SQLModel, table=True):
    """A comment on an artefact, reflection or goal; replies point to their parent (one level deep)."""

    __tablename__ = "comments"
    __table_args__ = (sa.Index("ix_comments_item", "item_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")  # the student whose item it is
    author_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="comments.id", index=True, ondelete="CASCADE")
    request_id: int | None = Field(default=None, foreign_key="feedback_requests.id", ondelete="SET NULL")
    kind: CommentKind = Field(sa_column=_enum_column(CommentKind, nullable=False))
    body: str = Field(default="", sa_type=sa.Text)
    # Peer feedback's kind structure: I noticed… / I wonder… / Next time…
    noticed: str = Field(default="", sa_type=sa.Text)
    wonder: str = Field(default="", sa_type=sa.Text)
    next_time: str = Field(default="", sa_type=sa.Text)
    # A teacher's next step, which the student can turn into a goal step (or a new goal) with one click.
    next_step: str = Field(default="", max_length=300)
    next_step_used_at: datetime | None = Field(default=None)
    # A teacher's spoken feedback: an audio artefact of the student's, part of this comment (see Reflection).
    audio_artefact_id: int | None = Field(default=None, foreign_key="artefacts.id", ondelete="SET NULL", index=True)
    status: CommentStatus = Field(sa_column=_enum_column(CommentStatus, nullable=False, default=CommentStatus.visible))
    reviewed_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None)
    reported_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reported_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class NotificationKind(str, Enum):
    feedback_received = "feedback_received"
    request_received = "request_received"
    item_approved = "item_approved"
    item_returned = "item_returned"
    comment_reported = "comment_reported"
    comment_pending = "comment_pending"
    guardian_linked = "guardian_linked"
    conference_booked = "conference_booked"
    conference_changed = "conference_changed"
    conference_cancelled = "conference_cancelled"  # 20 characters: the column's limit
    family_response = "family_response"
    item_waiting = "item_waiting"
    added_to_class = "added_to_class"  # to a student an admin put in a class
    student_added = "student_added"  # to the teachers of a student an admin put in a class
    student_joined = "student_joined"  # to the teachers of a student who joined a class with its code


class Notification(SQLModel, table=True):
    """Something for one user to know; the words are made in their language when shown, from kind and params."""

    __tablename__ = "notifications"
    __table_args__ = (sa.Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    # What it is about, when that is an item or a showcase: deleting it deletes the notification (its words name it).
    item_id: int | None = Field(default=None, foreign_key="items.id", index=True, ondelete="CASCADE")
    showcase_id: int | None = Field(default=None, foreign_key="showcases.id", index=True, ondelete="CASCADE")
    kind: NotificationKind = Field(sa_column=_enum_column(NotificationKind, nullable=False))
    params: dict = Field(default_factory=dict, sa_type=sa.JSON)
    link: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = Field(default=None)
    # When it went out by email (users who chose email); `folio send-digests` sends those still None.
    emailed_at: datetime | None = Field(default=None)


class ApprovalStatus(str, Enum):
    pending = "pending"
    approved = "approved"
    returned = "returned"


class ItemApproval(SQLModel, table=True):
    """A teacher's decision on a family-audience item or showcase, where the student's class asks for one first.

    It covers the item as approved: `approved_text` keeps the family-visible words a teacher approved, so a later
    change to them puts the item back to pending and the teacher's inbox can show what changed."""

    __tablename__ = "item_approvals"
    __table_args__ = (
        sa.UniqueConstraint("showcase_id", name="uq_item_approvals_showcase_id"),
        # Either an item (artefact, reflection or goal) or a showcase, never both.
        sa.CheckConstraint("(item_id IS NULL) <> (showcase_id IS NULL)", name="ck_item_approvals_one_target"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int | None = Field(default=None, foreign_key="items.id", unique=True, ondelete="CASCADE")
    showcase_id: int | None = Field(default=None, foreign_key="showcases.id", ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    status: ApprovalStatus = Field(sa_column=_enum_column(ApprovalStatus, nullable=False, default=ApprovalStatus.pending))
    note: str = Field(default="", sa_type=sa.Text)  # the teacher's words when returning it
    requested_at: datetime = Field(default_factory=utcnow)
    reviewed_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None)
    # The family-visible words at the last approval, by field (app.services.moderation.approvals.family_texts); None until a
    # teacher approves it (or for approvals from before these were kept).
    approved_text: dict | None = Field(default=None, sa_type=sa.JSON)
