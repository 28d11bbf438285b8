"""What a PDF export is made of: one document's content and its goal, competency, feedback, showcase entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup

from app.models import (
    Artefact,
    ArtefactKind,
    CheckIn,
    Comment,
    Competency,
    Framework,
    ItemType,
    MediaKind,
    ProficiencyLevel,
    Reflection,
    School,
    Showcase,
    User,
)
from app.services.badges.credentials import CredentialView
from app.services.competencies.ratings import RatedHistory, RatingView
from app.services.showcases.showcase_items import GoalSummary


@dataclass
class CommentEntry:
    comment: Comment
    author: User
    replies: list["CommentEntry"] = field(default_factory=list)


@dataclass
class FeedbackGroup:
    """The visible comments on one item."""

    item_type: ItemType
    item_id: int
    title: str
    anchor: str
    comments: list[CommentEntry] = field(default_factory=list)


@dataclass
class GoalEntry(GoalSummary):
    """A goal with its steps (and progress, from GoalSummary) and its check-ins."""

    checkins: list[CheckIn] = field(default_factory=list)


@dataclass
class CompetencyEntry(RatedHistory):
    """A competency with its rating history (newest first) and its chart; the latest ratings from RatedHistory."""

    competency: Competency
    framework: Framework
    scale: list[ProficiencyLevel]
    history: list[RatingView]  # newest first
    chart: Markup | None = None


@dataclass
class ShowcaseEntry:
    """One showcase item in order: kind is artefact/reflection/goal/competency/credential, obj the matching entry."""

    kind: str
    obj: Artefact | Reflection | GoalEntry | CompetencyEntry | CredentialView
    anchor: str

    @property
    def title(self) -> str:
        obj = self.obj
        if isinstance(obj, GoalEntry):
            return obj.goal.title
        if isinstance(obj, CompetencyEntry):
            return f"{obj.competency.code} {obj.competency.name}"
        if isinstance(obj, CredentialView):
            return obj.name
        return obj.title


@dataclass
class PortfolioContent:
    student: User
    school: School | None
    sections: list[str]
    showcase: Showcase | None = None
    showcase_items: list[ShowcaseEntry] = field(default_factory=list)
    goals: list[GoalEntry] = field(default_factory=list)
    reflections: list[Reflection] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)
    competencies: list[CompetencyEntry] = field(default_factory=list)
    feedback: list[FeedbackGroup] = field(default_factory=list)
    credentials: list[CredentialView] = field(default_factory=list)
    first_date: date | None = None
    last_date: date | None = None
    # Stored names the PDF may embed (thumbnails of the student's own images), by the name used in the HTML.
    files: dict[str, str] = field(default_factory=dict)
    cover: Artefact | None = None  # the cover's photo (app.services.exports.pdf_cover)
    # Artefacts with a spoken caption: paper can't play it, so the item notes that it has one (the caption itself,
    # like a reflection's recording, is never an item of its own).
    captioned: set[int] = field(default_factory=set)

    def embedded_image(self, artefact_id: int, _variant: str, *, scheme: str) -> str | None:
        """Where the PDF takes a picture a reflection's text shows from, or None (left out) if it has no such file."""
        key = f"{artefact_id}-large"
        return f"{scheme}{key}" if key in self.files else None

    @property
    def images(self) -> list[Artefact]:
        return [a for a in self.artefacts if is_image(a)]

    @property
    def notes(self) -> list[Artefact]:
        return [a for a in self.artefacts if a.kind is ArtefactKind.note]

    @property
    def links(self) -> list[Artefact]:
        return [a for a in self.artefacts if a.kind is ArtefactKind.link]

    @property
    def shown_artefacts(self) -> list[Artefact]:
        """Artefacts shown one by one (images, notes, links); other files go in one table."""
        return [a for a in self.artefacts if a.kind is not ArtefactKind.file or is_image(a)]

    @property
    def other_files(self) -> list[Artefact]:
        return [a for a in self.artefacts if a.kind is ArtefactKind.file and not is_image(a)]

    @property
    def item_count(self) -> int:
        if self.showcase is not None:
            return len(self.showcase_items)
        return (len(self.goals) + len(self.reflections) + len(self.artefacts) + len(self.competencies)
                + len(self.credentials))


def is_image(artefact: Artefact) -> bool:
    """An image artefact with a thumbnail the PDF can show (originals are never embedded)."""
    return artefact.media_kind is MediaKind.image and bool(artefact.thumb_print or artefact.thumb_large or artefact.thumb_small)


def image_key(artefact: Artefact, size: str = "large") -> str:
    return f"{artefact.id}-{size}"


def anchor_of(item_type: str, item_id: int) -> str:
    return f"{item_type}-{item_id}"
