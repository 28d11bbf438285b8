"""/api/v1/reflections: the student's reflections (list, read, write, edit) through the reflection form's own checks
and service; an edit names the version it was read at, and a stale one is refused (409), never overwritten."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlmodel import Session, select

from app.api import cursors
from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.bodies import body_schema, json_body
from app.api.items import READ_ERRORS, WRITE_ERRORS, Cursor, Limit, pictures_shown, recording_heard, summary_of
from app.api.problems import ApiProblem, created, invalid_body, problem_responses
from app.api.schemas import Id
from app.api.student_schemas import (
    NewReflection,
    ReflectionDetail,
    ReflectionList,
    ReflectionSummary,
    ReflectionUpdate,
)
from app.db import SessionDep
from app.i18n import _
from app.models import Item, Reflection, Role, User
from app.pagination import paginate
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.portfolio import reflections as service

router = APIRouter(tags=["reflections"])
BODY_MODELS = (NewReflection, ReflectionUpdate)


def detail(session: Session, viewer: User, reflection: Reflection) -> ReflectionDetail:
    """The reflection with the links `viewer` may see (the reflection page's own rule)."""
    links = service.links_of(session=session, reflection=reflection, viewer=viewer)
    entry = session.get(Item, reflection.id, populate_existing=True)
    return ReflectionDetail(
        **{**summary_of(entry), "api_url": f"/api/v1/reflections/{reflection.id}"}, body=reflection.body,
        tags=links.tags, pictures=pictures_shown(session, viewer, reflection.body), status=reflection.status.value,
        version=reflection.version,
        recording=recording_heard(session, viewer, service.recording_of(session=session, reflection=reflection)),
        artefact_ids=[a.id for a in links.artefacts], goal_ids=[g.id for g in links.goals],
        competency_ids=[c.id for c in links.competencies])


def stale_version(sent: int, current: Reflection) -> ApiProblem:
    """The 409 for a change sent with a version the reflection has moved past (nothing was overwritten)."""
    message = _("This reflection was changed somewhere else after version %(sent)s was read; it is at version "
                "%(now)s now. Nothing was overwritten: read it again, then send your changes with that version.",
                sent=sent, now=current.version)
    return ApiProblem(409, message, errors={"version": message})


def _parse(session: Session, user: User, body: NewReflection, *, has_audio: bool = False) -> service.ReflectionInput:
    """The reflection form's parse and checks, fed from the JSON body (422 with a message per field); a spoken
    reflection (`has_audio`) may be published without written words, as on the form."""
    values = {"title": body.title, "body": body.body, "audience": body.audience, "tags": ",".join(body.tags),
              "action": "draft" if body.status == "draft" else "publish",
              "version": str(getattr(body, "version", ""))}
    lists = {name: [str(i) for i in getattr(body, name)] for name in ("artefact_ids", "goal_ids", "competency_ids")}
    owned_artefacts, owned_goals = service.owned_ids(session=session, owner=user)
    data = service.parse_input(
        lambda name: values.get(name, ""), lambda name: lists.get(name, []), owned_artefacts=owned_artefacts,
        owned_goals=owned_goals, prompts=service.prompts_for(session=session, student=user),
        allowed_competencies=allowed_ids(available_competencies(session=session, student=user)), has_audio=has_audio)
    if data.errors:
        raise invalid_body(data.errors)
    return data


@router.get("/reflections", response_model=ReflectionList, responses=READ_ERRORS, summary="List my reflections")
def list_reflections(request: Request, caller: ApiCaller, session: SessionDep, cursor: Cursor = None,
                     limit: Limit = 20) -> ReflectionList:
    """The student's reflections, drafts included, newest first (as on the Reflections page)."""
    require_role(caller, Role.student)
    number, size = cursors.decode(cursor, size=limit)
    statement = (select(Reflection).where(Reflection.owner_id == caller.user.id)
                 .order_by(Reflection.created_at.desc(), Reflection.id.desc()))
    page = paginate(session, statement, number=number, size=size)
    entries = {e.id: e for e in session.exec(select(Item).where(Item.id.in_([r.id for r in page.items]))).all()}
    return ReflectionList(reflections=[ReflectionSummary(
        **{**summary_of(entries[r.id]), "api_url": f"/api/v1/reflections/{r.id}"}, status=r.status.value,
        version=r.version) for r in page.items], total=page.total, next=cursors.next_address(request, page))


@router.get("/reflections/{reflection_id}", response_model=ReflectionDetail, responses=READ_ERRORS,
            summary="Read one reflection")
def read_reflection(reflection_id: Id, caller: ApiCaller, session: SessionDep) -> ReflectionDetail:
    """A reflection its page would show the token's owner (drafts are the owner's alone); anyone else's: 404."""
    reflection = service.reflection_visible_to(session=session, viewer=caller.user, reflection_id=reflection_id)
    return detail(session, caller.user, reflection)


@router.post("/reflections", response_model=ReflectionDetail, status_code=201, summary="Write a reflection",
             responses={**WRITE_ERRORS, **created("The reflection's address (`GET /reflections/{reflection_id}`).")},
             openapi_extra=body_schema(NewReflection))
def create_reflection(body: Annotated[NewReflection, Depends(json_body(NewReflection))], response: Response,
                      caller: WritingCaller, session: SessionDep) -> ReflectionDetail:
    """A draft or published reflection with its links, checked and saved like the reflection form (a class that holds
    family items for approval asks a teacher here too)."""
    require_role(caller, Role.student)
    data = _parse(session, caller.user, body)
    reflection = service.create_reflection(session=session, owner=caller.user, data=data)
    session.commit()
    response.headers["Location"] = f"/api/v1/reflections/{reflection.id}"
    return detail(session, caller.user, reflection)


@router.put("/reflections/{reflection_id}", response_model=ReflectionDetail, summary="Edit a reflection",
            responses={**WRITE_ERRORS, **problem_responses(409)},
            openapi_extra=body_schema(ReflectionUpdate))
def update_reflection(reflection_id: Id, body: Annotated[ReflectionUpdate, Depends(json_body(ReflectionUpdate))],
                      caller: WritingCaller, session: SessionDep) -> ReflectionDetail:
    """Replace the reflection's words and links, unless it changed since `version` was read: then 409, and nothing is
    overwritten (read it again, merge, and send the new version)."""
    require_role(caller, Role.student)
    reflection = service.reflection_for_owner(session=session, owner=caller.user, reflection_id=reflection_id)
    data = _parse(session, caller.user, body, has_audio=bool(reflection.audio_artefact_id))
    try:
        reflection = service.update_reflection(session=session, reflection=reflection, data=data)
    except service.EditConflict as conflict:
        raise stale_version(body.version, conflict.current) from None
    session.commit()
    return detail(session, caller.user, reflection)
