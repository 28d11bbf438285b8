"""Writing a comment or reply: the form's check for the writer's kind, the save (held for approval where the
class says so, a teacher's recording kept as the student's), and the feedback requests it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Audience,
    Comment,
    CommentKind,
    CommentStatus,
    FeedbackRecipient,
    FeedbackRequest,
    MediaKind,
    NotificationKind,
    RequestStatus,
    SchoolClass,
    User,
)
from app.models.base import utcnow
from app.access import relationships
from app.access.relationships import is_teacher_of, teacher_ids_of
from app.services.portfolio import storage
from app.access import family_approval_required
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts
from app.services.moderation.notifications import notify
from app.services.portfolio.stored_files import StoredFile
from app.services.moderation.thread_items import ThreadItem
from app.services.moderation.feedback import kind_for, may_see


MAX_BODY = 5000
MAX_PART = 2000
MAX_NEXT_STEP = 300


def peer_approval_needed(*, session: Session, author_id: int, owner_id: int) -> bool:
    """True when any active class the two students share holds peer comments for a teacher's approval."""
    return relationships.classmates_with_setting(session=session, author_id=author_id, owner_id=owner_id,
                                                 setting=SchoolClass.peer_comments_need_approval)


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
    """The message for a text over `limit` characters, or None."""
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
                or not may_see(parent, viewer=author, teaches_owner=teaches_owner)):
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
