"""/api/v1/items: the token owner's items (the timeline's list, filters and search), one item as the item pages
show it, and new notes and links through the Add evidence form's own checks."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator
from sqlmodel import Session

from app.access import NotFound, not_found
from app.access.loaders import valid_id
from app.api import cursors
from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.bodies import body_schema, json_body
from app.api.problems import created, invalid_body, problem_responses
from app.api.schemas import (
    AudienceName, Id, ItemDetail, ItemList, ItemSummary, NewLink, NewNote, Recording, ShownPicture, storable,
)
from app.db import SessionDep
from app.models import Artefact, ArtefactKind, Audience, Goal, Item, ItemType, Reflection, Role, User
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import goals as goal_service
from app.services.portfolio import reflections as reflection_service
from app.services.portfolio import timeline
from app.services.portfolio.links import item_link
from app.services.portfolio.markdown import embedded_file_ids

router = APIRouter(tags=["items"])
READ_ERRORS = problem_responses(400, 401, 403, 404, 429)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 413, 422, 429)

SearchText = Annotated[str, Query(max_length=200), AfterValidator(storable)]
TagText = Annotated[str, Query(max_length=60), AfterValidator(storable)]
Cursor = Annotated[str | None, Query(max_length=200, description="The `next` address's cursor, as given.")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page (a cursor keeps the size it was made with).")]


def summary_of(entry: Item) -> dict:
    """The fields every item shows, from its row in `items`."""
    return {
        "id": entry.id, "type": entry.type.value, "kind": entry.kind, "title": entry.title,
        "audience": entry.audience.value, "occurred_on": entry.occurred_on, "updated_at": entry.updated_at,
        "owner_id": entry.owner_id, "page_url": item_link(entry.type, entry.id), "api_url": f"/api/v1/items/{entry.id}",
    }


def timeline_filters(
    q: SearchText = "", kind: Literal["file", "note", "link", "reflection", "goal"] | None = None,
    competency: Annotated[Id | None, Query(description="Only items tagged with this competency.")] = None,
    goal: Annotated[Id | None, Query(description="A goal, its reflections and its check-ins' evidence.")] = None,
    tag: TagText = "", audience: AudienceName | None = None, date_from: date | None = None,
    date_to: date | None = None,
) -> timeline.TimelineFilters:
    """The timeline's filters from the query, for every API list of a student's items."""
    return timeline.parse_filters(
        q=q, kind=kind or "", competency=str(competency or ""), goal=str(goal or ""), tag=tag,
        audience=audience or "", date_from=date_from.isoformat() if date_from else "",
        date_to=date_to.isoformat() if date_to else "")


TimelineQuery = Annotated[timeline.TimelineFilters, Depends(timeline_filters)]


@router.get("/items", response_model=ItemList, responses=READ_ERRORS, summary="List my items")
def list_items(request: Request, caller: ApiCaller, session: SessionDep, filters: TimelineQuery,
               cursor: Cursor = None, limit: Limit = 20) -> ItemList:
    """The student's own timeline, newest first (best match first with `q`), with the home page's filters."""
    require_role(caller, Role.student)
    number, size = cursors.decode(cursor, size=limit)
    page = timeline.timeline_page(session=session, owner_id=caller.user.id, filters=filters,
                                  audiences=frozenset(Audience), viewer_is_owner=True, number=number, size=size)
    return ItemList(items=[ItemSummary(**summary_of(row.entry)) for row in page.items], total=page.total,
                    next=cursors.next_address(request, page))


def item_detail(session: Session, viewer: User, entry: Item) -> ItemDetail:
    """The item as its page would show it to `viewer`, through that page's own loader (404 when it wouldn't)."""
    fields = summary_of(entry)
    if entry.type is ItemType.artefact:
        artefact: Artefact = artefact_service.artefact_visible_to(session=session, viewer=viewer, artefact_id=entry.id)
        details = artefact_service.details_of(session=session, artefact=artefact)
        caption = artefact_service.caption_of(session=session, artefact=artefact)
        return ItemDetail(**fields, description=artefact.description, body=artefact.body, url=artefact.url,
                          tags=details.tags, pictures=pictures_shown(session, viewer, artefact.body),
                          recording=recording_heard(session, viewer, caption))
    if entry.type is ItemType.reflection:
        reflection: Reflection = reflection_service.reflection_visible_to(session=session, viewer=viewer,
                                                                          reflection_id=entry.id)
        return ItemDetail(**fields, body=reflection.body, pictures=pictures_shown(session, viewer, reflection.body),
                          recording=recording_heard(session, viewer,
                                                    reflection_service.recording_of(session=session,
                                                                                    reflection=reflection)))
    goal: Goal = goal_service.goal_visible_to(session=session, viewer=viewer, goal_id=entry.id)
    return ItemDetail(**fields, body=goal.why, target_date=goal.target_date)


def recording_out(recording: Artefact) -> Recording:
    """The recording as the API shows it, fetched at /files/{id}/original."""
    return Recording(file_id=recording.id, media_type=recording.content_type or "", size_bytes=recording.size_bytes or 0,
                     api_url=f"/api/v1/files/{recording.id}/original")


def recording_heard(session: Session, viewer: User, recording: Artefact | None) -> Recording | None:
    """The recording of what `viewer` reads, if the /files route's own rule (file_visible_to) lets them fetch it: the
    address given is one that answers, and never a second rule."""
    if recording is None:
        return None
    try:
        artefact_service.file_visible_to(session=session, viewer=viewer, artefact_id=recording.id)
    except NotFound:
        return None
    return recording_out(recording)


def pictures_shown(session: Session, viewer: User, text: str) -> list[ShownPicture]:
    """The pictures `text` shows whose files `viewer` may fetch: the /files route's own rule (file_visible_to)."""
    shown = []
    for file_id in embedded_file_ids(text):  # one text's pictures, each asked once
        try:
            artefact_service.file_visible_to(session=session, viewer=viewer, artefact_id=file_id)
        except NotFound:
            continue
        shown.append(ShownPicture(file_id=file_id, api_url=f"/api/v1/files/{file_id}/large"))
    return shown


