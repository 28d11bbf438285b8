"""The teacher's inbox in the API: feedback requests, comments and family items waiting, and the decisions on them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import ItemTypeName, Text


class InboxRequest(BaseModel):
    """A student's open feedback request to the teacher."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 5, "student_id": 7, "student_name": "Maya Chen", "item_id": 42, "item_type": "artefact",
        "title": "Volcano experiment", "question": "Is my conclusion clear?", "created_at": "2026-11-23T14:05:00Z",
        "page_url": "/artefacts/42#comments", "item_url": "/api/v1/items/42"}]})

    id: int
    student_id: int
    student_name: str
    item_id: int
    item_type: ItemTypeName
    title: str
    question: str
    created_at: datetime
    page_url: str
    item_url: str


class InboxComment(BaseModel):
    """A comment on a student's item waiting for the teacher's approval, or reported for review."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 21, "status": "pending",
        "author_name": "Leo Park", "student_name": "Maya Chen", "item_id": 42, "item_type": "artefact",
        "title": "Volcano experiment", "body": "", "noticed": "Your labels are clear.",
        "wonder": "What if you used more vinegar?", "next_time": "", "created_at": "2026-11-23T15:00:00Z",
        "page_url": "/artefacts/42#comment-21"}]})

    id: int
    status: Literal["pending", "reported"]
    author_name: str
    student_name: str
    item_id: int
    item_type: ItemTypeName
    title: str
    body: str
    noticed: str
    wonder: str
    next_time: str
    created_at: datetime
    page_url: str


class FamilyChange(BaseModel):
    """A field of the item whose words changed since a teacher last approved it: its text before and after, or (for a
    list like tags or steps) the entries added and removed."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"field": "title", "label": "Title",
        "before": "Volcano", "after": "Volcano experiment", "added": [], "removed": []}]})

    field: str
    label: str
    before: str = ""
    after: str = ""
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)


class WaitingApproval(BaseModel):
    """A family item (or showcase) of the teacher's student waiting for approval, with the words families would see."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 11, "student_id": 7, "student_name": "Maya Chen", "title": "Volcano experiment", "item_id": 42,
        "item_type": "artefact", "showcase_id": None, "requested_at": "2026-11-23T14:05:00Z",
        "fingerprint": "3f1c9a", "approved_before": False, "text": {"title": "Volcano experiment"}, "changes": [],
        "page_url": "/artefacts/42", "approve_url": "/api/v1/approvals/11/approve",
        "return_url": "/api/v1/approvals/11/return"}]})

    id: int
    student_id: int
    student_name: str
    title: str
    item_id: int | None
    item_type: ItemTypeName | None = Field(description="null for a showcase.")
    showcase_id: int | None
    requested_at: datetime
    fingerprint: str = Field(description="The version shown: send it back as `seen` to approve only that version.")
    approved_before: bool
    text: dict[str, str | list[str]] = Field(description="What families would see, field by field.")
    changes: list[FamilyChange] = Field(description="What changed since a teacher last approved it.")
    page_url: str
    approve_url: str
    return_url: str


class Inbox(BaseModel):
    """What waits for the teacher across their classes, oldest first (the Inbox page)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"requests": [], "comments_waiting": [],
        "comments_reported": [], "approvals": []}]})

    requests: list[InboxRequest]
    comments_waiting: list[InboxComment]
    comments_reported: list[InboxComment]
    approvals: list[WaitingApproval]


class Approve(BaseModel):
    """Approve a family item as the inbox showed it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seen": "3f1c9a"}, {}]})

    seen: Text(200) | None = Field(None, description="The `fingerprint` the inbox gave: if the item changed since, "
                                   "it is not approved (409) and still waits.")


class ReturnNote(BaseModel):
    """Keep a family item from families, with a note to the student about what to change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "note": "Please leave out your classmate's full name."}]})

    note: Text(20_000) = Field(description="What to change (at most 2000 characters once trimmed).")


class Decision(BaseModel):
    """An approval after the teacher's decision."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 11, "status": "returned", "note": "Please leave out your classmate's full name.",
        "reviewed_at": "2026-11-24T08:00:00Z"}]})

    id: int
    status: Literal["pending", "approved", "returned"]
    note: str
    reviewed_at: datetime | None
