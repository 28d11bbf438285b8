"""The API's request and response bodies (pydantic, with examples for the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.access.loaders import MAX_ID

AudienceName = Literal["private", "class", "family"]
ItemTypeName = Literal["artefact", "reflection", "goal"]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def storable(text: str) -> str:
    """Refuse text no database column can hold: NUL characters (PostgreSQL) and lone surrogates (not UTF-8)."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return text


def Text(max_length: int):  # noqa: N802 (a type factory, used like one)
    return Annotated[str, Field(max_length=max_length), AfterValidator(storable)]


class TokenInfo(BaseModel):
    """The token a request came with: its name, scopes and expiry."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "My sync script", "scopes": ["read", "write"],
        "expires_at": "2027-03-07T00:00:00Z"}]})

    name: str = Field(examples=["My sync script"])
    scopes: list[Literal["read", "write"]] = Field(examples=[["read", "write"]])
    expires_at: datetime


class Me(BaseModel):
    """The token's owner."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "username": "maya", "display_name": "Maya Chen", "role": "student", "locale": "en",
        "token": {"name": "My sync script", "scopes": ["read"], "expires_at": "2027-03-07T00:00:00Z"}}]})

    id: int
    username: str
    display_name: str
    role: Literal["student", "teacher", "guardian", "admin"]
    locale: str | None = Field(None, description="The language chosen on the Account page (null: the browser's).")
    token: TokenInfo


class ItemSummary(BaseModel):
    """One artefact, reflection or goal as a list shows it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 42, "type": "artefact", "kind": "note", "title": "Volcano experiment", "audience": "family",
        "occurred_on": "2026-11-23", "updated_at": "2026-11-23T14:05:00Z", "owner_id": 7,
        "page_url": "/artefacts/42", "api_url": "/api/v1/items/42"}]})

    id: int
    type: ItemTypeName
    kind: str = Field(description="file/note/link for artefacts, draft/published for reflections, a goal's status.")
    title: str
    audience: AudienceName
    occurred_on: date
    updated_at: datetime
    owner_id: int
    page_url: str = Field(description="The item's page in Folio (for a signed-in browser).")
    api_url: str


class ShownPicture(BaseModel):
    """A picture the item's text shows ("![…](/files/12/large)"), fetched with the token at `api_url`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"file_id": 12, "api_url": "/api/v1/files/12/large"}]})

    file_id: int
    api_url: str = Field(examples=["/api/v1/files/12/large"],
                         description="Its large preview; `/small` and `/original` in place of `/large` give the others.")


class Recording(BaseModel):
    """A spoken recording that is part of a reflection, a piece of evidence (its spoken caption) or a teacher's comment:
    fetched with the token at `api_url`, by exactly whoever may read what it belongs to (the /files rule)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "file_id": 61, "media_type": "audio/webm", "size_bytes": 48213,
        "api_url": "/api/v1/files/61/original"}]})

    file_id: int
    media_type: str = Field(examples=["audio/webm"], description="As Folio sniffed it from the bytes.")
    size_bytes: int
    api_url: str = Field(examples=["/api/v1/files/61/original"])


class ItemDetail(ItemSummary):
    """One item with its words: a note's or reflection's body, a link's address, a goal's why and target date."""

    description: str = ""
    body: str = Field("", description="Markdown: a note's or reflection's text, a goal's why.")
    pictures: list[ShownPicture] = Field(default_factory=list,
                                         description="The pictures `body` shows that this token's owner may fetch.")
    url: str | None = Field(None, description="A link's address.")
    tags: list[str] = Field(default_factory=list)
    target_date: date | None = None
    recording: Recording | None = Field(None, description="A reflection's spoken recording, or a piece of evidence's "
                                        "spoken caption (null: none, or none this token's owner may hear).")


class ItemList(BaseModel):
    """A page of items; `next` is the address of the following page (null: this is the last one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [], "total": 0, "next": None}]})

    items: list[ItemSummary]
    total: int = Field(description="How many items match, over all pages.")
    next: str | None = Field(None, examples=["/api/v1/items?kind=note&cursor=eyJwIjoyLCJzIjoyMH0"])


