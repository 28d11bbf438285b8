"""The demo's Open Badges: Maya's teacher signs two credentials, so her list, a credential's page, its public
verification page and her family's page all have something real to show."""

from __future__ import annotations

from sqlmodel import Session, select

from app.config import Settings
from app.models import Competency, CompetencyRating, Goal, GoalStatus, RatingSource, User
from app.services.badges import issuing


def seed_credentials(*, session: Session, settings: Settings, school_id: int) -> None:
    """A credential for Maya's teacher-rated COM.1 level and one for her achieved bridge goal, signed by her teacher."""
    users = {u.username: u for u in session.exec(select(User).where(User.school_id == school_id)).all()}
    teacher, maya = users.get("teacher"), users.get("student")
    if teacher is None or maya is None:
        return
    rating = session.exec(
        select(CompetencyRating).join(Competency, Competency.id == CompetencyRating.competency_id)
        .where(CompetencyRating.student_id == maya.id, CompetencyRating.source == RatingSource.teacher,
               Competency.code == "COM.1")
        .order_by(CompetencyRating.id.desc())
    ).first()
    if rating is not None:
        issuing.issue_for_rating(session=session, settings=settings, teacher=teacher, rating_id=rating.id)
    goal = session.exec(select(Goal).where(Goal.owner_id == maya.id, Goal.status == GoalStatus.achieved)
                        .order_by(Goal.id)).first()
    if goal is not None:
        issuing.issue_for_goal(session=session, settings=settings, teacher=teacher, goal_id=goal.id)
    session.flush()
