"""Feedback pages: an item's comment thread, commenting, reports and reviews, next steps, requests, the teacher inbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from app import storage as file_storage
from app.access import not_found
from app.auth import CurrentUser, StudentUser, TeacherUser, require_user
from app.db import SessionDep, read_in_thread
from app.flash import flash, redirect_with
from app.i18n import _, ngettext
from app.models import Comment, CommentKind, User
from app.services.moderation import approvals, comment_reviews, comment_writing, next_steps, thread_items
from app.services.moderation import feedback as service
from app.services.portfolio.links import link_to_item
from app.services.moderation import feedback_requests
from app.services.family import reactions
from app.services.portfolio import uploads
from app.services.portfolio import stored_files
from app.templating import render, wants_fragment
from app.routes.ids import FormId, FormIds, PathId, QueryId

router = APIRouter(dependencies=[Depends(require_user)])

ShortText = Annotated[str, Form(max_length=1000)]
LongText = Annotated[str, Form(max_length=20_000)]


def _thread_page(request: Request, session, user, *, item_type: str, item_id: int, data=None, status_code: int = 200) -> Response:
    thread = service.visible_comments(session=session, viewer=user, item_type=thread_items.parse_item_type(item_type), item_id=item_id)
    context = {"thread": thread, "data": data or comment_writing.CommentInput(),
               "standalone": not wants_fragment(request),
               "questions": feedback_requests.questions_for(session=session, viewer=user, item=thread.item),
               "reactions": reactions.bar_for_item(session=session, viewer=user, item_id=thread.item.id,
                                                   owner_id=thread.item.owner_id, teaches_owner=thread.teaches_owner)}
    return render(request, "feedback/thread.html", context, block="thread", status_code=status_code)


def _back_to(item_link: str, anchor: str = "comments") -> RedirectResponse:
    return RedirectResponse(f"{item_link}#{anchor}", status_code=303)


@router.get("/feedback/thread")
def show_thread(request: Request, user: CurrentUser, session: SessionDep, item_id: QueryId, item_type: str = "") -> Response:
    """An item's comments and the comment form (a fragment for the item page, or a page of its own)."""
    return _thread_page(request, session, user, item_type=item_type, item_id=item_id)