def item_row(session: Session, item_id: int) -> Item:
    """The item's row in `items`, or 404 (an id no row could have too); who may see it is for the caller to check."""
    entry = session.get(Item, item_id) if valid_id(item_id) else None
    if entry is None:
        raise not_found()
    return entry


@router.get("/items/{item_id}", response_model=ItemDetail, responses=READ_ERRORS, summary="Read one item")
def read_item(item_id: Id, caller: ApiCaller, session: SessionDep) -> ItemDetail:
    """An artefact, reflection or goal the token's owner may see on its page (anyone else's: 404, as there)."""
    return item_detail(session, caller.user, item_row(session, item_id))


def _create(response: Response, caller, session: Session, kind: ArtefactKind, body: NewNote | NewLink) -> ItemDetail:
    """The Add evidence form's path: the same parsing and checks, the same service (approval requests included)."""
    require_role(caller, Role.student)
    user = caller.user
    values = body.model_dump(exclude={"tags", "competency_ids"})
    values["occurred_on"] = body.occurred_on.isoformat() if body.occurred_on else ""
    values["tags"] = ",".join(body.tags)

    def first(name: str) -> str:
        return values.get(name) or ""

    def every(name: str) -> list[str]:
        return [str(i) for i in body.competency_ids] if name == "competency_ids" else []

    groups = available_competencies(session=session, student=user)
    data = artefact_service.parse_input(first, every, kind=kind, allowed_competencies=allowed_ids(groups))
    if data.errors:
        raise invalid_body(data.errors)
    artefact = artefact_service.create_text_artefact(session=session, owner=user, kind=kind, data=data)
    session.commit()
    response.headers["Location"] = f"/api/v1/items/{artefact.id}"
    response.status_code = 201
    return item_detail(session, user, session.get(Item, artefact.id, populate_existing=True))


BODY_MODELS = (NewNote, NewLink)


@router.post("/items/notes", response_model=ItemDetail, status_code=201, summary="Add a note",
             responses={**WRITE_ERRORS, **created("The note's address (`GET /items/{item_id}`).")},
             openapi_extra=body_schema(NewNote))
def create_note(body: Annotated[NewNote, Depends(json_body(NewNote))], response: Response, caller: WritingCaller,
                session: SessionDep) -> ItemDetail:
    """Save a written note to the student's evidence (a token that may write)."""
    return _create(response, caller, session, ArtefactKind.note, body)


@router.post("/items/links", response_model=ItemDetail, status_code=201, summary="Add a link",
             responses={**WRITE_ERRORS, **created("The link's address (`GET /items/{item_id}`).")},
             openapi_extra=body_schema(NewLink))
def create_link(body: Annotated[NewLink, Depends(json_body(NewLink))], response: Response, caller: WritingCaller,
                session: SessionDep) -> ItemDetail:
    """Save a link to work that lives elsewhere (a token that may write)."""
    return _create(response, caller, session, ArtefactKind.link, body)
