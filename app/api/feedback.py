"""/api/v1 feedback: an item's comment thread as its page shows it to the token's owner, a comment or reply by the
comment form's rules (who may write what, approvals, notifications), and a student's requests for feedback (asked
and withdrawn)."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Response
from sqlmodel import select

from app.access import not_found
from app.access.loaders import valid_id
from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.bodies import body_schema, json_body
from app.api.items import READ_ERRORS, WRITE_ERRORS, item_row, recording_heard, recording_out
from app.api.problems import created, invalid_body
from app.api.schemas import Id, Recording
from app.api.student_schemas import (
    CommentOut,
    FeedbackRequestOut,
    NewComment,
    NewFeedbackRequest,
    Person,
    RecipientList,
    ThreadOut,
)
from app.db import SessionDep
from app.models import Artefact, Comment, FeedbackRecipient, FeedbackRequest, MediaKind, Reflection, Role, User
from app.services.moderation import comment_writing, thread_items
from app.services.moderation import feedback as service
from app.services.moderation import feedback_requests

router = APIRouter(tags=["feedback"])
BODY_MODELS = (NewComment, NewFeedbackRequest)


def _person(user: User) -> Person:
    return Person(id=user.id, display_name=user.display_name, role=user.role.value)


def _comment(comment: Comment, author: User, replies: list[CommentOut] | None = None,
             recording: Recording | None = None) -> CommentOut:
    return CommentOut(id=comment.id, item_id=comment.item_id, parent_id=comment.parent_id, kind=comment.kind.value,
                      status=comment.status.value, author=_person(author), body=comment.body, noticed=comment.noticed,
                      wonder=comment.wonder, next_time=comment.next_time, next_step=comment.next_step,
                      created_at=comment.created_at, recording=recording, replies=replies or [])


def _spoken_feedback(session, viewer: User, comments: list[Comment]) -> dict[int, Recording]:
    """The recordings of the comments `viewer` sees, by comment id, in two queries: a sound file of the student's that
    a comment plays is heard by whoever sees the comment (artefacts.artefact_visible_to's rule); one that a reflection
    or evidence plays too is asked of that rule itself (file_visible_to), so no address given here answers 404."""
    wanted = {c.id: c for c in comments if c.audio_artefact_id}
    if not wanted:
        return {}
    ids = {c.audio_artefact_id for c in wanted.values()}
    files = {a.id: a for a in session.exec(select(Artefact).where(Artefact.id.in_(ids))).all()}
    elsewhere = set(session.exec(sa.union(
        select(Reflection.audio_artefact_id).where(Reflection.audio_artefact_id.in_(ids)),
        select(Artefact.audio_artefact_id).where(Artefact.audio_artefact_id.in_(ids)))).scalars().all())
    found = {}
    for comment_id, comment in wanted.items():
        recording = files.get(comment.audio_artefact_id)
        if recording is None or recording.owner_id != comment.owner_id or recording.media_kind is not MediaKind.audio:
            continue  # only a sound file of the student's is spoken feedback (artefact_visible_to agrees)
        heard = (recording_heard(session, viewer, recording) if recording.id in elsewhere
                 else recording_out(recording))
        if heard is not None:
            found[comment_id] = heard
    return found


def _request_out(session, request: FeedbackRequest) -> FeedbackRequestOut:
    chosen = sorted(session.exec(
        select(FeedbackRecipient.user_id).where(FeedbackRecipient.request_id == request.id)).all())
    return FeedbackRequestOut(id=request.id, item_id=request.item_id, question=request.question,
                              status=request.status.value, recipient_ids=chosen)


def _item(session, viewer: User, item_id: int) -> thread_items.ThreadItem:
    """The item if the viewer may see it on its page; else 404 (an id no row could have too)."""
    if not valid_id(item_id):
        raise not_found()
    return thread_items.item_visible_by_id(session=session, viewer=viewer, item_id=item_id)


@router.get("/items/{item_id}/comments", response_model=ThreadOut, responses=READ_ERRORS,
            summary="Read an item's comments")
def read_thread(item_id: Id, caller: ApiCaller, session: SessionDep) -> ThreadOut:
    """The comments the token's owner may see on an item they may see (pending ones: their own, or their students'
    for a teacher), replies under their comment; anyone else's private item is a 404."""
    row = item_row(session, item_id)
    thread = service.visible_comments(session=session, viewer=caller.user, item_type=row.type, item_id=item_id)
    spoken = _spoken_feedback(session, caller.user,
                              [c.comment for v in thread.comments for c in (v, *v.replies)])
    return ThreadOut(
        item_id=item_id, can_comment=thread.can_comment, writes_as=thread.kind.value,
        comments=[_comment(v.comment, v.author, [_comment(r.comment, r.author, recording=spoken.get(r.comment.id))
                                                 for r in v.replies], spoken.get(v.comment.id))
                  for v in thread.comments],
        open_requests=[r.id for r in thread.requests])


