"""Request and response bodies of the student's API surface beyond items: reflections, self-assessments, frameworks
and feedback threads (pydantic, with examples for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import AudienceName, Id, ItemDetail, ItemSummary, Recording, Text

# --- reflections ---------------------------------------------------------------------------------


class ReflectionDetail(ItemDetail):
    """A reflection with what it links to, and the version an update must name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 51, "type": "reflection", "kind": "published", "title": "What the volcano taught me",
        "audience": "class", "occurred_on": "2026-11-24", "updated_at": "2026-11-24T09:10:00Z", "owner_id": 7,
        "page_url": "/reflections/51", "api_url": "/api/v1/reflections/51", "body": "I learned that **gas** ...",
        "status": "published", "version": 2, "artefact_ids": [42], "goal_ids": [], "competency_ids": [3],
        "tags": ["science"]}]})

    status: Literal["draft", "published"]
    version: int = Field(description="Send it back with an update: a stale one is refused (409), never overwritten.")
    artefact_ids: list[int] = Field(default_factory=list, description="Linked evidence the reader may see.")
    goal_ids: list[int] = Field(default_factory=list, description="Linked goals the reader may see.")
    competency_ids: list[int] = Field(default_factory=list)


class ReflectionSummary(ItemSummary):
    """A reflection as the list shows it (its words and links: GET its `api_url`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 51, "type": "reflection", "kind": "draft", "title": "What the volcano taught me", "audience": "private",
        "occurred_on": "2026-11-24", "updated_at": "2026-11-24T09:10:00Z", "owner_id": 7, "page_url": "/reflections/51",
        "api_url": "/api/v1/reflections/51", "status": "draft", "version": 1}]})

    status: Literal["draft", "published"]
    version: int


class ReflectionList(BaseModel):
    """A page of the student's reflections, newest first; `next` is the following page's address (null: last)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reflections": [], "total": 0, "next": None}]})

    reflections: list[ReflectionSummary]
    total: int
    next: str | None = None


class NewReflection(BaseModel):
    """A reflection, checked like the reflection form: a draft may be empty, a published one needs words."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "What the volcano taught me", "body": "I learned that **gas** needs room.", "status": "published",
        "audience": "class", "artefact_ids": [42], "competency_ids": [3], "tags": ["science"]}]})

    title: Text(200) = Field(examples=["What the volcano taught me"])
    body: Text(100_000) = Field("", description="Markdown.")
    status: Literal["draft", "published"] = Field("published", description="A draft is yours alone.")
    audience: AudienceName = "private"
    artefact_ids: list[Id] = Field(default_factory=list, max_length=200,
                                   description="Your own evidence to link; others are ignored.")
    goal_ids: list[Id] = Field(default_factory=list, max_length=200, description="Your own goals; others are ignored.")
    competency_ids: list[Id] = Field(default_factory=list, max_length=200,
                                     description="Competencies of your classes' frameworks; others are ignored.")
    tags: list[Text(60)] = Field(default_factory=list, max_length=50)


class ReflectionUpdate(NewReflection):
    """The whole reflection as it should be, with the `version` it was read at."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "What the volcano taught me", "body": "I learned that **gas** needs room.", "status": "published",
        "audience": "class", "version": 2}]})

    version: int = Field(ge=1, le=2_000_000_000, description="The `version` of the reflection you read.")


# --- frameworks and self-assessments --------------------------------------------------------------


class LevelOut(BaseModel):
    """A level of a framework's scale, with what it means."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 2, "position": 2, "label": "Developing",
        "descriptor": "I can do it with help."}]})

    id: int
    position: int = Field(description="1 is the first step of the scale.")
    label: str
    descriptor: str = ""


class CompetencyOut(BaseModel):
    """A competency of a framework (nested under `parent_id`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 3, "code": "C1", "name": "Communicating",
        "description": "", "parent_id": None, "depth": 0}]})

    id: int
    code: str
    name: str
    description: str = ""
    parent_id: int | None = None
    depth: int = Field(description="0 for a top-level competency.")


class FrameworkOut(BaseModel):
    """A framework the student is assessed against, in the reader's language where the school translated it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1, "name": "Core Competencies", "description": "",
        "levels": [{"id": 1, "position": 1, "label": "Emerging", "descriptor": "I am starting to..."}],
        "competencies": [{"id": 3, "code": "C1", "name": "Communicating", "description": "", "parent_id": None,
                          "depth": 0}]}]})

    id: int
    name: str
    description: str = ""
    levels: list[LevelOut]
    competencies: list[CompetencyOut]


class FrameworkList(BaseModel):
    """The frameworks the student is assessed against."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"frameworks": []}]})

    frameworks: list[FrameworkOut]


