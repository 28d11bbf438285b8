"""Self- and teacher assessment: ratings of a student on a competency, kept over time, and the pages that show them.

A rating is never updated: each one is a new CompetencyRating row, so the table is the history.
Teachers' ratings (source=teacher) live in the same table and are drawn beside the student's own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from markupsafe import Markup
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    ArtefactCompetency,
    Competency,
    CompetencyRating,
    Framework,
    Goal,
    GoalCompetency,
    ProficiencyLevel,
    RatingArtefact,
    RatingSource,
    Reflection,
    ReflectionCompetency,
    User,
)
from app.access import not_an_attached_recording, not_found
from app.services.competencies.charts import ChartPoint, ChartSeries, growth_chart_svg
from app.services.competencies.competency_picker import CompetencyOption, available_competencies, frameworks_for_student

MAX_REASON = 1000
EVIDENCE_CHOICES = 50


# --- loading, with access checks ---------------------------------------------------------------


def competency_for_student(*, session: Session, student: User, competency_id: int) -> tuple[Competency, Framework]:
    """A competency of one of the frameworks available to `student` (archived ones too, for their history), or 404."""
    competency = session.get(Competency, competency_id)
    if competency is None:
        raise not_found()
    frameworks = {f.id: f for f in frameworks_for_student(session=session, student=student)}
    if competency.framework_id not in frameworks:
        raise not_found()
    return competency, frameworks[competency.framework_id]


def scale_of(*, session: Session, framework_id: int) -> list[ProficiencyLevel]:
    """A framework's levels, first to last."""
    statement = select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)
    return list(session.exec(statement.order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all())


# --- rating --------------------------------------------------------------------------------------


@dataclass
class RatingInput:
    """What a student sent in the self-assessment form, checked."""

    level_id: int | None = None
    reason: str = ""
    artefact_ids: set[int] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)


def check_rating(
    *, competency: Competency, levels: list[ProficiencyLevel], level_id: str, text: str, text_field: str,
    no_level: str, no_text: str, text_too_long: Callable[[int, int], str],
) -> RatingInput:
    """Check a rating form's level (one of this competency's own scale) and its words; the messages are the caller's,
    since a student and a teacher are spoken to differently."""
    data = RatingInput(reason=text.strip())
    errors = data.errors
    if competency.archived:
        errors["form"] = _("This competency has been archived, so it can't be rated any more.")
    if not level_id.strip():
        errors["level_id"] = no_level
    elif not level_id.strip().isdigit() or int(level_id) not in {level.id for level in levels}:
        errors["level_id"] = _("Choose one of the levels of this competency's scale.")
    else:
        data.level_id = int(level_id)
    if not data.reason:
        errors[text_field] = no_text
    elif len(data.reason) > MAX_REASON:
        errors[text_field] = text_too_long(MAX_REASON, len(data.reason))
    return data


def parse_rating(
    *, session: Session, student: User, competency: Competency, levels: list[ProficiencyLevel],
    level_id: str, reason: str, artefact_ids: list[str],
) -> RatingInput:
    """Check a self-assessment: a level, a reason, and the student's own evidence (anyone else's ids are dropped)."""
    data = check_rating(
        competency=competency, levels=levels, level_id=level_id, text=reason, text_field="reason",
        no_level=_("Choose the level that fits you best."),
        no_text=_("Say why you chose this level, in a sentence or two."),
        text_too_long=lambda limit, n: _("Keep your reason under %(max)s characters (it has %(n)s).", max=limit, n=n),
    )
    wanted = {int(v) for v in artefact_ids if v.isdigit()}
    if wanted:
        data.artefact_ids = set(session.exec(
            select(Artefact.id).where(Artefact.id.in_(wanted), Artefact.owner_id == student.id)
        ).all())
    return data


def create_self_rating(*, session: Session, student: User, competency: Competency, data: RatingInput) -> CompetencyRating:
    """A new self-assessment (never an edit of an old one), with its evidence."""
    rating = CompetencyRating(
        student_id=student.id, competency_id=competency.id, level_id=data.level_id, rated_by_id=student.id,
        source=RatingSource.self, reason=data.reason,
    )
    session.add(rating)
    session.flush()
    for artefact_id in sorted(data.artefact_ids):
        session.add(RatingArtefact(rating_id=rating.id, artefact_id=artefact_id))
    return rating


# --- reading ratings ---------------------------------------------------------------------------


@dataclass
class RatingView:
    rating: CompetencyRating
    level: ProficiencyLevel
    artefacts: list[Artefact] = field(default_factory=list)
    rated_by_name: str = ""


