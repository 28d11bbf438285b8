"""Goals: a student's list, the goal form, the goal page with steps and check-ins, achieving and status changes."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.models import Goal, User
from app.services.badges import issuing
from app.services.moderation.approvals import approval_notice
from app.services.portfolio import goal_forms
from app.services.portfolio import goals
from app.services.portfolio import tags as tag_service
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.edit_versions import claim_version, parse_version
from app.templating import render, wants_fragment
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import FormIds, PathId
from app.services.portfolio import goal_steps

router = APIRouter(dependencies=[Depends(require_user)])

# Generous limits: longer text is refused by the services with a message saying how long it is.
ShortText = Annotated[str, Form(max_length=1000)]
LongText = Annotated[str, Form(max_length=50_000)]


def _redirect(request: Request, url: str, message: str, category: str = "success") -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    flash(request, response, message, category)
    return response


def _form_page(
    request: Request, session: Session, user: User, *, goal: Goal | None, form: goal_forms.GoalForm,
    errors: dict[str, str], new_step: str = "", status_code: int = 200, version: int | None = None, conflict=None,
    typed_steps: dict[int, str] | None = None,
) -> Response:
    """The new-goal form, or the edit form with its step list (`typed_steps`: a step's words kept after a refused
    rename)."""
    if version is None and goal is not None and conflict is None:
        version = goal.version
    context = {
        "goal": goal, "form": form, "errors": errors, "new_step": new_step, "conflict": conflict,
        "version": "" if version is None else version, "typed_steps": typed_steps or {},
        "groups": available_competencies(session=session, student=user),
        "steps": goals.steps_of(session=session, goal=goal) if goal else [],
    }
    return render(request, "goals/form.html", context, status_code=status_code)


def _edit_page(request: Request, session: Session, user: User, goal: Goal, **kwargs) -> Response:
    form = goal_forms.GoalForm.from_goal(goal, goals.competency_ids_of(session=session, goal=goal),
                                         tag_service.tags_of(session=session, kind="goal", item_ids=[goal.id]).get(goal.id, []))
    return _form_page(request, session, user, goal=goal, form=form, **kwargs)


def _show_page(
    request: Request, session: Session, user: User, goal: Goal, *,
    checkin: goal_forms.CheckInForm | None = None, errors: dict[str, str] | None = None, status_code: int = 200,
) -> Response:
    """The goal page: read-only for everyone but the owner, who also gets the check-in form."""
    page = goals.goal_page(session=session, goal=goal, viewer=user)
    is_owner = user.id == goal.owner_id
    context = {
        "goal": goal, "page": page, "steps": page.steps, "progress": page.progress, "is_owner": is_owner,
        "checkin": checkin or goal_forms.CheckInForm(occurred_on=date.today().isoformat()), "errors": errors or {},
        "evidence": goals.evidence_choices(session=session, owner=user) if is_owner else [],
        "can_achieve": goals.can_achieve(goal),
        "approval_notice": approval_notice(session=session, viewer=user, owner_id=goal.owner_id, item_id=goal.id),
        "tags": tag_service.tags_of(session=session, kind="goal", item_ids=[goal.id]).get(goal.id, []),
        "award": issuing.goal_award(session=session, viewer=user, goal=goal),
    }
    return render(request, "goals/show.html", context, status_code=status_code)


# --- the list and the goal form ----------------------------------------------------------------


@router.get("/goals")
def list_goals(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """The student's goals grouped by status, active first, each with its progress."""
    groups = goals.goals_overview(session=session, owner=user)
    return render(request, "goals/list.html", {"groups": groups})