class _NewArtefact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Text(200) = Field(examples=["Volcano experiment"])
    description: Text(5000) = ""
    occurred_on: date | None = Field(None, description="When it happened (default: today).")
    audience: AudienceName = Field("private", description="private: you and your teachers; class: classmates too "
                                   "(where the class allows it); family: your family (after a teacher's approval where "
                                   "your class asks for it).")
    tags: list[Text(60)] = Field(default_factory=list, max_length=50, examples=[["science", "group work"]])
    competency_ids: list[Id] = Field(default_factory=list, max_length=200,
                                     description="Competencies of your classes' frameworks; others are ignored.")


class NewNote(_NewArtefact):
    """A written note (Markdown), checked like the Add evidence form."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "Volcano experiment", "body": "We mixed **baking soda** and vinegar.", "audience": "private",
        "tags": ["science"]}]})

    body: Text(100_000) = Field(examples=["We mixed **baking soda** and vinegar."])


class NewLink(_NewArtefact):
    """A link to work that lives elsewhere, checked like the Add evidence form."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": "My Scratch game", "url": "https://scratch.mit.edu/projects/1", "audience": "class"}]})

    url: Text(2000) = Field(examples=["https://scratch.mit.edu/projects/1"])


class GoalStepOut(BaseModel):
    """One step of a goal's checklist; a rename names its `version`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 5, "text": "Read one a month", "done": False,
                                                               "version": 1}]})

    id: int
    text: str
    done: bool
    version: int


class GoalSummary(BaseModel):
    """A goal with how many of its steps are done."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 12, "title": "Read 10 books", "status": "active", "audience": "private", "target_date": "2027-06-01",
        "steps_done": 3, "steps_total": 10, "api_url": "/api/v1/goals/12"}]})

    id: int
    title: str
    status: Literal["active", "achieved", "paused", "dropped"]
    audience: AudienceName
    target_date: date | None
    steps_done: int
    steps_total: int
    api_url: str


class GoalDetail(GoalSummary):
    """A goal with its words, its steps, and the version an edit must name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 12, "title": "Read 10 books", "status": "active", "audience": "private", "target_date": "2027-06-01",
        "steps_done": 1, "steps_total": 2, "api_url": "/api/v1/goals/12", "why": "I want to read faster.",
        "success_criteria": "Ten books on my list, done.", "version": 3, "tags": ["reading"], "competency_ids": [3],
        "steps": [{"id": 5, "text": "Choose the books", "done": True, "version": 1}]}]})

    why: str = ""
    success_criteria: str = ""
    version: int = Field(description="Send it back with an edit: a stale one is refused (409), never overwritten.")
    tags: list[str] = Field(default_factory=list)
    competency_ids: list[int] = Field(default_factory=list)
    steps: list[GoalStepOut]


class GoalList(BaseModel):
    """The student's goals, active first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"goals": [{
        "id": 12, "title": "Read 10 books", "status": "active", "audience": "private", "target_date": "2027-06-01",
        "steps_done": 3, "steps_total": 10, "api_url": "/api/v1/goals/12"}]}]})

    goals: list[GoalSummary]


class Child(BaseModel):
    """A student linked to the guardian."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "display_name": "Maya Chen", "classes": ["Grade 5 Maple"], "feed_url": "/api/v1/family/children/7/feed"}]})

    id: int
    display_name: str
    classes: list[str]
    feed_url: str


class ChildList(BaseModel):
    """The students linked to the guardian."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"children": [{"id": 7, "display_name": "Maya Chen",
        "classes": ["Grade 5 Maple"], "feed_url": "/api/v1/family/children/7/feed"}]}]})

    children: list[Child]
