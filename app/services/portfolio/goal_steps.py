"""A goal's steps: adding, renaming (with their version), ticking, moving and removing them."""

from __future__ import annotations

from sqlmodel import Session, select

from app.access import not_found
from app.i18n import _
from app.models import Goal, GoalStep
from app.models.base import utcnow
from app.services.edit_versions import EditConflict, claim_version
from app.services.portfolio.goal_changes import touch
from app.services.portfolio.goal_forms import MAX_STEPS, step_problem


def steps_of(*, session: Session, goal: Goal) -> list[GoalStep]:
    """A goal's steps in order."""
    return list(session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(GoalStep.position, GoalStep.id)).all())


def _step_of(session: Session, goal: Goal, step_id: int) -> GoalStep:
    step = session.get(GoalStep, step_id)
    if step is None or step.goal_id != goal.id:
        raise not_found()
    return step


def add_step(*, session: Session, goal: Goal, text: str) -> tuple[GoalStep | None, str | None]:
    """Add a step at the end of the list: the step, or why it can't be added."""
    steps = steps_of(session=session, goal=goal)
    if problem := step_problem(text):
        return None, problem
    if len(steps) >= MAX_STEPS:
        return None, _("A goal can have up to %(max)s steps. Remove one you don't need first.", max=MAX_STEPS)
    step = GoalStep(goal_id=goal.id, text=text.strip(), position=max((s.position for s in steps), default=-1) + 1)
    session.add(step)
    touch(session, goal, words_changed=True)
    return step, None


def rename_step(*, session: Session, goal: Goal, step_id: int, text: str, version: int | None = None) -> str | None:
    """Change a step's words; returns why it couldn't, or None; raises EditConflict if it changed since `version`."""
    step = _step_of(session, goal, step_id)
    if problem := step_problem(text):
        return problem
    claim_version(session=session, row=step, version=version)
    step.text = text.strip()
    session.add(step)
    touch(session, goal, words_changed=True)
    return None


def remove_step(*, session: Session, goal: Goal, step_id: int) -> None:
    """Remove a step (and its ticks in check-ins)."""
    session.delete(_step_of(session, goal, step_id))
    touch(session, goal, words_changed=True)


def move_step(*, session: Session, goal: Goal, step_id: int, direction: str, version: int | None = None) -> bool:
    """Move a step one place "up" or "down"; False when it is already at that end (nothing changes). A step's version
    covers its place as well as its words: raises EditConflict if it changed or moved since `version`."""
    steps = steps_of(session=session, goal=goal)
    index = next((i for i, step in enumerate(steps) if step.id == step_id), None)
    if index is None:
        raise not_found()
    step = steps[index]
    # A stale read is a conflict even where the step couldn't move; claim_version below settles a race.
    if version is not None and step.version != version:
        raise EditConflict(step)
    other = {"up": index - 1, "down": index + 1}.get(direction, index)
    if other == index or not 0 <= other < len(steps):
        return False
    # Both steps change place, so both move to a new version: a client that read either before can't move it
    # on the strength of an order that no longer holds.
    claim_version(session=session, row=step, version=version)
    claim_version(session=session, row=steps[other], version=None)
    steps[index], steps[other] = steps[other], steps[index]
    for position, row in enumerate(steps):
        if row.position != position:
            row.position = position
            session.add(row)
    touch(session, goal)
    return True


def mark_done(step: GoalStep, done: bool) -> None:
    if step.done != done:
        step.done = done
        step.done_at = utcnow() if done else None


def toggle_step(*, session: Session, goal: Goal, step_id: int, done: bool | None = None) -> GoalStep:
    """Tick or untick a step (`done` says which, so sending the form twice doesn't undo it)."""
    step = _step_of(session, goal, step_id)
    mark_done(step, (not step.done) if done is None else done)
    session.add(step)
    touch(session, goal)
    return step
