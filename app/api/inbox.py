"""/api/v1/inbox and /api/v1/approvals: what waits for a teacher (the Inbox page), and approving or returning a family
item with a note, through the approval pages' own service and checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.inbox_schemas import (
    Approve, Decision, FamilyChange, Inbox, InboxComment, InboxRequest, ReturnNote, WaitingApproval,
)
from app.api.bodies import body_schema, json_body
from app.api.items import READ_ERRORS, WRITE_ERRORS
from app.api.problems import ApiProblem, invalid_body, problem_responses
from app.api.schemas import Id
from app.db import SessionDep
from app.models import ItemApproval, Role
from app.security import client_address
from app.services.moderation import approvals, feedback_requests

router = APIRouter(tags=["inbox"])
BODY_MODELS = (Approve, ReturnNote)
DECISION_ERRORS = problem_responses(400, 401, 403, 404, 409, 413, 422, 429)


def _comment(entry: feedback_requests.InboxComment) -> InboxComment:
    comment = entry.comment
    return InboxComment(id=comment.id, status=comment.status.value, author_name=entry.author_name,
                        student_name=entry.student_name, item_id=comment.item_id, item_type=entry.item_type.value,
                        title=entry.title, body=comment.body, noticed=comment.noticed, wonder=comment.wonder,
                        next_time=comment.next_time, created_at=comment.created_at,
                        page_url=f"{entry.link}#comment-{comment.id}")


def _waiting(entry: approvals.WaitingItem) -> WaitingApproval:
    approval = entry.approval
    return WaitingApproval(
        id=approval.id, student_id=approval.owner_id, student_name=entry.student_name, title=entry.title,
        item_id=approval.item_id, item_type=entry.item_type.value if entry.item_type else None,
        showcase_id=approval.showcase_id, requested_at=approval.requested_at, fingerprint=entry.fingerprint,
        approved_before=entry.approved_before, text=entry.text,
        changes=[FamilyChange(field=c.name, label=approvals.field_label(c.name), before=c.before, after=c.after,
                              added=c.added, removed=c.removed) for c in entry.changes],
        page_url=entry.link, approve_url=f"/api/v1/approvals/{approval.id}/approve",
        return_url=f"/api/v1/approvals/{approval.id}/return")


def _decision(approval: ItemApproval) -> Decision:
    return Decision(id=approval.id, status=approval.status.value, note=approval.note, reviewed_at=approval.reviewed_at)


@router.get("/inbox", response_model=Inbox, responses=READ_ERRORS, summary="My inbox")
def read_inbox(caller: ApiCaller, session: SessionDep) -> Inbox:
    """Feedback requests to the teacher, comments waiting for approval or reported, and family items waiting for
    approval, across their classes, oldest first (a fixed number of queries)."""
    require_role(caller, Role.teacher)
    inbox = feedback_requests.inbox(session=session, teacher=caller.user)
    return Inbox(
        requests=[InboxRequest(id=r.request.id, student_id=r.request.student_id, student_name=r.student_name,
                               item_id=r.request.item_id, item_type=r.item_type.value, title=r.title,
                               question=r.request.question, created_at=r.request.created_at,
                               page_url=f"{r.link}#comments", item_url=f"/api/v1/items/{r.request.item_id}")
                  for r in inbox.requests],
        comments_waiting=[_comment(entry) for entry in inbox.pending],
        comments_reported=[_comment(entry) for entry in inbox.reported],
        approvals=[_waiting(entry) for entry in approvals.waiting_for(session=session, teacher=caller.user)])


@router.post("/approvals/{approval_id}/approve", response_model=Decision, responses=DECISION_ERRORS,
             summary="Approve a family item", openapi_extra=body_schema(Approve))
def approve(request: Request, approval_id: Id, body: Annotated[Approve, Depends(json_body(Approve))],
            caller: WritingCaller, session: SessionDep) -> Decision:
    """Let the student's families see the item as it is now (with `seen`: only if it is still the version the inbox
    showed, else 409); approving an approved item changes nothing."""
    require_role(caller, Role.teacher)
    approval, problem = approvals.approve(session=session, teacher=caller.user, approval_id=approval_id,
                                          seen=body.seen, address=client_address(request))
    if problem:
        session.rollback()
        raise ApiProblem(409, problem)
    session.commit()
    return _decision(approval)


@router.post("/approvals/{approval_id}/return", response_model=Decision, responses=WRITE_ERRORS,
             summary="Return a family item with a note", openapi_extra=body_schema(ReturnNote))
def return_item(request: Request, approval_id: Id, body: Annotated[ReturnNote, Depends(json_body(ReturnNote))],
                caller: WritingCaller, session: SessionDep) -> Decision:
    """Keep the item from families, with a note to the student about what to change (a note is needed)."""
    require_role(caller, Role.teacher)
    approval, problem = approvals.return_item(session=session, teacher=caller.user, approval_id=approval_id,
                                              note=body.note, address=client_address(request))
    if problem:
        session.rollback()
        raise invalid_body({"note": problem})
    session.commit()
    return _decision(approval)
