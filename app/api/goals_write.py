"""/api/v1/goals, written: a student's new goals, edits (an edit names the version it read; a stale one is 409) and
deletions, steps (added, renamed, ticked, moved, removed), check-ins and status changes, through the goal form's own
checks and the goal service (a family goal asks a teacher for approval where the class wants one, as on the pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlmodel import Session

from app.api.auth import WritingCaller, require_role
from app.api.goal_schemas import (
    CheckInOut,
    GoalStatusChange,
    GoalUpdate,
    NewCheckIn,
    NewGoal,
    NewStep,
    StepMove,
    StepUpdate,
)
from app.api.bodies import body_schema, json_body
from app.api.items import WRITE_ERRORS
from app.api.people import goal_detail
from app.api.problems import ApiProblem, created, invalid_body, problem_responses
from app.api.schemas import GoalDetail, Id
from app.db import SessionDep
from app.i18n import _
from app.models import Goal, Role, User
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.edit_versions import EditConflict, claim_version
from app.services.portfolio import goal_forms
from app.services.portfolio import goals as service
from app.services.portfolio import goal_steps

router = APIRouter(tags=["goals"])
EDIT_ERRORS = {**WRITE_ERRORS, **problem_responses(409)}
BODY_MODELS = (NewGoal, GoalUpdate, NewStep, StepUpdate, StepMove, NewCheckIn, GoalStatusChange)


def _checked(session: Session, user: User, body: NewGoal | GoalUpdate, goal: Goal | None) -> tuple:
    """The goal form's checks on the JSON body: the data to save and the competencies offered (422 when refused)."""
    form = goal_forms.GoalForm(
        title=body.title, why=body.why, success_criteria=body.success_criteria,
        target_date=body.target_date.isoformat() if body.target_date else "", audience=body.audience,
        competency_ids=set(body.competency_ids), steps=list(getattr(body, "steps", [])), tags=",".join(body.tags))
    offered = allowed_ids(available_competencies(session=session, student=user))
    data = goal_forms.check_goal(form=form, allowed_competency_ids=offered,
                                 current_target=goal.target_date if goal else None)
    if not data.ok:
        raise invalid_body(data.errors)
    return data, offered


def _own_goal(session: Session, caller, goal_id: int) -> Goal:
    require_role(caller, Role.student)
    return service.goal_for_owner(session=session, owner=caller.user, goal_id=goal_id)


@router.post("/goals", response_model=GoalDetail, status_code=201, summary="Set a goal",
             responses={**WRITE_ERRORS, **created("The goal's address (`GET /goals/{goal_id}`).")},
             openapi_extra=body_schema(NewGoal))
def create_goal(body: Annotated[NewGoal, Depends(json_body(NewGoal))], response: Response, caller: WritingCaller,
                session: SessionDep) -> GoalDetail:
    """A new active goal with its steps, checked and saved like the goal form (approval asked where needed)."""
    require_role(caller, Role.student)
    data, _offered = _checked(session, caller.user, body, None)
    goal = service.create_goal(session=session, owner=caller.user, data=data)
    session.commit()
    response.headers["Location"] = f"/api/v1/goals/{goal.id}"
    return goal_detail(session, caller.user, goal)


@router.put("/goals/{goal_id}", response_model=GoalDetail, responses=EDIT_ERRORS, summary="Edit a goal",
            openapi_extra=body_schema(GoalUpdate))
def update_goal(goal_id: Id, body: Annotated[GoalUpdate, Depends(json_body(GoalUpdate))], caller: WritingCaller,
                session: SessionDep) -> GoalDetail:
    """Replace the goal's words, audience, competencies and tags, unless it changed since `version` was read: then
    409, and nothing is overwritten."""
    goal = _own_goal(session, caller, goal_id)
    data, offered = _checked(session, caller.user, body, goal)
    try:
        claim_version(session=session, row=goal, version=body.version)
    except EditConflict as conflict:
        message = _("This goal was changed somewhere else after version %(sent)s was read; it is at version %(now)s "
                    "now. Nothing was overwritten: read it again, then send your changes with that version.",
                    sent=body.version, now=conflict.current.version)
        raise ApiProblem(409, message, errors={"version": message}) from None
    service.update_goal(session=session, goal=goal, data=data, offered_competency_ids=offered)
    session.commit()
    return goal_detail(session, caller.user, goal)


