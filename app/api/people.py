"""/api/v1/me, goals, and a guardian's children with each child's family feed: the HTML pages' services."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import Session

from app.api import cursors
from app.api.auth import ApiCaller, require_role
from app.api.items import READ_ERRORS, Cursor, Limit, summary_of
from app.api.problems import problem_responses
from app.api.schemas import Child, ChildList, GoalDetail, GoalList, GoalStepOut, GoalSummary, Id, ItemList, ItemSummary, Me
from app.db import SessionDep
from app.models import Goal, Role, User
from app.services.accounts.people import children_of
from app.services.family import family
from app.services.portfolio import goals as goal_service
from app.services.portfolio import tags as tag_service

router = APIRouter()


@router.get("/me", response_model=Me, responses=problem_responses(401, 403, 429), tags=["me"],
            summary="Who this token acts for")
def me(caller: ApiCaller) -> Me:
    """The token's owner, and the token's own name, scopes and expiry."""
    user, token = caller.user, caller.token
    return Me(id=user.id, username=user.username, display_name=user.display_name, role=user.role.value,
              locale=user.locale, token={"name": token.name, "scopes": token.scopes.split(),
                                         "expires_at": token.expires_at})


def _goal_fields(progress: goal_service.GoalProgress) -> dict:
    goal = progress.goal
    return {"id": goal.id, "title": goal.title, "status": goal.status.value, "audience": goal.audience.value,
            "target_date": goal.target_date, "steps_done": progress.done, "steps_total": progress.total,
            "api_url": f"/api/v1/goals/{goal.id}"}


@router.get("/goals", response_model=GoalList, responses=READ_ERRORS, tags=["goals"], summary="List my goals")
def list_goals(caller: ApiCaller, session: SessionDep) -> GoalList:
    """The student's goals with step counts, as the Goals page orders them (active first, soonest target first)."""
    require_role(caller, Role.student)
    groups = goal_service.goals_overview(session=session, owner=caller.user)
    return GoalList(goals=[GoalSummary(**_goal_fields(p)) for group in groups for p in group.items])


@router.get("/goals/{goal_id}", response_model=GoalDetail, responses=READ_ERRORS, tags=["goals"],
            summary="Read one goal")
def read_goal(goal_id: Id, caller: ApiCaller, session: SessionDep) -> GoalDetail:
    """A goal with its steps, for whoever its page lets in (the owner, their teachers, its audience); else 404."""
    goal = goal_service.goal_visible_to(session=session, viewer=caller.user, goal_id=goal_id)
    return goal_detail(session, caller.user, goal)


def goal_detail(session: Session, viewer: User, goal: Goal) -> GoalDetail:
    """The goal as its page shows it to `viewer` (steps, competencies, tags), with its version."""
    page = goal_service.goal_page(session=session, goal=goal, viewer=viewer)
    tags = tag_service.tags_of(session=session, kind="goal", item_ids=[goal.id]).get(goal.id, [])
    return GoalDetail(**_goal_fields(page.progress), why=goal.why, success_criteria=goal.success_criteria,
                      version=goal.version, tags=tags, competency_ids=[c.id for c in page.competencies],
                      steps=[GoalStepOut(id=s.id, text=s.text, done=s.done, version=s.version) for s in page.steps])


@router.get("/family/children", response_model=ChildList, responses=READ_ERRORS, tags=["family"],
            summary="My children")
def list_children(caller: ApiCaller, session: SessionDep) -> ChildList:
    """The students linked to the guardian, with their current classes."""
    require_role(caller, Role.guardian)
    views = children_of(session=session, guardian=caller.user)
    return ChildList(children=[Child(id=v.child.id, display_name=v.child.display_name,
                                     classes=[c.name for c in v.classes],
                                     feed_url=f"/api/v1/family/children/{v.child.id}/feed") for v in views])


@router.get("/family/children/{student_id}/feed", response_model=ItemList, responses=READ_ERRORS, tags=["family"],
            summary="A child's family feed")
def child_feed(request: Request, student_id: Id, caller: ApiCaller, session: SessionDep, cursor: Cursor = None,
               limit: Limit = 20) -> ItemList:
    """What the child shares with family (approved where their class asks for it), newest first; 404 for a student
    who isn't the guardian's child."""
    require_role(caller, Role.guardian)
    child = family.child_for_guardian(session=session, guardian=caller.user, student_id=student_id)
    number, size = cursors.decode(cursor, size=limit)
    page = family.feed_page(session=session, guardian=caller.user, children=[child], number=number, size=size)
    return ItemList(items=[ItemSummary(**summary_of(row.entry)) for row in page.items], total=page.total,
                    next=cursors.next_address(request, page))