def rating_history(*, session: Session, student_id: int, competency_id: int) -> list[RatingView]:
    """Every rating of the student on a competency (self and teacher), newest first, with who gave it and
    the evidence (two queries)."""
    return ratings_by_competency(session=session, student_id=student_id, competency_ids=[competency_id]).get(
        competency_id, [])


def ratings_by_competency(*, session: Session, student_id: int, competency_ids: list[int]) -> dict[int, list[RatingView]]:
    """rating_history for many competencies at once, by competency id (two queries, whatever their number)."""
    if not competency_ids:
        return {}
    rows = session.exec(
        select(CompetencyRating, ProficiencyLevel, User.display_name)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id == student_id, CompetencyRating.competency_id.in_(competency_ids))
        .order_by(CompetencyRating.created_at.desc(), CompetencyRating.id.desc())
    ).all()
    views = [RatingView(rating, level, rated_by_name=name) for rating, level, name in rows]
    by_id = {view.rating.id: view for view in views}
    if by_id:
        linked = session.exec(
            select(RatingArtefact.rating_id, Artefact)
            .join(Artefact, Artefact.id == RatingArtefact.artefact_id)
            .where(RatingArtefact.rating_id.in_(list(by_id)), not_an_attached_recording(Artefact.id))
            .order_by(Artefact.occurred_on.desc(), Artefact.id.desc())
        ).all()
        for rating_id, artefact in linked:
            by_id[rating_id].artefacts.append(artefact)
    grouped: dict[int, list[RatingView]] = {}
    for view in views:
        grouped.setdefault(view.rating.competency_id, []).append(view)
    return grouped


@dataclass
class LatestRating:
    rating: CompetencyRating
    level: ProficiencyLevel


def latest_ratings(
    *, session: Session, student_id: int, source: RatingSource = RatingSource.self, competency_ids: list[int] | None = None
) -> dict[int, LatestRating]:
    """The student's most recent rating (from `source`) on each competency, by competency id: one query,
    whatever the number of competencies or ratings."""
    ranked = (
        select(
            CompetencyRating.id.label("rating_id"),
            sa.func.row_number().over(
                partition_by=CompetencyRating.competency_id,
                order_by=(CompetencyRating.created_at.desc(), CompetencyRating.id.desc()),
            ).label("rank"),
        )
        .where(CompetencyRating.student_id == student_id, CompetencyRating.source == source)
    )
    if competency_ids is not None:
        if not competency_ids:
            return {}
        ranked = ranked.where(CompetencyRating.competency_id.in_(competency_ids))
    ranked = ranked.subquery("ranked")
    rows = session.exec(
        select(CompetencyRating, ProficiencyLevel)
        .join(ranked, ranked.c.rating_id == CompetencyRating.id)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .where(ranked.c.rank == 1)
    ).all()
    return {rating.competency_id: LatestRating(rating, level) for rating, level in rows}


def growth_series(history: list[RatingView]) -> list[ChartSeries]:
    """Chart series from a rating history: the student's own, and the teacher's when there are any."""
    own = ChartSeries("self", _("My rating"))
    teacher = ChartSeries("teacher", _("Teacher's rating"))
    for view in reversed(history):
        target = own if view.rating.source is RatingSource.self else teacher
        target.points.append(ChartPoint(view.rating.created_at, view.level.position, view.level.label))
    return [own] + ([teacher] if teacher.points else [])


# --- the student's pages -----------------------------------------------------------------------


@dataclass
class OverviewRow:
    option: CompetencyOption
    latest: LatestRating | None


@dataclass
class OverviewGroup:
    framework: Framework
    rows: list[OverviewRow] = field(default_factory=list)


def overview(*, session: Session, student: User) -> list[OverviewGroup]:
    """Every competency available to the student, by framework and nested, with their latest self-rating
    (a fixed number of queries: the frameworks, their competencies, the latest ratings)."""
    groups = available_competencies(session=session, student=student)
    ids = [option.id for group in groups for option in group.options]
    latest = latest_ratings(session=session, student_id=student.id, competency_ids=ids)
    return [
        OverviewGroup(group.framework, [OverviewRow(option, latest.get(option.id)) for option in group.options])
        for group in groups
    ]


@dataclass
class CompetencyEvidence:
    artefacts: list[Artefact] = field(default_factory=list)
    reflections: list[Reflection] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.artefacts or self.reflections or self.goals)


