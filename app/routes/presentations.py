"""Student-led conferences: present a showcase full screen, and collect the family's response to it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import CurrentUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.models import ResponseSource, Role
from app.services.conferences import conference_responses as service
from app.access import not_found
from app.services.showcases.showcase_items import showcase_of_owner, showcase_visible_to
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

# Generous here: the service explains a too-long answer beside its field instead of a bare 422.
AnswerField = Annotated[str, Form(max_length=20_000)]


def _render_presentation(request: Request, session, user, showcase, *, data=None, thanks=False, status_code=200) -> Response:
    slides = service.slides_for(session=session, settings=request.app.state.settings, showcase=showcase, viewer=user,
                                thanks=thanks)
    data = data or service.ResponseInput()
    start = ""
    if data.errors:
        start = next(s.anchor for s in slides if s.kind == "respond")
    elif thanks:
        start = "thanks"
    context = {"showcase": showcase, "slides": slides, "data": data, "errors": data.errors, "start": start,
               "answer_max": service.ANSWER_MAX}
    return render(request, "present/present.html", context, status_code=status_code)


@router.get("/showcases/{showcase_id:int}/present")
def present_showcase(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep, responded: str = "",
) -> Response:
    """The full-screen presentation of one of the student's own showcases."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    return _render_presentation(request, session, user, showcase, thanks=bool(responded))


@router.post("/showcases/{showcase_id:int}/responses")
def create_conference_response(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep,
    author_name: AnswerField = "", proud: AnswerField = "", next_hope: AnswerField = "",
) -> Response:
    """Save the family's response typed on the student's device at the end of the presentation."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    data = service.validate_response(author_name=author_name, proud=proud, next_hope=next_hope)
    if data.errors:
        return _render_presentation(request, session, user, showcase, data=data, status_code=422)
    service.record_response(session=session, showcase=showcase, author=None, author_name=data.author_name,
                            proud=data.proud, next_hope=data.next_hope, source=ResponseSource.conference)
    session.commit()
    return RedirectResponse(f"/showcases/{showcase.id}/present?responded=1#thanks", status_code=303)


def _showcase_for_family(session, user, showcase_id: int):
    # Role guards answer 403; here everyone but a guardian who may see the showcase gets 404.
    if user.role is not Role.guardian:
        raise not_found()
    return showcase_visible_to(session=session, viewer=user, showcase_id=showcase_id)


def _render_respond(request: Request, showcase, data, status_code=200) -> Response:
    context = {"showcase": showcase, "data": data, "errors": data.errors, "answer_max": service.ANSWER_MAX}
    return render(request, "present/respond.html", context, status_code=status_code)


@router.get("/showcases/{showcase_id:int}/respond")
def respond_form(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """A guardian's response to a showcase they may see, from their own login."""
    showcase = _showcase_for_family(session, user, showcase_id)
    return _render_respond(request, showcase, service.ResponseInput(author_name=user.display_name))


@router.post("/showcases/{showcase_id:int}/respond")
def create_family_response(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep,
    author_name: AnswerField = "", proud: AnswerField = "", next_hope: AnswerField = "",
) -> Response:
    """Save a guardian's response and tell the student."""
    showcase = _showcase_for_family(session, user, showcase_id)
    data = service.validate_response(author_name=author_name, proud=proud, next_hope=next_hope)
    if data.errors:
        return _render_respond(request, showcase, data, status_code=422)
    service.record_response(session=session, showcase=showcase, author=user,
                            author_name=data.author_name or user.display_name, proud=data.proud,
                            next_hope=data.next_hope, source=ResponseSource.family)
    session.commit()
    response = RedirectResponse(f"/showcases/{showcase.id}/responses", status_code=303)
    owner_name = service.owner_name(session=session, showcase=showcase)
    flash(request, response, _("Thank you. Your response was sent to %(name)s.", name=owner_name), "success")
    return response


@router.get("/showcases/{showcase_id:int}/responses")
def list_responses(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """The family's responses on a showcase, newest first (the student, their teachers, its family)."""
    showcase = service.showcase_responses_visible_to(session=session, viewer=user, showcase_id=showcase_id)
    responses = service.responses_for(session=session, showcase=showcase)
    context = {"showcase": showcase, "responses": responses, "is_owner": user.id == showcase.owner_id,
               "owner_name": service.owner_name(session=session, showcase=showcase)}
    return render(request, "present/responses.html", context)
