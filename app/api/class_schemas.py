"""The teachers' API bodies: classes, their rosters and overview, a teacher's rating (pydantic, with examples)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas import Id, Text


class Person(BaseModel):
    """A member of a class, by name."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 7, "display_name": "Maya Chen"}]})

    id: int
    display_name: str


class ClassSummary(BaseModel):
    """A class as the teacher's (or the admin's) home lists it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 3, "name": "Grade 5 Maple", "year": "2026", "term": "Autumn", "archived": False,
        "teachers": [{"id": 2, "display_name": "Ms Rivera"}], "student_count": 24, "page_url": "/classes/3",
        "api_url": "/api/v1/classes/3"}]})

    id: int
    name: str
    year: str
    term: str | None
    archived: bool = Field(description="An archived class is history: its students' work is kept, nothing changes.")
    teachers: list[Person]
    student_count: int
    page_url: str
    api_url: str


class ClassList(BaseModel):
    """The teacher's classes (live ones first, then archived ones); an admin's: the school's live
    classes."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"classes": [{"id": 3, "name": "Grade 5 Maple",
        "year": "2026", "term": "Autumn", "archived": False, "teachers": [{"id": 2, "display_name": "Ms Rivera"}],
        "student_count": 24, "page_url": "/classes/3", "api_url": "/api/v1/classes/3"}]}]})

    classes: list[ClassSummary]


class ClassSettings(BaseModel):
    """Who sees what in the class, and what waits for a teacher's approval."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"classmates_see_class_items": True,
        "peer_comments_need_approval": True, "family_items_need_approval": False, "secret_links_allowed": True}]})

    classmates_see_class_items: bool
    peer_comments_need_approval: bool
    family_items_need_approval: bool
    secret_links_allowed: bool


class ClassDetail(ClassSummary):
    """A class with its roster and settings, as its page shows them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 3, "name": "Grade 5 Maple", "year": "2026", "term": "Autumn", "archived": False,
        "teachers": [{"id": 2, "display_name": "Ms Rivera"}], "student_count": 1, "page_url": "/classes/3",
        "api_url": "/api/v1/classes/3", "join_code": "MAPLE-7Q2K",
        "settings": {"classmates_see_class_items": True, "peer_comments_need_approval": True,
                     "family_items_need_approval": False, "secret_links_allowed": True},
        "students": [{"id": 7, "display_name": "Maya Chen"}], "overview_url": "/api/v1/classes/3/overview"}]})

    join_code: str
    settings: ClassSettings
    students: list[Person]
    overview_url: str


class Level(BaseModel):
    """A level of a framework's scale."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 12, "position": 3, "label": "Proficient"}]})

    id: int
    position: int
    label: str


class CompetencyColumn(BaseModel):
    """A competency of the class's frameworks (a column of the competency grid)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 31, "code": "C1.2",
        "name": "Explains a fair test", "framework": "Core Competencies", "depth": 1}]})

    id: int
    code: str
    name: str
    framework: str
    depth: int = Field(description="0 for a top-level competency, 1 for its children...")


class CompetencyCell(BaseModel):
    """One student's latest self-assessment and latest teacher assessment of one competency."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"competency_id": 31, "latest_self": {"id": 11,
        "position": 2, "label": "Developing"}, "latest_teacher": None}]})

    competency_id: int
    latest_self: Level | None
    latest_teacher: Level | None


class OverviewStudent(BaseModel):
    """One student's row of the class overview, with their competency coverage."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 7, "display_name": "Maya Chen", "last_evidence": "2026-11-23", "last_reflection": "2026-11-20T09:00:00Z",
        "active_goals": 2, "open_requests": 1, "awaiting_approval": 0, "quiet": False, "self_assessed": 4,
        "teacher_assessed": 3, "ratings": [], "items_url": "/api/v1/classes/3/students/7/items"}]})

    id: int
    display_name: str
    last_evidence: date | None
    last_reflection: datetime | None
    active_goals: int
    open_requests: int = Field(description="Feedback requests the student has open.")
    awaiting_approval: int = Field(description="Comments on the student's work waiting for a teacher.")
    quiet: bool = Field(description="No published reflection in the last 14 days.")
    self_assessed: int = Field(description="How many of the class's competencies the student rated themselves on.")
    teacher_assessed: int = Field(description="How many of them a teacher rated.")
    ratings: list[CompetencyCell] = Field(description="The competencies rated so far (by the student or a teacher).")
    items_url: str


class ClassOverview(BaseModel):
    """The class overview page and its competency grid: every student's recent activity and coverage."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id": 3, "name": "Grade 5 Maple", "quiet_days": 14,
        "competencies": [{"id": 31, "code": "C1.2", "name": "Explains a fair test", "framework": "Core Competencies",
        "depth": 1}], "students": []}]})

    id: int
    name: str
    quiet_days: int
    competencies: list[CompetencyColumn]
    students: list[OverviewStudent]


class NewRating(BaseModel):
    """A teacher's assessment, checked like the form on the student's competency page."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "level_id": 12, "comment": "Explains the fair test clearly; next, control one more variable.",
        "artefact_ids": [42]}]})

    level_id: Id = Field(description="A level of the competency's own scale.")
    comment: Text(10_000) = Field(description="What you saw, and what would take them to the next level.")
    artefact_ids: list[Id] = Field(default_factory=list, max_length=200,
                                   description="Evidence: the student's artefacts you may see (others are ignored).")


class RatingOut(BaseModel):
    """A teacher's assessment as saved (a new one every time, never an edit)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 90, "student_id": 7, "competency_id": 31, "level": {"id": 12, "position": 3, "label": "Proficient"},
        "comment": "Explains the fair test clearly.", "artefact_ids": [42], "created_at": "2026-11-24T10:00:00Z",
        "page_url": "/students/7/competencies/31"}]})

    id: int
    student_id: int
    competency_id: int
    level: Level
    comment: str
    artefact_ids: list[int]
    created_at: datetime
    page_url: str
