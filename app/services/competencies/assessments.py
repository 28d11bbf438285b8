"""Teacher assessment: a teacher's rating of their student on the same scale, and the teacher's pages."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    Competency,
    CompetencyRating,
    Framework,
    ProficiencyLevel,
    RatingArtefact,
    RatingSource,
    Role,
    User,
)
from app.access import ALL_AUDIENCES, not_an_attached_recording, not_found, visible_audiences
from app.services.competencies.charts import ChartSeries, growth_chart_svg
from app.services.competencies.competency_picker import CompetencyOption, available_competencies
from app.services.competencies.ratings import (
    EVIDENCE_CHOICES,
    LatestRating,
    RatedHistory,
    RatingDifference,
    RatingInput,
    RatingView,
    check_rating,
    difference,
    growth_series,
    latest_ratings,
    rating_history,
    scale_of,
)


def student_for_teacher(*, session: Session, teacher: User, student_id: int) -> User:
    """A student `teacher` teaches in one of the student's active classes, or 404 (anyone else, any other student)."""
    student = session.get(User, student_id)
    if student is None or student.role is not Role.student or teacher.id == student_id:
        raise not_found()
    if visible_audiences(session=session, viewer=teacher, owner_id=student_id) != ALL_AUDIENCES:
        raise not_found()
    return student


def _visible_evidence(*, session: Session, viewer: User, student: User, wanted: set[int]) -> set[int]:
    """The ids in `wanted` that are the student's artefacts `viewer` may see, recordings aside (anything else is
    dropped)."""
    audiences = visible_audiences(session=session, viewer=viewer, owner_id=student.id)
    if not wanted or not audiences:
        return set()
    return set(session.exec(
        select(Artefact.id)
        .where(Artefact.id.in_(wanted), Artefact.owner_id == student.id, Artefact.audience.in_(audiences),
               not_an_attached_recording(Artefact.id))
    ).all())


def parse_teacher_rating(
    *, session: Session, teacher: User, student: User, competency: Competency, levels: list[ProficiencyLevel],
    level_id: str, comment: str, artefact_ids: list[str],
) -> RatingInput:
    """Check a teacher assessment: a level of this competency's own scale, a comment, and evidence from the
    student's artefacts the teacher may see (other ids are dropped)."""
    data = check_rating(
        competency=competency, levels=levels, level_id=level_id, text=comment, text_field="comment",
        no_level=_("Choose the level that fits this student's work best."),
        no_text=_("Write a comment: what you saw, and what would take them to the next level."),
        text_too_long=lambda limit, n: _("Keep your comment under %(max)s characters (it has %(n)s).", max=limit, n=n),
    )
    wanted = {int(v) for v in artefact_ids if v.isdigit()}
    data.artefact_ids = _visible_evidence(session=session, viewer=teacher, student=student, wanted=wanted)
    return data


def create_teacher_rating(
    *, session: Session, teacher: User, student: User, competency: Competency, data: RatingInput
) -> CompetencyRating:
    """A new teacher assessment (never an edit), with evidence only from the student's artefacts the teacher may see."""
    rating = CompetencyRating(
        student_id=student.id, competency_id=competency.id, level_id=data.level_id, rated_by_id=teacher.id,
        source=RatingSource.teacher, reason=data.reason,
    )
    session.add(rating)
    session.flush()
    evidence = _visible_evidence(session=session, viewer=teacher, student=student, wanted=set(data.artefact_ids))
    for artefact_id in sorted(evidence):
        session.add(RatingArtefact(rating_id=rating.id, artefact_id=artefact_id))
    return rating


@dataclass
class TeacherOverviewRow:
    option: CompetencyOption
    latest_self: LatestRating | None
    latest_teacher: LatestRating | None

    @property
    def difference(self) -> RatingDifference | None:
        return difference(self.latest_self, self.latest_teacher)


@dataclass
class TeacherOverviewGroup:
    framework: Framework
    rows: list[TeacherOverviewRow] = field(default_factory=list)


def teacher_overview(*, session: Session, student: User) -> list[TeacherOverviewGroup]:
    """Every competency available to the student with their latest self-rating and latest teacher rating side by
    side (a fixed number of queries, whatever the number of ratings)."""
    groups = available_competencies(session=session, student=student)
    ids = [option.id for group in groups for option in group.options]
    own = latest_ratings(session=session, student_id=student.id, competency_ids=ids)
    teachers = latest_ratings(session=session, student_id=student.id, source=RatingSource.teacher, competency_ids=ids)
    return [
        TeacherOverviewGroup(group.framework, [
            TeacherOverviewRow(option, own.get(option.id), teachers.get(option.id)) for option in group.options
        ])
        for group in groups
    ]


@dataclass
class TeacherCompetencyPage(RatedHistory):
    """Everything one competency's page shows a teacher about one student."""

    student: User
    competency: Competency
    framework: Framework
    levels: list[ProficiencyLevel]
    history: list[RatingView]
    series: list[ChartSeries]
    choices: list[Artefact]
    chart: Markup | None = None


def teacher_competency_page(
    *, session: Session, teacher: User, student: User, competency: Competency, framework: Framework
) -> TeacherCompetencyPage:
    """The scale, both histories, the growth chart with both series, and the student's recent visible work to link."""
    history = rating_history(session=session, student_id=student.id, competency_id=competency.id)
    levels = scale_of(session=session, framework_id=framework.id)
    series = growth_series(history)
    if series and series[0].key == "self":
        series[0].label = _("%(name)s's rating", name=student.display_name)
    chart = growth_chart_svg(
        levels=levels, series=series, chart_id=f"growth-{competency.id}",
        title=_("%(student)s's ratings in %(code)s %(name)s over time",
                student=student.display_name, code=competency.code, name=competency.name),
    ) if history else None
    audiences = visible_audiences(session=session, viewer=teacher, owner_id=student.id)
    choices = session.exec(
        select(Artefact).where(Artefact.owner_id == student.id, Artefact.audience.in_(audiences),
                               not_an_attached_recording(Artefact.id))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(EVIDENCE_CHOICES)
    ).all()
    return TeacherCompetencyPage(
        student=student, competency=competency, framework=framework, levels=levels, history=history,
        series=series, chart=chart, choices=list(choices),
    )
