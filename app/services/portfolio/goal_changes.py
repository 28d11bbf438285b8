"""Recording that a goal changed: its timeline entry and search text follow it, and changed words ask again for a
teacher's approval where a class wants one."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Goal
from app.models.base import utcnow
from app.services.moderation import approvals
from app.services.portfolio import timeline


def touch(session: Session, goal: Goal, *, words_changed: bool = False) -> None:
    """Record that the goal changed, and keep the timeline and search in step with it.

    `words_changed`: its title, why, criteria, steps or check-in notes may read differently now, so families see it
    only once a teacher approved the new words, where a class asks for that (app.services.moderation.approvals)."""
    goal.updated_at = utcnow()
    session.add(goal)
    session.flush()
    timeline.sync_goal(session=session, goal=goal)
    if words_changed:
        approvals.request_if_needed(session=session, owner_id=goal.owner_id, item_id=goal.id,
                                    audience=goal.audience, title=goal.title)