def evidence_for(*, session: Session, student: User, competency_id: int) -> CompetencyEvidence:
    """The student's own artefacts and reflections tagged with a competency, and their goals aiming at it."""
    artefacts = session.exec(
        select(Artefact).join(ArtefactCompetency, ArtefactCompetency.artefact_id == Artefact.id)
        .where(ArtefactCompetency.competency_id == competency_id, Artefact.owner_id == student.id,
               not_an_attached_recording(Artefact.id))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc())
    ).all()
    reflections = session.exec(
        select(Reflection).join(ReflectionCompetency, ReflectionCompetency.reflection_id == Reflection.id)
        .where(ReflectionCompetency.competency_id == competency_id, Reflection.owner_id == student.id)
        .order_by(Reflection.created_at.desc(), Reflection.id.desc())
    ).all()
    goals = session.exec(
        select(Goal).join(GoalCompetency, GoalCompetency.goal_id == Goal.id)
        .where(GoalCompetency.competency_id == competency_id, Goal.owner_id == student.id)
        .order_by(Goal.created_at.desc(), Goal.id.desc())
    ).all()
    return CompetencyEvidence(list(artefacts), list(reflections), list(goals))


def artefact_choices(*, session: Session, student: User, limit: int = EVIDENCE_CHOICES) -> list[Artefact]:
    """The student's own artefacts to link as evidence, newest first (recordings are part of something already)."""
    return list(session.exec(
        select(Artefact).where(Artefact.owner_id == student.id, not_an_attached_recording(Artefact.id))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(limit)
    ).all())


class RatedHistory:
    """What a one-competency page reads from its newest-first rating `history`: the latest self- and teacher
    rating, and how they differ."""

    history: list[RatingView]

    @property
    def latest_self(self) -> RatingView | None:
        return latest_of(self.history, RatingSource.self)

    @property
    def latest_teacher(self) -> RatingView | None:
        return latest_of(self.history, RatingSource.teacher)

    @property
    def difference(self) -> RatingDifference | None:
        return difference(self.latest_self, self.latest_teacher)


@dataclass
class CompetencyPage(RatedHistory):
    """Everything one competency's page shows a student."""

    competency: Competency
    framework: Framework
    parent: Competency | None
    children: list[Competency]
    levels: list[ProficiencyLevel]
    history: list[RatingView]
    series: list[ChartSeries]
    evidence: CompetencyEvidence
    choices: list[Artefact]
    chart: Markup | None = None

    @property
    def own_ratings(self) -> list[RatingView]:
        return [view for view in self.history if view.rating.source is RatingSource.self]


def competency_page(*, session: Session, student: User, competency: Competency, framework: Framework) -> CompetencyPage:
    """The competency's description, scale, the student's evidence, goals and rating history."""
    parent = session.get(Competency, competency.parent_id) if competency.parent_id else None
    children = session.exec(
        select(Competency).where(Competency.parent_id == competency.id, Competency.archived == False)  # noqa: E712
        .order_by(Competency.position, Competency.code)
    ).all()
    history = rating_history(session=session, student_id=student.id, competency_id=competency.id)
    levels = scale_of(session=session, framework_id=framework.id)
    series = growth_series(history)
    chart = growth_chart_svg(
        levels=levels, series=series, chart_id=f"growth-{competency.id}",
        title=_("Your ratings in %(code)s %(name)s over time", code=competency.code, name=competency.name),
    ) if history else None
    return CompetencyPage(
        competency=competency, framework=framework, parent=parent, children=list(children), levels=levels,
        history=history, series=series, chart=chart,
        evidence=evidence_for(session=session, student=student, competency_id=competency.id),
        choices=artefact_choices(session=session, student=student),
    )


# --- teacher assessment ------------------------------------------------------------------------


@dataclass
class RatingDifference:
    """How a student's latest self-rating compares with their teacher's latest rating."""

    agree: bool
    higher: RatingSource | None  # who rates higher (None when they agree)
    levels: int  # how many levels apart (0 when they agree)


def difference(
    latest_self: RatingView | LatestRating | None, latest_teacher: RatingView | LatestRating | None
) -> RatingDifference | None:
    """Whether the latest self- and teacher ratings agree, and if not who rates higher and by how many levels."""
    if latest_self is None or latest_teacher is None:
        return None
    gap = latest_self.level.position - latest_teacher.level.position
    if gap == 0:
        return RatingDifference(agree=True, higher=None, levels=0)
    return RatingDifference(agree=False, higher=RatingSource.self if gap > 0 else RatingSource.teacher, levels=abs(gap))


def latest_of(history: list[RatingView], source: RatingSource) -> RatingView | None:
    """The newest rating from `source` in a newest-first history."""
    return next((view for view in history if view.rating.source is source), None)
