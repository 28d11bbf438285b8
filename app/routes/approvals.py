"""Teacher approval of family items: approve, return with a note (in place, with HTMX), or approve many at once (from
the inbox)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import TeacherUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _, ngettext
from app.security import client_address
from app.services.moderation import approvals as service
from app.routes.ids import FormIds, PathId
from app.templating import render, wants_fragment

router = APIRouter(dependencies=[Depends(require_user)])

Note = Annotated[str, Form(max_length=20_000)]
# "approval id:fingerprint" of each item as the teacher's inbox showed it (see approvals.fingerprint).
Seen = Annotated[list[str], Form()]


def _to_inbox() -> RedirectResponse:
    return RedirectResponse("/inbox#approvals", status_code=303)


@router.post("/approvals/approve")
def approve_items(request: Request, user: TeacherUser, session: SessionDep, approval_ids: FormIds = [],  # noqa: B006
                  seen: Seen = []) -> Response:  # noqa: B006
    """Approve every ticked item at once (each as the inbox showed it)."""
    result = service.bulk_approve(session=session, teacher=user, approval_ids=approval_ids,
                                  seen=service.parse_seen(seen), address=client_address(request))
    session.commit()
    response = _to_inbox()
    if result.changed:
        flash(request, response, ngettext(
            "%(num)s item changed since you opened your inbox, so it is still waiting. Look at it again.",
            "%(num)s items changed since you opened your inbox, so they are still waiting. Look at them again.",
            result.changed), "error")
    elif result.approved:
        flash(request, response, ngettext("%(num)s item approved.", "%(num)s items approved.", result.approved), "success")
    else:
        flash(request, response, _("Tick the items you want to approve first."), "error")
    return response


def _card(request: Request, session, user, approval_id: int, *, error: str = "", note: str | None = None,
          status_code: int = 200) -> Response:
    """The approval's card as the inbox shows it now, with what went wrong; or "done" once it no longer waits."""
    entry = service.waiting_item(session=session, teacher=user, approval_id=approval_id)
    if entry is None:
        context = {"done": _("It no longer waits for your approval."), "approval_id": approval_id}
    else:
        context = {"entry": entry, "error": error} | ({"note": note} if note is not None else {})
    return render(request, "approvals/card.html", context, block="card", status_code=status_code)


def _done(request: Request, approval_id: int, message: str) -> Response:
    """After a decision: with HTMX the card gives way to the message; without, back to the inbox with it."""
    if wants_fragment(request):
        return render(request, "approvals/card.html", {"done": message, "approval_id": approval_id}, block="card")
    response = _to_inbox()
    flash(request, response, message, "success")
    return response


@router.post("/approvals/{approval_id}/approve")
def approve_item(request: Request, approval_id: PathId, user: TeacherUser, session: SessionDep,
                 seen: Seen = []) -> Response:  # noqa: B006
    """Let the student's families see the item, as the inbox showed it."""
    _approval, problem = service.approve(session=session, teacher=user, approval_id=approval_id,
                                         seen=service.parse_seen(seen).get(approval_id), address=client_address(request))
    if problem:
        session.rollback()
        if wants_fragment(request):  # the card again, as it is now, with why
            return _card(request, session, user, approval_id, error=problem, status_code=409)
        response = _to_inbox()
        flash(request, response, problem, "error")
        return response
    session.commit()
    return _done(request, approval_id, _("Approved: families can see it now."))


@router.post("/approvals/{approval_id}/return")
def return_item(request: Request, approval_id: PathId, user: TeacherUser, session: SessionDep, note: Note = "") -> Response:
    """Keep the item from families, with a note to the student about what to change."""
    _approval, problem = service.return_item(session=session, teacher=user, approval_id=approval_id, note=note,
                                              address=client_address(request))
    if problem:
        session.rollback()
        if wants_fragment(request):  # the card again, the note kept, the message beside it
            return _card(request, session, user, approval_id, error=problem, note=note, status_code=422)
        response = _to_inbox()
        flash(request, response, problem, "error")
        return response
    session.commit()
    return _done(request, approval_id, _("Returned to the student with your note."))
