"""A PDF export's competencies: each with its scale, its whole rating history and a growth chart."""

from __future__ import annotations

from sqlmodel import Session, select

from app.i18n import _
from app.models import Competency, CompetencyRating, Framework, ProficiencyLevel, User
from app.services.competencies.charts import growth_chart_svg
from app.services.competencies.ratings import RatingView, growth_series
from app.services.exports.pdf_entries import CompetencyEntry


def competency_entries(
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