@router.get("/goals/new")
def new_goal(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """The form for a new goal."""
    return _form_page(request, session, user, goal=None, form=goal_forms.GoalForm(), errors={})


@router.post("/goals/new")
def create_goal(
    request: Request, user: StudentUser, session: SessionDep,
    title: ShortText = "", why: LongText = "", success_criteria: LongText = "", target_date: ShortText = "",
    audience: ShortText = "private", competency_ids: FormIds = [], steps: Annotated[list[str], Form()] = [],
    tags: ShortText = "",
) -> Response:
    """Save a new goal with its steps, or show the form again with what needs fixing."""
    form = goal_forms.GoalForm(title, why, success_criteria, target_date, audience, set(competency_ids), steps, tags=tags)
    offered = allowed_ids(available_competencies(session=session, student=user))
    data = goal_forms.check_goal(form=form, allowed_competency_ids=offered)
    if not data.ok:
        form.competency_ids &= offered
        return _form_page(request, session, user, goal=None, form=form, errors=data.errors, status_code=422)
    try:
        with keeping_typed_text(session):
            goal = goals.create_goal(session=session, owner=user, data=data)
            session.commit()
    except SaveRefused as refused:
        form.competency_ids &= offered
        return _form_page(request, session, user, goal=None, form=form, errors={"form": refused.message},
                          status_code=refused.status)
    return _redirect(request, f"/goals/{goal.id}", _("Your goal is saved. You can do it!"))


@router.get("/goals/{goal_id:int}")
def show_goal(request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """One goal: the owner's to work on; their teachers and its audience may read it."""
    goal = goals.goal_visible_to(session=session, viewer=user, goal_id=goal_id)
    return _show_page(request, session, user, goal)


@router.get("/goals/{goal_id:int}/edit")
def edit_goal(request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """The edit form, with the steps to add, rename, reorder and remove."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    return _edit_page(request, session, user, goal, errors={})


@router.post("/goals/{goal_id:int}/edit")
def update_goal(
    request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep,
    title: ShortText = "", why: LongText = "", success_criteria: LongText = "", target_date: ShortText = "",
    audience: ShortText = "private", competency_ids: FormIds = [], version: ShortText = "", tags: ShortText = "",
) -> Response:
    """Save the edited goal, or show the form again with what needs fixing (or that someone saved it first)."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    form = goal_forms.GoalForm(title, why, success_criteria, target_date, audience, set(competency_ids), tags=tags)
    offered = allowed_ids(available_competencies(session=session, student=user))
    data = goal_forms.check_goal(form=form, allowed_competency_ids=offered, current_target=goal.target_date)
    seen_version = parse_version(version)
    if not data.ok:
        form.competency_ids &= offered
        return _form_page(request, session, user, goal=goal, form=form, errors=data.errors, status_code=422,
                          version=seen_version)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=goal, version=seen_version)
            goals.update_goal(session=session, goal=goal, data=data, offered_competency_ids=offered)
            session.commit()
    except SaveRefused as refused:
        form.competency_ids &= offered
        return _form_page(request, session, user, goal=goal, form=form, errors={"form": refused.message},
                          status_code=refused.status, conflict=refused.current,
                          version=refused.current.version if refused.current else seen_version)
    return _redirect(request, f"/goals/{goal.id}", _("Your changes are saved."))


@router.post("/goals/{goal_id:int}/delete")
def delete_goal(request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Delete a goal for good (a closing reflection stays in the student's reflections)."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    goals.delete_goal(session=session, goal=goal)
    session.commit()
    return _redirect(request, "/goals", _("The goal is deleted."))


# --- steps -------------------------------------------------------------------------------------


@router.post("/goals/{goal_id:int}/steps")
def add_step(request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep, text: ShortText = "") -> Response:
    """Add a step at the end of the goal's checklist."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    _step, problem = goal_steps.add_step(session=session, goal=goal, text=text)
    if problem:
        session.rollback()
        return _edit_page(request, session, user, goal, errors={"text": problem}, new_step=text, status_code=422)
    session.commit()
    return _redirect(request, f"/goals/{goal.id}/edit#steps", _("Step added."))


@router.post("/goals/{goal_id:int}/steps/{step_id:int}/toggle")
def toggle_step(
    request: Request, goal_id: PathId, step_id: PathId, user: CurrentUser, session: SessionDep,
    done: Annotated[bool | None, Form()] = None,
) -> Response:
    """Tick a step off (or untick it); with HTMX, answer with the step list alone."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    step = goal_steps.toggle_step(session=session, goal=goal, step_id=step_id, done=done)
    session.commit()
    if wants_fragment(request):
        steps = goals.steps_of(session=session, goal=goal)
        context = {"goal": goal, "steps": steps, "progress": goals.progress_of(goal=goal, steps=steps), "is_owner": True}
        return render(request, "goals/show.html", context, block="steps")
    message = _("Step ticked off. Nice work!") if step.done else _("Step marked as not done yet.")
    return _redirect(request, f"/goals/{goal.id}#steps", message)


@router.post("/goals/{goal_id:int}/steps/{step_id:int}/rename")
def rename_step(
    request: Request, goal_id: PathId, step_id: PathId, user: CurrentUser, session: SessionDep, text: ShortText = "",
    version: ShortText = "",
) -> Response:
    """Change the words of a step (unless someone changed them since the page was opened)."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    try:
        with keeping_typed_text(session):
            problem = goal_steps.rename_step(session=session, goal=goal, step_id=step_id, text=text,
                                        version=parse_version(version))
            if not problem:
                session.commit()
    except SaveRefused as refused:
        saved = _(" Saved now: “%(text)s”.", text=refused.current.text) if refused.current else ""
        return _edit_page(request, session, user, goal, errors={f"step-{step_id}": refused.message + saved},
                          typed_steps={step_id: text}, status_code=refused.status)
    if problem:
        session.rollback()
        return _edit_page(request, session, user, goal, errors={f"step-{step_id}": problem},
                          typed_steps={step_id: text}, status_code=422)
    return _redirect(request, f"/goals/{goal.id}/edit#steps", _("Step renamed."))


@router.post("/goals/{goal_id:int}/steps/{step_id:int}/move")
def move_step(
    request: Request, goal_id: PathId, step_id: PathId, user: CurrentUser, session: SessionDep, direction: ShortText = ""
) -> Response:
    """Move a step one place up or down the list."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    if not goal_steps.move_step(session=session, goal=goal, step_id=step_id, direction=direction):
        return _redirect(request, f"/goals/{goal.id}/edit#step-{step_id}", _("That step can't go any further."), "info")
    session.commit()
    return _redirect(request, f"/goals/{goal.id}/edit#step-{step_id}", _("Step moved."))


@router.post("/goals/{goal_id:int}/steps/{step_id:int}/delete")
def delete_step(request: Request, goal_id: PathId, step_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Remove a step from the checklist."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    goal_steps.remove_step(session=session, goal=goal, step_id=step_id)
    session.commit()
    return _redirect(request, f"/goals/{goal.id}/edit#steps", _("Step removed."))


# --- check-ins, achieving, status --------------------------------------------------------------


@router.post("/goals/{goal_id:int}/checkins")
def create_checkin(
    request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep,
    occurred_on: ShortText = "", note: LongText = "", artefact_ids: FormIds = [], step_ids: FormIds = [],
) -> Response:
    """Save a progress note, with evidence and the steps done since last time."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    form = goal_forms.CheckInForm(occurred_on, note, set(artefact_ids), set(step_ids))
    checked = goal_forms.check_checkin(session=session, goal=goal, form=form)
    if not checked.ok:
        return _show_page(request, session, user, goal, checkin=form, errors=checked.errors, status_code=422)
    goals.record_checkin(session=session, goal=goal, occurred_on=checked.occurred_on, note=note,
                         artefact_ids=form.artefact_ids, step_ids=form.step_ids)
    session.commit()
    return _redirect(request, f"/goals/{goal.id}#checkins", _("Check-in saved. Keep going!"))


@router.get("/goals/{goal_id:int}/achieve")
def achieve_form(request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Ask for the closing reflection before a goal is marked achieved."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    if not goals.can_achieve(goal):
        return _redirect(request, f"/goals/{goal.id}", _("This goal is already finished."), "info")
    return render(request, "goals/achieve.html", {"goal": goal, "closing_text": "", "errors": {}})


@router.post("/goals/{goal_id:int}/achieve")
def achieve_goal(
    request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep, closing_text: LongText = ""
) -> Response:
    """Mark the goal achieved and keep the student's closing words as a reflection."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    if not goals.can_achieve(goal):
        return _redirect(request, f"/goals/{goal.id}", _("This goal is already finished."), "info")
    problem = goal_forms.closing_problem(closing_text)
    if problem:
        context = {"goal": goal, "closing_text": closing_text, "errors": {"closing_text": problem}}
        return render(request, "goals/achieve.html", context, status_code=422)
    goals.achieve_goal(session=session, goal=goal, closing_text=closing_text)
    session.commit()
    return _redirect(request, f"/goals/{goal.id}", _("Well done! Your goal is achieved, and your reflection is saved."))


@router.post("/goals/{goal_id:int}/status")
def change_status(
    request: Request, goal_id: PathId, user: CurrentUser, session: SessionDep, action: ShortText = ""
) -> Response:
    """Pause, resume, drop or reopen a goal."""
    goal = goals.goal_for_owner(session=session, owner=user, goal_id=goal_id)
    problem = goals.set_status(session=session, goal=goal, action=action)
    if problem:
        session.rollback()
        return _redirect(request, f"/goals/{goal.id}", problem, "error")
    session.commit()
    messages = {
        "pause": _("Goal paused. Start it again whenever you're ready."),
        "resume": _("Welcome back! The goal is active again."),
        "drop": _("Goal dropped. It stays in your list, and you can reopen it any time."),
        "reopen": _("The goal is active again."),
    }
    return _redirect(request, f"/goals/{goal.id}", messages[action])
