"""Request bodies of the goal operations a student writes through the API (pydantic, with examples for the OpenAPI
document): a new goal, an edit that names its version, steps, check-ins and status changes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import AudienceName, Id, Text

Version = Field(ge=1, le=2_000_000_000)


class NewGoal(BaseModel):
    """A goal, checked like the goal form: a title, a target day not yet passed, up to 30 steps."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "Read 10 books", "why": "I want to read faster.", "success_criteria": "Ten books on my list, done.",
        "target_date": "2027-06-01", "audience": "family", "steps": ["Choose the books", "Read one a month"],
        "competency_ids": [3], "tags": ["reading"]}]})

    title: Text(1000) = Field(examples=["Read 10 books"])
    why: Text(50_000) = ""
    success_criteria: Text(50_000) = ""
    target_date: date | None = Field(None, description="Today or later (a date the goal already has may stay).")
    audience: AudienceName = Field("private", description="family: your family sees it after a teacher's approval "
                                   "where your class asks for one (as on the goal form).")
    competency_ids: list[Id] = Field(default_factory=list, max_length=200,
                                     description="Competencies of your classes' frameworks; others are ignored.")
    tags: list[Text(60)] = Field(default_factory=list, max_length=50)
    steps: list[Text(1000)] = Field(default_factory=list, max_length=100, description="The checklist, in order.")


class GoalUpdate(BaseModel):
    """The goal's words as they should be (steps change through their own operations), with the `version` read."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "title": "Read 12 books", "why": "I want to read faster.", "target_date": "2027-06-01", "audience": "family",
        "tags": ["reading"], "version": 2}]})

    title: Text(1000) = Field(examples=["Read 12 books"])
    why: Text(50_000) = ""
    success_criteria: Text(50_000) = ""
    target_date: date | None = None
    audience: AudienceName = "private"
    competency_ids: list[Id] = Field(default_factory=list, max_length=200)
    tags: list[Text(60)] = Field(default_factory=list, max_length=50)
    version: int = Field(ge=1, le=2_000_000_000, description="The goal's `version` you read: a stale one is 409.")


class NewStep(BaseModel):
    """A step added at the end of the checklist."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "Read one chapter a day"}]})

    text: Text(1000) = Field(examples=["Read one chapter a day"])


class StepUpdate(BaseModel):
    """A step's new words (with the step's `version`, as the edit page sends it), or its tick, or both."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"done": True}, {"text": "Read two chapters a day", "version": 1}]})

    text: Text(1000) | None = Field(None, description="New words; send the step's `version` with them.")
    version: int | None = Field(None, ge=1, le=2_000_000_000)
    done: bool | None = Field(None, description="Ticked off (true) or not yet (false).")


class StepMove(BaseModel):
    """Move a step one place up or down the checklist, with the step's `version` as read (its words and its place)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"direction": "up", "version": 1}]})

    direction: Literal["up", "down"]
    version: int = Field(ge=1, le=2_000_000_000, description="The step's `version` you read: a step renamed or moved "
                         "since (a move changes the versions of both steps that swap places) is 409, nothing moved.")


class NewCheckIn(BaseModel):
    """A progress note, checked like the goal page's check-in form: words, evidence or steps done (at least one)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "occurred_on": "2026-11-24", "note": "Finished book three.", "artefact_ids": [42], "step_ids": [5]}]})

    occurred_on: date | None = Field(None, description="The day it happened (default: today; not in the future).")
    note: Text(50_000) = ""
    artefact_ids: list[Id] = Field(default_factory=list, max_length=200, description="Your own evidence.")
    step_ids: list[Id] = Field(default_factory=list, max_length=100, description="This goal's steps, now done.")


class GoalStatusChange(BaseModel):
    """Pause, resume, drop, reopen, or achieve (with the closing reflection the goal page asks for)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "achieve", "closing_text": "I read ten books by reading every evening."}, {"action": "pause"}]})

    action: Literal["pause", "resume", "drop", "reopen", "achieve"]
    closing_text: Text(50_000) = Field("", description="For achieve: what you achieved and how (saved as a "
                                       "published reflection linked to the goal).")


class CheckInOut(BaseModel):
    """A check-in as saved."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 9, "goal_id": 12, "occurred_on": "2026-11-24", "note": "Finished book three.", "artefact_ids": [42],
        "step_ids": [5], "goal_url": "/api/v1/goals/12"}]})

    id: int
    goal_id: int
    occurred_on: date
    note: str
    artefact_ids: list[int]
    step_ids: list[int]
    goal_url: str
