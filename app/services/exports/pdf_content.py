"""What a PDF export shows: one student's goals, reflections, evidence, feedback and competency summary, or one
showcase, gathered in a fixed number of queries whatever the number of items (no N+1).

Drafts are left out (a PDF is something to hand to others), and only comments with status "visible" are included:
the ones everybody who sees the item sees, the student too (pending, reported and removed ones never are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    ArtefactKind,
    CheckIn,
    Comment,
    CommentStatus,
    Competency,
    CompetencyRating,
    Framework,
    Goal,
    GoalStep,
    ItemType,
    MediaKind,
    ProficiencyLevel,
    RatingSource,
    Reflection,
    ReflectionStatus,
    School,
    Showcase,
    ShowcaseItemType,
    User,
)
from app.access import attached_recordings_among, not_an_attached_recording
from app.config import Settings
from app.services.badges.credentials import CredentialView
from app.services.competencies.charts import growth_chart_svg
from app.services.competencies.ratings import RatingView, growth_series, latest_of
from app.services.portfolio.markdown import embedded_file_ids
from app.services.exports.export_credentials import credentials_of
from app.services.showcases.showcase_items import GoalSummary, resolve_items

SECTION_ORDER = ("goals", "reflections", "evidence", "feedback", "competencies", "credentials")


def section_titles() -> dict[str, str]:
    """The heading of each section, in the current language."""
    return {
        "goals": _("Goals"),
        "reflections": _("Reflections"),
        "evidence": _("Evidence"),
        "feedback": _("Feedback"),
        "competencies": _("Competencies"),
        "credentials": _("Credentials"),
    }


def ordered_sections(sections: list[str] | tuple[str, ...]) -> list[str]:
    """The chosen sections in the document's order; ValueError for a name that isn't a section."""
    unknown = set(sections) - set(SECTION_ORDER)
    if unknown:
        raise ValueError(f"Unknown PDF sections: {sorted(unknown)}")
    return [name for name in SECTION_ORDER if name in sections]


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
class CompetencyEntry:
    competency: Competency
    framework: Framework
    scale: list[ProficiencyLevel]
    history: list[RatingView]  # newest first
    chart: Markup | None = None

    @property
    def latest_self(self) -> RatingView | None:
        return latest_of(self.history, RatingSource.self)

    @property
    def latest_teacher(self) -> RatingView | None:
        return latest_of(self.history, RatingSource.teacher)


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


def _day(value: date | datetime | None) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def gather_portfolio(
    *, session: Session, settings: Settings, student: User, sections: list[str], showcase: Showcase | None = None
) -> PortfolioContent:
    """Everything the PDF shows, for the chosen sections (or the showcase's items, in order), in a fixed number
    of queries: the school, then one per kind of thing (artefacts, reflections, goals, steps, check-ins, comments,
    ratings, competencies, scales, credentials)."""
    content = PortfolioContent(student=student, school=session.get(School, student.school_id),
                               sections=ordered_sections(sections), showcase=showcase)
    if showcase is not None:
        _gather_showcase(session=session, settings=settings, content=content)
    else:
        wanted = set(content.sections)
        if "goals" in wanted:
            content.goals = _goals(session=session, owner_id=student.id)
        if "reflections" in wanted:
            content.reflections = list(session.exec(
                select(Reflection).where(Reflection.owner_id == student.id, Reflection.status == ReflectionStatus.published)
                .order_by(Reflection.created_at, Reflection.id)
            ).all())
        if "evidence" in wanted:
            # Recordings aside: paper can't play them, and they are part of their reflection (or comment).
            content.artefacts = list(session.exec(
                select(Artefact).where(Artefact.owner_id == student.id, not_an_attached_recording(Artefact.id))
                .order_by(Artefact.occurred_on, Artefact.id)
            ).all())
        if "competencies" in wanted:
            content.competencies = _competencies(session=session, student_id=student.id)
        if "credentials" in wanted:
            content.credentials = credentials_of(session=session, settings=settings, student_id=student.id)
        if "feedback" in wanted:
            content.feedback = _feedback(session=session, owner_id=student.id, only=None)
    content.captioned = {a.id for a in content.artefacts if a.audio_artefact_id}
    for artefact in content.artefacts + _pictures_shown(session=session, content=content):
        if is_image(artefact):
            # The print JPEG made at upload is embedded as it is; older photos have only the WebP thumbnails.
            content.files[image_key(artefact)] = artefact.thumb_print or artefact.thumb_large or artefact.thumb_small
    _date_range(content)
    return content


def _pictures_shown(*, session: Session, content: PortfolioContent) -> list[Artefact]:
    """The student's pictures the reflections' texts show (a Mahara journal post's photos): printed with them, whatever
    their own audience, as on the reflection's page (one query)."""
    ids = {i for r in content.reflections for i in embedded_file_ids(r.body)}
    if not ids:
        return []
    return list(session.exec(select(Artefact).where(Artefact.id.in_(ids), Artefact.owner_id == content.student.id,
                                                    Artefact.media_kind == MediaKind.image)).all())


def _gather_showcase(*, session: Session, settings: Settings, content: PortfolioContent) -> None:

    resolved = resolve_items(session=session, settings=settings, showcase=content.showcase, viewer=content.student)
    recordings = attached_recordings_among(session=session,
                                           ids=[r.obj.id for r in resolved if isinstance(r.obj, Artefact)])
    resolved = [r for r in resolved if not (isinstance(r.obj, Reflection) and r.obj.status is ReflectionStatus.draft)
                and not (isinstance(r.obj, Artefact) and r.obj.id in recordings)]
    goal_ids = [r.obj.goal.id for r in resolved if isinstance(r.obj, GoalSummary)]
    checkins = _checkins(session=session, goal_ids=goal_ids)
    competency_ids = [r.entry.competency_id for r in resolved if r.kind is ShowcaseItemType.competency]
    competencies = {entry.competency.id: entry for entry in _competencies(
        session=session, student_id=content.student.id, competency_ids=competency_ids, with_unrated=True)}
    for item in resolved:
        obj = item.obj
        if isinstance(obj, GoalSummary):
            obj = GoalEntry(obj.goal, obj.steps, checkins.get(obj.goal.id, []))
            content.goals.append(obj)
        elif item.kind is ShowcaseItemType.competency:
            obj = competencies.get(item.entry.competency_id)
            if obj is None:
                continue
            content.competencies.append(obj)
        elif isinstance(obj, CredentialView):
            content.credentials.append(obj)
        elif isinstance(obj, Artefact):
            content.artefacts.append(obj)
        else:
            content.reflections.append(obj)
        content.showcase_items.append(ShowcaseEntry(item.kind.value, obj, anchor_of(item.kind.value, item.entry.target_id)))
    if "feedback" in content.sections:
        only = ({a.id for a in content.artefacts} | {r.id for r in content.reflections}
                | {g.goal.id for g in content.goals})
        content.feedback = _feedback(session=session, owner_id=content.student.id, only=only) if only else []


def _goals(*, session: Session, owner_id: int) -> list[GoalEntry]:
    goals = list(session.exec(select(Goal).where(Goal.owner_id == owner_id).order_by(Goal.created_at, Goal.id)).all())
    if not goals:
        return []
    entries = {goal.id: GoalEntry(goal) for goal in goals}
    for step in session.exec(select(GoalStep).where(GoalStep.goal_id.in_(list(entries)))
                             .order_by(GoalStep.position, GoalStep.id)).all():
        entries[step.goal_id].steps.append(step)
    for goal_id, found in _checkins(session=session, goal_ids=list(entries)).items():
        entries[goal_id].checkins = found
    return list(entries.values())


def _checkins(*, session: Session, goal_ids: list[int]) -> dict[int, list[CheckIn]]:
    if not goal_ids:
        return {}
    found: dict[int, list[CheckIn]] = {}
    for checkin in session.exec(select(CheckIn).where(CheckIn.goal_id.in_(goal_ids))
                                .order_by(CheckIn.occurred_on, CheckIn.id)).all():
        found.setdefault(checkin.goal_id, []).append(checkin)
    return found


def _competencies(
    *, session: Session, student_id: int, competency_ids: list[int] | None = None, with_unrated: bool = False
) -> list[CompetencyEntry]:
    """The competencies the student has ratings on (or `competency_ids`), each with its scale, its whole rating
    history (self and teacher) and a growth chart: three queries."""
    statement = (
        select(CompetencyRating, ProficiencyLevel, User.display_name)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id == student_id)
        .order_by(CompetencyRating.created_at.desc(), CompetencyRating.id.desc())
    )
    if competency_ids is not None:
        if not competency_ids:
            return []
        statement = statement.where(CompetencyRating.competency_id.in_(competency_ids))
    histories: dict[int, list[RatingView]] = {}
    for rating, level, name in session.exec(statement).all():
        histories.setdefault(rating.competency_id, []).append(RatingView(rating, level, rated_by_name=name))
    wanted = list(competency_ids) if with_unrated and competency_ids is not None else list(histories)
    if not wanted:
        return []
    rows = session.exec(
        select(Competency, Framework).join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id.in_(wanted))
        .order_by(Framework.name, Framework.id, Competency.position, Competency.code)
    ).all()
    scales: dict[int, list[ProficiencyLevel]] = {framework.id: [] for _c, framework in rows}
    if scales:
        for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(list(scales)))
                                  .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all():
            scales[level.framework_id].append(level)
    entries = []
    for competency, framework in rows:
        history = histories.get(competency.id, [])
        chart = growth_chart_svg(
            levels=scales[framework.id], series=growth_series(history), chart_id=f"growth-{competency.id}",
            title=_("Ratings in %(code)s %(name)s over time", code=competency.code, name=competency.name),
        ) if history else None
        entries.append(CompetencyEntry(competency, framework, scales[framework.id], history, chart))
    return entries