@router.post("/items/{item_id}/comments", response_model=CommentOut, status_code=201, summary="Comment on an item",
             responses={**WRITE_ERRORS, **created("The item's thread (`GET /items/{item_id}/comments`).")},
             openapi_extra=body_schema(NewComment))
def create_comment(item_id: Id, body: Annotated[NewComment, Depends(json_body(NewComment))], response: Response,
                   caller: WritingCaller, session: SessionDep) -> CommentOut:
    """A comment or a reply, by the comment form's rules: its kind follows the writer's role (classmates write I
    noticed / I wonder / Next time), a class may hold it for a teacher's approval (status pending), and the owner or
    the teachers are told."""
    user = caller.user
    item = _item(session, user, item_id)
    kind = service.kind_for(viewer=user, owner_id=item.owner_id)
    data = comment_writing.parse_comment(kind=kind, body=body.body, noticed=body.noticed, wonder=body.wonder,
                                 next_time=body.next_time, next_step=body.next_step,
                                 parent_id=str(body.parent_id or ""))
    comment = None if data.errors else comment_writing.add_comment(session=session, author=user, item=item, data=data)
    if comment is None:
        session.rollback()
        raise invalid_body(data.errors)
    session.commit()
    response.headers["Location"] = f"/api/v1/items/{item.id}/comments"
    return _comment(comment, user)


@router.get("/feedback/recipients", response_model=RecipientList, responses=READ_ERRORS,
            summary="Who I may ask for feedback")
def list_recipients(caller: ApiCaller, session: SessionDep) -> RecipientList:
    """The student's teachers and classmates, teachers first: the people a feedback request may name."""
    require_role(caller, Role.student)
    people = feedback_requests.possible_recipients(session=session, student=caller.user)
    return RecipientList(people=[_person(user) for user in people])


@router.post("/items/{item_id}/feedback-requests", response_model=FeedbackRequestOut, status_code=201,
             summary="Ask for feedback on my item", openapi_extra=body_schema(NewFeedbackRequest),
             responses={**WRITE_ERRORS, **created(
                 "The item's thread, the request among its `open_requests` (`GET /items/{item_id}/comments`).")})
def create_feedback_request(item_id: Id, body: Annotated[NewFeedbackRequest, Depends(json_body(NewFeedbackRequest))],
                            response: Response, caller: WritingCaller, session: SessionDep) -> FeedbackRequestOut:
    """Ask named teachers or classmates (who must be able to see the item) a question about one of the student's own
    items; each is told and finds it in their inbox."""
    require_role(caller, Role.student)
    item = _item(session, caller.user, item_id)
    sent, errors = feedback_requests.request_feedback(session=session, student=caller.user, item=item,
                                                      recipient_ids=set(body.recipient_ids), question=body.question)
    if sent is None:
        session.rollback()
        raise invalid_body(errors)
    session.commit()
    # A request is read in its item's thread (its id among `open_requests`), as a comment is.
    response.headers["Location"] = f"/api/v1/items/{item.id}/comments"
    return _request_out(session, sent)


@router.post("/feedback-requests/{request_id}/withdraw", response_model=FeedbackRequestOut, responses=WRITE_ERRORS,
             summary="Withdraw my feedback request")
def withdraw_feedback_request(request_id: Id, caller: WritingCaller, session: SessionDep) -> FeedbackRequestOut:
    """Take back an open request the student made (its id is in `open_requests` of the item's comments): it leaves
    every inbox, as with the item page's Withdraw button. One already answered or withdrawn stays as it is (its
    `status` says which); anyone else's request is a 404."""
    require_role(caller, Role.student)
    withdrawn = feedback_requests.withdraw_request(session=session, student=caller.user, request_id=request_id)
    session.commit()
    return _request_out(session, withdrawn)