@router.delete("/goals/{goal_id}", status_code=204, response_class=Response, responses=WRITE_ERRORS,
               summary="Delete a goal")
def delete_goal(goal_id: Id, caller: WritingCaller, session: SessionDep) -> Response:
    """Delete the goal for good, as its page does: its steps, check-ins, comments, feedback requests, approvals and
    notifications go with it; a closing reflection stays among the student's reflections."""
    goal = _own_goal(session, caller, goal_id)
    service.delete_goal(session=session, goal=goal)
    session.commit()
    return Response(status_code=204)


@router.post("/goals/{goal_id}/steps", response_model=GoalDetail, status_code=201,
             responses={**WRITE_ERRORS, **created("The goal, where its steps are read (`GET /goals/{goal_id}`).")},
             summary="Add a step", openapi_extra=body_schema(NewStep))
def add_step(goal_id: Id, body: Annotated[NewStep, Depends(json_body(NewStep))], response: Response,
             caller: WritingCaller, session: SessionDep) -> GoalDetail:
    """Add a step at the end of the goal's checklist (up to 30), as the edit page does."""
    goal = _own_goal(session, caller, goal_id)
    _step, problem = goal_steps.add_step(session=session, goal=goal, text=body.text)
    if problem:
        session.rollback()
        raise invalid_body({"text": problem})
    session.commit()
    # Steps are read with their goal (no operation reads one step alone).
    response.headers["Location"] = f"/api/v1/goals/{goal.id}"
    return goal_detail(session, caller.user, goal)


@router.put("/goals/{goal_id}/steps/{step_id}", response_model=GoalDetail, responses=EDIT_ERRORS,
            summary="Rename or tick a step", openapi_extra=body_schema(StepUpdate))
def update_step(goal_id: Id, step_id: Id, body: Annotated[StepUpdate, Depends(json_body(StepUpdate))],
                caller: WritingCaller, session: SessionDep) -> GoalDetail:
    """New words for a step (refused with 409 if it changed since its `version`), and/or its tick."""
    goal = _own_goal(session, caller, goal_id)
    if body.text is None and body.done is None:
        raise invalid_body({"text": _("Send the step's new words, whether it is done, or both.")})
    if body.text is not None:
        try:
            problem = goal_steps.rename_step(session=session, goal=goal, step_id=step_id, text=body.text,
                                          version=body.version)
        except EditConflict as conflict:
            message = _("This step was changed somewhere else after version %(sent)s was read; it is at version "
                        "%(now)s now. Nothing was overwritten.", sent=body.version, now=conflict.current.version)
            raise ApiProblem(409, message, errors={"version": message}) from None
        if problem:
            session.rollback()
            raise invalid_body({"text": problem})
    if body.done is not None:
        goal_steps.toggle_step(session=session, goal=goal, step_id=step_id, done=body.done)
    session.commit()
    return goal_detail(session, caller.user, goal)


@router.post("/goals/{goal_id}/steps/{step_id}/move", response_model=GoalDetail, responses=EDIT_ERRORS,
             summary="Move a step up or down", openapi_extra=body_schema(StepMove))