def _feedback(*, session: Session, owner_id: int, only: set[int] | None) -> list[FeedbackGroup]:
    """The visible comments on the student's items (all of them, or `only` these), grouped by item with their
    replies, items in the order of their first comment: two queries (the comments with authors; the titles)."""
    from app.models import Item

    rows = session.exec(
        select(Comment, User).join(User, User.id == Comment.author_id)
        .where(Comment.owner_id == owner_id, Comment.status == CommentStatus.visible)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    rows = [(c, u) for c, u in rows if only is None or c.item_id in only]
    if not rows:
        return []
    titles = {
        item_id: (item_type, title)
        for item_type, item_id, title in session.exec(
            select(Item.type, Item.id, Item.title)
            .where(Item.owner_id == owner_id)).all()
    }
    # Drafts never have comments, but a comment on an item that is gone (or now a draft) stays out.
    drafts = set(session.exec(select(Reflection.id).where(
        Reflection.owner_id == owner_id, Reflection.status == ReflectionStatus.draft)).all())
    groups: dict[int, FeedbackGroup] = {}
    top: dict[int, CommentEntry] = {}
    replies: list[CommentEntry] = []
    for comment, author in rows:
        key = comment.item_id
        if key not in titles or key in drafts:
            continue
        entry = CommentEntry(comment, author)
        if comment.parent_id is None:
            group = groups.get(key)
            if group is None:
                item_type, title = titles[key]
                group = groups[key] = FeedbackGroup(item_type, key, title, anchor_of(item_type.value, key))
            group.comments.append(entry)
            top[comment.id] = entry
        else:
            replies.append(entry)
    for entry in replies:  # a reply under a hidden comment stays hidden with it
        if entry.comment.parent_id in top:
            top[entry.comment.parent_id].replies.append(entry)
    return list(groups.values())


def _date_range(content: PortfolioContent) -> None:
    days: list[date] = []
    days += [a.occurred_on for a in content.artefacts]
    days += [_day(r.published_at or r.created_at) for r in content.reflections]
    for entry in content.goals:
        days.append(_day(entry.goal.created_at))
        days += [c.occurred_on for c in entry.checkins]
    for entry in content.competencies:
        days += [_day(view.rating.created_at) for view in entry.history]
    for group in content.feedback:
        days += [_day(c.comment.created_at) for c in group.comments]
    days += [_day(view.issued_at) for view in content.credentials]
    days = [d for d in days if d is not None]
    if days:
        content.first_date, content.last_date = min(days), max(days)
