"""A PDF export's goals: each with its steps and check-ins, in a fixed number of queries."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import CheckIn, Goal, GoalStep
from app.services.exports.pdf_entries import GoalEntry


def goals_of(*, session: Session, owner_id: int) -> list[GoalEntry]:
    """The student's goals, oldest first, with their steps and check-ins (three queries)."""
    goals = list(session.exec(select(Goal).where(Goal.owner_id == owner_id).order_by(Goal.created_at, Goal.id)).all())
    if not goals:
        return []
    entries = {goal.id: GoalEntry(goal) for goal in goals}
    for step in session.exec(select(GoalStep).where(GoalStep.goal_id.in_(list(entries)))
                             .order_by(GoalStep.position, GoalStep.id)).all():
        entries[step.goal_id].steps.append(step)
    for goal_id, found in checkins_of(session=session, goal_ids=list(entries)).items():
        entries[goal_id].checkins = found
    return list(entries.values())


def checkins_of(*, session: Session, goal_ids: list[int]) -> dict[int, list[CheckIn]]:
    """The check-ins of these goals, by goal id, in the order they happened (one query)."""
    if not goal_ids:
        return {}
    found: dict[int, list[CheckIn]] = {}
    for checkin in session.exec(select(CheckIn).where(CheckIn.goal_id.in_(goal_ids))
                                .order_by(CheckIn.occurred_on, CheckIn.id)).all():
        found.setdefault(checkin.goal_id, []).append(checkin)
    return found
