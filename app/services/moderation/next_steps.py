"""A teacher's next step, turned by the student into a step of one of their goals or a new goal."""

from __future__ import annotations


from sqlmodel import Session

from app.i18n import _
from app.models import Audience, Comment, CommentKind, CommentStatus, Goal, GoalStatus, User
from app.models.base import utcnow
from app.services.portfolio import goals as goal_service
from app.access import not_found
from app.services.portfolio.goal_forms import MAX_TITLE, GoalData
from app.services.portfolio import goal_steps


def use_next_step(*, session: Session, owner: User, comment_id: int, goal_choice: str) -> tuple[Goal | None, str | None]:
    """Turn a teacher's next step into a step of one of the owner's active goals, or a new goal ("new")."""
    comment = session.get(Comment, comment_id)
    if (comment is None or comment.owner_id != owner.id or comment.kind is not CommentKind.teacher
            or comment.status is not CommentStatus.visible or not comment.next_step):
        raise not_found()
    if comment.next_step_used_at is not None:
        return None, _("You've already used this next step.")
    if goal_choice == "new":
        data = GoalData(title=comment.next_step[:MAX_TITLE], why="", success_criteria="", target_date=None,
                        audience=Audience.private, competency_ids=set(), steps=[])
        goal = goal_service.create_goal(session=session, owner=owner, data=data)
    else:
        if not goal_choice.isdigit():
            return None, _("Choose one of your goals, or a new goal.")
        goal = goal_service.goal_for_owner(session=session, owner=owner, goal_id=int(goal_choice))
        if goal.status is not GoalStatus.active:
            return None, _("Choose one of your active goals, or a new goal.")
        _step, problem = goal_steps.add_step(session=session, goal=goal, text=comment.next_step)
        if problem:
            return None, problem
    comment.next_step_used_at = utcnow()
    session.add(comment)
    return goal, None
