"""What the offline website's pages show: a view per artefact, reflection, goal, competency and showcase."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup

from app.models import (
    Artefact, CheckIn, Comment, Competency, Framework, Goal, GoalStep, ProficiencyLevel, RatingSource, Reflection,
    ReflectionStatus, School, Showcase, ShowcaseItem, ShowcaseItemType, User,
)
from app.services.badges.credentials import CredentialView
from app.services.competencies.ratings import RatingView


@dataclass
class CommentView:
    comment: Comment
    author: User
    replies: list[CommentView] = field(default_factory=list)


@dataclass
class ArtefactView:
    artefact: Artefact
    page: str  # site-relative, e.g. "evidence/artefact-3.html"
    tags: list[str] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    original: str | None = None  # archive-relative path of the original file, when the archive holds it
    image: str | None = None  # archive-relative path of the picture to show
    recording: bool = False  # a reflection's recording, an evidence's caption or a comment's spoken feedback:
    # played there, not listed
    caption: ArtefactView | None = None  # its spoken caption, played on its page


@dataclass
class ReflectionView:
    reflection: Reflection
    page: str
    artefacts: list[ArtefactView] = field(default_factory=list)
    goals: list[GoalView] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    audio: ArtefactView | None = None

    @property
    def draft(self) -> bool:
        return self.reflection.status is ReflectionStatus.draft


@dataclass
class CheckInView:
    checkin: CheckIn
    artefacts: list[ArtefactView] = field(default_factory=list)
    steps: list[GoalStep] = field(default_factory=list)


@dataclass
class GoalView:
    goal: Goal
    page: str
    steps: list[GoalStep] = field(default_factory=list)
    competencies: list[Competency] = field(default_factory=list)
    checkins: list[CheckInView] = field(default_factory=list)
    closing: ReflectionView | None = None

    @property
    def done(self) -> int:
        return sum(1 for step in self.steps if step.done)


@dataclass
class CompetencyView:
    competency: Competency
    framework: Framework
    levels: list[ProficiencyLevel]
    history: list[RatingView] = field(default_factory=list)  # newest first
    artefacts: list[ArtefactView] = field(default_factory=list)
    chart: Markup | None = None

    @property
    def anchor(self) -> str:
        return f"competency-{self.competency.id}"

    @property
    def latest_self(self) -> RatingView | None:
        return next((v for v in self.history if v.rating.source is RatingSource.self), None)

    @property
    def latest_teacher(self) -> RatingView | None:
        return next((v for v in self.history if v.rating.source is RatingSource.teacher), None)


@dataclass
class ShowcaseEntry:
    item: ShowcaseItem
    title: str
    page: str  # site-relative, maybe with a #fragment
    kind: ShowcaseItemType


@dataclass
class ShowcaseView:
    showcase: Showcase
    page: str
    entries: list[ShowcaseEntry] = field(default_factory=list)


@dataclass
class Portfolio:
    student: User
    school: School | None
    artefacts: list[ArtefactView]
    reflections: list[ReflectionView]
    goals: list[GoalView]
    competencies: list[CompetencyView]
    showcases: list[ShowcaseView]
    threads: dict[int, list[CommentView]]
    credentials: list[CredentialView] = field(default_factory=list)
    # archive-relative source → archive-relative destination for files the site itself copies
    copies: dict[str, str] = field(default_factory=dict)
