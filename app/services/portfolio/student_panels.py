"""What the student's home page shows: the timeline and its filters, and the panels beside it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import Audience, ClassRole, Competency, ProficiencyLevel, Tag, User
from app.services.accounts import people
from app.services.portfolio import timeline
from app.services.portfolio.goals import goals_with_progress, soonest_active
from app.services.competencies.ratings import latest_ratings
from app.services.competencies.competency_picker import available_competencies
from app.services.moderation.feedback import recent_feedback


def home_context(*, session: Session, student: User, filters: timeline.TimelineFilters, page: int) -> dict:
    """Everything the student home template needs, in a fixed number of queries."""
    goals = goals_with_progress(session=session, owner=student)
    items = timeline.timeline_page(session=session, owner_id=student.id, filters=filters,
                                   audiences=frozenset(Audience), viewer_is_owner=True, number=page)
    return {
        "items": items,
        "filters": filters,
        "groups": available_competencies(session=session, student=student),
        "goals": [row.goal for row in goals],
        "tags": list(session.exec(select(Tag.name).where(Tag.owner_id == student.id).order_by(Tag.name)).all()),
        "classes": people.classes_with_teachers(session=session, user=student, role=ClassRole.student),
        "active_goals": soonest_active(goals, limit=5),
        "competency_levels": _latest_levels(session, student),
        "recent_feedback": recent_feedback(session=session, student=student),
    }


@dataclass
class CompetencyLevel:
    competency: Competency
    level: ProficiencyLevel


def _latest_levels(session: Session, student: User, limit: int = 8) -> list[CompetencyLevel]:
    """The competencies the student has rated, each with their latest self-rating (two queries)."""
    latest = latest_ratings(session=session, student_id=student.id)
    if not latest:
        return []
    competencies = session.exec(
        select(Competency).where(Competency.id.in_(list(latest)), Competency.archived == False)  # noqa: E712
        .order_by(Competency.code).limit(limit)
    ).all()
    return [CompetencyLevel(c, latest[c.id].level) for c in competencies]