class RatingOut(BaseModel):
    """One rating: the student's own (self) or a teacher's; ratings are never edited, each is a new one."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 90, "competency_id": 3, "source": "self", "level": {"id": 2, "position": 2, "label": "Developing",
                                                                   "descriptor": ""},
        "reason": "I explained my experiment to the class.", "rated_by": "Maya Chen",
        "created_at": "2026-11-24T09:12:00Z", "artefact_ids": [42]}]})

    id: int
    competency_id: int
    source: Literal["self", "teacher"]
    level: LevelOut
    reason: str
    rated_by: str
    created_at: datetime
    artefact_ids: list[int] = Field(default_factory=list)


class CompetencyRatings(BaseModel):
    """A competency with the student's latest self-rating, their teacher's latest, and every rating, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"competency": {"id": 3, "code": "C1",
        "name": "Communicating", "description": "", "parent_id": None, "depth": 0}, "framework_id": 1,
        "latest_self": None, "latest_teacher": None, "history": [],
        "ratings_url": "/api/v1/competencies/3/ratings"}]})

    competency: CompetencyOut
    framework_id: int
    latest_self: RatingOut | None = None
    latest_teacher: RatingOut | None = None
    history: list[RatingOut]
    ratings_url: str


class SelfAssessmentList(BaseModel):
    """Every competency the student may rate, by framework, with their latest self-rating."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"competencies": []}]})

    competencies: list[CompetencyRatings]


class NewSelfRating(BaseModel):
    """A self-assessment, checked like the form: a level of the competency's own scale and a reason."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "level_id": 2, "reason": "I explained my experiment to the class.", "artefact_ids": [42]}]})

    level_id: Id
    reason: Text(10_000) = Field(examples=["I explained my experiment to the class."])
    artefact_ids: list[Id] = Field(default_factory=list, max_length=200,
                                   description="Your own evidence; others are ignored.")


# --- feedback ------------------------------------------------------------------------------------


class Person(BaseModel):
    """Someone a student may ask for feedback, or a comment's author."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 3, "display_name": "Ms Rivera",
        "role": "teacher"}]})

    id: int
    display_name: str
    role: Literal["student", "teacher", "guardian", "admin"]


class CommentOut(BaseModel):
    """A comment as the reader may see it: peers write I noticed / I wonder / Next time, others a text."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 5, "item_id": 42, "parent_id": None, "kind": "teacher", "status": "visible",
        "author": {"id": 3, "display_name": "Ms Rivera", "role": "teacher"}, "body": "Great predictions!",
        "noticed": "", "wonder": "", "next_time": "", "next_step": "Label your diagram.",
        "created_at": "2026-11-24T10:00:00Z", "replies": []}]})

    id: int
    item_id: int
    parent_id: int | None = None
    kind: Literal["teacher", "peer", "family", "student"]
    status: Literal["visible", "pending", "reported", "removed"] = Field(
        description="pending: waiting for a teacher's approval (seen by its author and the teachers).")
    author: Person
    body: str = ""
    noticed: str = ""
    wonder: str = ""
    next_time: str = ""
    next_step: str = ""
    created_at: datetime
    recording: Recording | None = Field(None, description="A teacher's spoken feedback, heard by whoever sees the "
                                        "comment.")
    replies: list["CommentOut"] = Field(default_factory=list)


class ThreadOut(BaseModel):
    """An item's comments as the reader may see them, and what the reader would write."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "item_id": 42, "can_comment": True, "writes_as": "peer", "comments": [], "open_requests": []}]})

    item_id: int
    can_comment: bool = Field(description="False on a draft.")
    writes_as: Literal["teacher", "peer", "family", "student"] = Field(
        description="peer: send noticed/wonder/next_time (a reply: body); everyone else: body.")
    comments: list[CommentOut]
    open_requests: list[int] = Field(default_factory=list,
                                     description="The owner's open feedback requests (owner only).")


class NewComment(BaseModel):
    """A comment or reply, checked like the comment form for the writer's kind."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"body": "I love the photos of the eruption."},
        {"noticed": "Your labels are clear.", "wonder": "What if you used more vinegar?"}]})

    body: Text(20_000) = ""
    noticed: Text(20_000) = ""
    wonder: Text(20_000) = ""
    next_time: Text(20_000) = ""
    next_step: Text(20_000) = Field("", description="Teachers only: a next step the student can add to a goal.")
    parent_id: Id | None = Field(None, description="The top-level comment this replies to.")


class RecipientList(BaseModel):
    """The teachers and classmates a student may ask for feedback."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"people": [{"id": 3, "display_name": "Ms Rivera",
        "role": "teacher"}]}]})

    people: list[Person]


class NewFeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "question": "Is my conclusion clear?", "recipient_ids": [3]}]})

    question: Text(20_000) = Field(examples=["Is my conclusion clear?"])
    recipient_ids: list[Id] = Field(max_length=200, description="From GET /feedback/recipients; they must be able to "
                                    "see the item.")


class FeedbackRequestOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 8, "item_id": 42, "question": "Is my conclusion clear?", "status": "open", "recipient_ids": [3]}]})

    id: int
    item_id: int
    question: str
    status: Literal["open", "answered", "withdrawn"]
    recipient_ids: list[int]