def move_step(goal_id: Id, step_id: Id, body: Annotated[StepMove, Depends(json_body(StepMove))],
              caller: WritingCaller, session: SessionDep) -> GoalDetail:
    """Move a step one place up or down the checklist, as the edit page does, unless it changed or moved since its
    `version` (409, nothing moved); a step already at that end is 422."""
    goal = _own_goal(session, caller, goal_id)
    try:
        moved = goal_steps.move_step(session=session, goal=goal, step_id=step_id, direction=body.direction,
                                  version=body.version)
    except EditConflict as conflict:
        message = _("This step was changed or moved somewhere else after version %(sent)s was read; it is at version "
                    "%(now)s now. Nothing was moved: read the goal again.", sent=body.version,
                    now=conflict.current.version)
        raise ApiProblem(409, message, errors={"version": message}) from None
    if not moved:
        raise invalid_body({"direction": _("That step can't go any further.")})
    session.commit()
    return goal_detail(session, caller.user, goal)


@router.delete("/goals/{goal_id}/steps/{step_id}", response_model=GoalDetail, responses=WRITE_ERRORS,
               summary="Remove a step")
def delete_step(goal_id: Id, step_id: Id, caller: WritingCaller, session: SessionDep) -> GoalDetail:
    """Remove a step from the checklist (and its ticks in check-ins)."""
    goal = _own_goal(session, caller, goal_id)
    goal_steps.remove_step(session=session, goal=goal, step_id=step_id)
    session.commit()
    return goal_detail(session, caller.user, goal)


@router.post("/goals/{goal_id}/checkins", response_model=CheckInOut, status_code=201,
             responses={**WRITE_ERRORS, **created("The goal, its steps ticked (`GET /goals/{goal_id}`).")},
             summary="Check in on a goal", openapi_extra=body_schema(NewCheckIn))
def create_checkin(goal_id: Id, body: Annotated[NewCheckIn, Depends(json_body(NewCheckIn))], response: Response,
                   caller: WritingCaller, session: SessionDep) -> CheckInOut:
    """A progress note with evidence and the steps done since last time, checked like the goal page's form."""
    goal = _own_goal(session, caller, goal_id)
    form = goal_forms.CheckInForm(occurred_on=body.occurred_on.isoformat() if body.occurred_on else "",
                                  note=body.note, artefact_ids=set(body.artefact_ids), step_ids=set(body.step_ids))
    checked = goal_forms.check_checkin(session=session, goal=goal, form=form)
    if not checked.ok:
        raise invalid_body(checked.errors)
    checkin = service.record_checkin(session=session, goal=goal, occurred_on=checked.occurred_on, note=body.note,
                                     artefact_ids=form.artefact_ids, step_ids=form.step_ids)
    session.commit()
    response.headers["Location"] = f"/api/v1/goals/{goal.id}"
    return CheckInOut(id=checkin.id, goal_id=goal.id, occurred_on=checkin.occurred_on, note=checkin.note,
                      artefact_ids=sorted(form.artefact_ids), step_ids=sorted(form.step_ids),
                      goal_url=f"/api/v1/goals/{goal.id}")


@router.post("/goals/{goal_id}/status", response_model=GoalDetail, responses=WRITE_ERRORS,
             summary="Pause, resume, drop, reopen or achieve a goal", openapi_extra=body_schema(GoalStatusChange))
def change_status(goal_id: Id, body: Annotated[GoalStatusChange, Depends(json_body(GoalStatusChange))],
                  caller: WritingCaller, session: SessionDep) -> GoalDetail:
    """Move the goal to another status by the goal page's rules; achieving keeps `closing_text` as a published
    reflection linked to the goal (a family goal's waits for a teacher where the class asks for it)."""
    goal = _own_goal(session, caller, goal_id)
    if body.action == "achieve":
        if not service.can_achieve(goal):
            raise invalid_body({"action": _("This goal is already finished.")})
        if problem := goal_forms.closing_problem(body.closing_text):
            raise invalid_body({"closing_text": problem})
        service.achieve_goal(session=session, goal=goal, closing_text=body.closing_text)
    elif problem := service.set_status(session=session, goal=goal, action=body.action):
        session.rollback()
        raise invalid_body({"action": problem})
    session.commit()
    return goal_detail(session, caller.user, goal)