async def _receive(request: Request, session, user, item: thread_items.ThreadItem) -> uploads.ReceivedForm:
    """The comment form, plain or multipart; a teacher's recording is kept in the student's folder (their quota)."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        return uploads.ReceivedForm(fields={key: [str(v) for v in form.getlist(key) if isinstance(v, str)] for key in form.keys()})
    settings = request.app.state.settings
    quota, file_fields = 0, frozenset()  # only a teacher's form has a file (a recording)
    if service.kind_for(viewer=user, owner_id=item.owner_id) is CommentKind.teacher:
        owner = await read_in_thread(session, session.get, User, item.owner_id)
        quota, file_fields = max(0, settings.student_quota_bytes - owner.storage_used_bytes), frozenset({"audio"})
    try:
        return await uploads.receive_multipart(request, store=file_storage.uploads(settings), owner_id=item.owner_id,
                                               max_file_bytes=settings.max_upload_bytes, quota_remaining=quota,
                                               file_fields=file_fields, max_files=1)
    except uploads.MalformedUpload:
        raise HTTPException(status_code=400) from None
    except uploads.UploadTooLarge:
        raise HTTPException(status_code=413) from None


def _save_comment(request: Request, session, user, item: thread_items.ThreadItem, form: uploads.ReceivedForm) -> Response:
    settings = request.app.state.settings
    store = file_storage.uploads(settings)
    kind = service.kind_for(viewer=user, owner_id=item.owner_id)
    audio = [f for f in form.files if f.field == "audio"]
    data = comment_writing.parse_comment(kind=kind, body=form.first("body"), noticed=form.first("noticed"),
                                 wonder=form.first("wonder"), next_time=form.first("next_time"),
                                 next_step=form.first("next_step"), parent_id=form.first("parent_id"), has_audio=bool(audio))
    for problem in form.errors:  # only a teacher's form shows the recording field; others show it on top
        data.errors["audio" if kind is CommentKind.teacher else "form"] = problem.message
    try:
        comment = None if data.errors else comment_writing.add_comment(
            session=session, author=user, item=item, data=data, audio=audio[0] if audio else None,
            quota_bytes=settings.student_quota_bytes)
        if comment is not None:
            session.commit()
    except Exception:
        session.rollback()
        stored_files.discard(store=store, files=form.files)
        raise
    if comment is None:
        session.rollback()
        stored_files.discard(store=store, files=form.files)
        return _thread_page(request, session, user, item_type=item.type.value, item_id=item.id, data=data, status_code=422)
    response = _back_to(item.link, f"comment-{comment.id}")
    if comment.status.value == "pending":
        flash(request, response, _("Thanks! Your comment will appear once a teacher has approved it."), "success")
    else:
        flash(request, response, _("Your comment is posted."), "success")
    return response


@router.post("/feedback/comments")
async def create_comment(request: Request, user: CurrentUser, session: SessionDep, item_id: QueryId, item_type: str = "") -> Response:
    """Save a comment or reply (a teacher's may carry a recording) on an item the writer can see (404 otherwise).

    The item is named in the query string, so a recording can be streamed straight into its student's folder."""
    item = await read_in_thread(session, thread_items.item_visible_to, session=session, viewer=user,
                                item_type=thread_items.parse_item_type(item_type), item_id=item_id)
    form = await _receive(request, session, user, item)
    return await run_in_threadpool(_save_comment, request, session, user, item, form)


@router.post("/feedback/comments/{comment_id}/report")
def report_comment(request: Request, comment_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Hide a comment until a teacher has looked at it."""
    comment = comment_reviews.report_comment(session=session, viewer=user, comment_id=comment_id)
    session.commit()
    response = _back_to(link_to_item(session=session, item_id=comment.item_id))
    flash(request, response, _("Thank you. The comment is hidden until a teacher has looked at it."), "success")
    return response


@router.post("/feedback/comments/{comment_id}/review")
def review_comment(
    request: Request, comment_id: PathId, user: TeacherUser, session: SessionDep, action: ShortText = "", back: ShortText = "",
) -> Response:
    """Approve, restore or remove one comment (teachers of the item's owner)."""
    comment = comment_reviews.review_comment(session=session, teacher=user, comment_id=comment_id, action=action)
    session.commit()
    link = "/inbox" if back == "inbox" else link_to_item(session=session, item_id=comment.item_id) + "#comments"
    response = RedirectResponse(link, status_code=303)
    messages = {"visible": _("The comment is visible again."), "removed": _("The comment is removed."),
                "pending": _("The comment still waits for approval."), "reported": _("The comment stays hidden.")}
    flash(request, response, messages[comment.status.value], "success")
    return response


@router.post("/feedback/comments/{comment_id}/next-step")
def use_next_step(request: Request, comment_id: PathId, user: StudentUser, session: SessionDep, goal: ShortText = "") -> Response:
    """Turn a teacher's next step into a step of a goal (or a new goal)."""
    result, problem = next_steps.use_next_step(session=session, owner=user, comment_id=comment_id, goal_choice=goal)
    if problem:
        session.rollback()
        comment = session.get(Comment, comment_id)
        comment_link = link_to_item(session=session, item_id=comment.item_id) if comment else "/"
        response = _back_to(comment_link, f"comment-{comment_id}")
        flash(request, response, problem, "error")
        return response
    session.commit()
    return redirect_with(request, f"/goals/{result.id}#steps",
                         _("The next step is now part of “%(title)s”.", title=result.title))


# --- requests ----------------------------------------------------------------------------------


@router.get("/feedback/requests/new")
def new_request(request: Request, user: StudentUser, session: SessionDep, item_id: QueryId, item_type: str = "") -> Response:
    """Ask teachers or classmates for feedback on one of your items."""
    item = thread_items.item_visible_to(session=session, viewer=user, item_type=thread_items.parse_item_type(item_type), item_id=item_id)
    if item.owner_id != user.id:
        raise not_found()
    people = feedback_requests.possible_recipients(session=session, student=user)
    return render(request, "feedback/request_form.html",
                  {"item": item, "people": people, "errors": {}, "question": "", "chosen": set()})


@router.post("/feedback/requests")
def create_request(
    request: Request, user: StudentUser, session: SessionDep, item_type: ShortText = "", item_id: FormId = 0,
    question: LongText = "", recipient_ids: FormIds = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Send the request; it waits in each recipient's inbox until they answer or you withdraw it."""
    item = thread_items.item_visible_to(session=session, viewer=user, item_type=thread_items.parse_item_type(item_type), item_id=item_id)
    sent, errors = feedback_requests.request_feedback(session=session, student=user, item=item, recipient_ids=set(recipient_ids),
                                            question=question)
    if sent is None:
        session.rollback()
        people = feedback_requests.possible_recipients(session=session, student=user)
        return render(request, "feedback/request_form.html", {
            "item": item, "people": people, "errors": errors, "question": question, "chosen": set(recipient_ids)},
            status_code=422)
    session.commit()
    response = _back_to(item.link)
    flash(request, response, _("Your request is sent."), "success")
    return response


@router.post("/feedback/requests/{request_id}/withdraw")
def withdraw_request(request: Request, request_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Take a request back."""
    withdrawn = feedback_requests.withdraw_request(session=session, student=user, request_id=request_id)
    session.commit()
    response = _back_to(link_to_item(session=session, item_id=withdrawn.item_id))
    flash(request, response, _("Your request is withdrawn."), "success")
    return response


# --- the teacher's inbox -----------------------------------------------------------------------


@router.get("/inbox")
def show_inbox(request: Request, user: TeacherUser, session: SessionDep) -> Response:
    """Feedback requests and comments waiting for this teacher, oldest first."""
    return render(request, "feedback/inbox.html", {"inbox": feedback_requests.inbox(session=session, teacher=user),
                                                    "approvals": approvals.waiting_for(session=session, teacher=user)})


@router.post("/inbox/approve")
def approve_comments(request: Request, user: TeacherUser, session: SessionDep, comment_ids: FormIds = []) -> Response:  # noqa: B006
    """Approve every ticked pending comment at once."""
    approved = comment_reviews.bulk_approve(session=session, teacher=user, comment_ids=comment_ids)
    session.commit()
    response = RedirectResponse("/inbox", status_code=303)
    if approved:
        flash(request, response, ngettext("%(num)s comment approved.", "%(num)s comments approved.", approved), "success")
    else:
        flash(request, response, _("Tick the comments you want to approve first."), "error")
    return response
