"""Goals: reading them with their progress, creating and editing them, check-ins, and the statuses a goal moves
through (their steps: app.services.portfolio.goal_steps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    CheckIn,
    CheckInArtefact,
    CheckInStep,
    Competency,
    Goal,
    GoalCompetency,
    GoalStatus,
    GoalStep,
    Reflection,
    ReflectionGoal,
    ReflectionStatus,
    User,
)
from app.models.base import utcnow
from app.services.moderation import approvals
from app.services.portfolio import tags as tag_service
from app.services.portfolio import timeline
from app.access import load_own, load_visible, not_an_attached_recording, visible_among, visible_audiences
from app.services.portfolio.goal_changes import touch
from app.services.portfolio.goal_steps import mark_done, steps_of
from app.services.portfolio.goal_forms import MAX_TITLE, GoalData, closing_problem

EVIDENCE_CHOICES = 50
# Order of the groups on the goals page: what the student is working on comes first.
STATUS_ORDER = (GoalStatus.active, GoalStatus.paused, GoalStatus.achieved, GoalStatus.dropped)
# The status changes a student may make with one button (achieving asks for a reflection instead).
STATUS_ACTIONS = {
    "pause": ({GoalStatus.active}, GoalStatus.paused),
    "resume": ({GoalStatus.paused}, GoalStatus.active),
    "drop": ({GoalStatus.active, GoalStatus.paused}, GoalStatus.dropped),
    "reopen": ({GoalStatus.achieved, GoalStatus.dropped}, GoalStatus.active),
}


# --- loading -----------------------------------------------------------------------------------


def goal_for_owner(*, session: Session, owner: User, goal_id: int) -> Goal:
    """`owner`'s goal, or 404 (for anyone else's, too: changing a goal is for its owner only)."""
    return load_own(session, Goal, goal_id, owner)


def goal_visible_to(*, session: Session, viewer: User, goal_id: int) -> Goal:
    """A goal `viewer` may look at (the owner, their teachers, others as its audience allows), or 404."""
    return load_visible(session, Goal, goal_id, viewer)


@dataclass
class GoalProgress:
    """A goal with how many of its steps are done."""

    goal: Goal
    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


@dataclass
class GoalGroup:
    status: GoalStatus
    items: list[GoalProgress]


def _with_progress(owner: User):
    counts = (
        select(
            GoalStep.goal_id.label("goal_id"),
            sa.func.count().label("total"),
            sa.func.sum(sa.case((GoalStep.done == True, 1), else_=0)).label("done"),  # noqa: E712
        )
        # Only this owner's steps: counting every goal's steps in the school to keep a few would grow with the table.
        .where(GoalStep.goal_id.in_(select(Goal.id).where(Goal.owner_id == owner.id)))
        .group_by(GoalStep.goal_id)
        .subquery("step_counts")
    )
    return (
        select(Goal, sa.func.coalesce(counts.c.done, 0), sa.func.coalesce(counts.c.total, 0))
        .outerjoin(counts, counts.c.goal_id == Goal.id)
        .where(Goal.owner_id == owner.id)
    )


def goals_overview(*, session: Session, owner: User) -> list[GoalGroup]:
    """`owner`'s goals with step counts, grouped by status, active first (one query)."""
    rows = session.exec(_with_progress(owner).order_by(Goal.id.desc())).all()
    by_status: dict[GoalStatus, list[GoalProgress]] = {}
    for goal, done, total in rows:
        by_status.setdefault(goal.status, []).append(GoalProgress(goal, int(done), int(total)))
    for status, items in by_status.items():
        if status in (GoalStatus.active, GoalStatus.paused):
            # Soonest target date first; goals without one after them, newest first.
            items.sort(key=lambda p: (p.goal.target_date is None, p.goal.target_date or date.max))
        elif status is GoalStatus.achieved:
            items.sort(key=lambda p: p.goal.achieved_at or p.goal.updated_at, reverse=True)
    return [GoalGroup(status, by_status[status]) for status in STATUS_ORDER if status in by_status]


def goals_with_progress(*, session: Session, owner: User) -> list[GoalProgress]:
    """All of `owner`'s goals by title, with step counts (one query)."""
    rows = session.exec(_with_progress(owner).order_by(Goal.title, Goal.id)).all()
    return [GoalProgress(goal, int(done), int(total)) for goal, done, total in rows]


def soonest_active(progress: list[GoalProgress], *, limit: int = 5) -> list[GoalProgress]:
    """The active goals among `progress`, soonest target date first (goals without one after them, newest first);
    the same order as active_goals_with_progress, without another query."""
    active = [p for p in progress if p.goal.status is GoalStatus.active]
    active.sort(key=lambda p: (p.goal.target_date is None, p.goal.target_date or date.max, -p.goal.id))
    return active[:limit]


def active_goals_with_progress(*, session: Session, owner: User, limit: int = 5) -> list[GoalProgress]:
    """`owner`'s active goals (soonest target date first) with `.goal`, `.done`, `.total` (one query)."""
    statement = (
        _with_progress(owner)
        .where(Goal.status == GoalStatus.active)
        .order_by(Goal.target_date.is_(None), Goal.target_date, Goal.id.desc())
        .limit(limit)
    )
    return [GoalProgress(goal, int(done), int(total)) for goal, done, total in session.exec(statement).all()]


def progress_of(*, goal: Goal, steps: list[GoalStep]) -> GoalProgress:
    """How many of `steps` are done."""
    return GoalProgress(goal, sum(1 for step in steps if step.done), len(steps))


def competency_ids_of(*, session: Session, goal: Goal) -> set[int]:
    return set(session.exec(select(GoalCompetency.competency_id).where(GoalCompetency.goal_id == goal.id)).all())


@dataclass
class CheckInView:
    checkin: CheckIn
    artefacts: list[Artefact] = field(default_factory=list)
    steps: list[GoalStep] = field(default_factory=list)


@dataclass
class GoalPage:
    """Everything the goal page shows, as `viewer` may see it."""

    goal: Goal
    steps: list[GoalStep]
    progress: GoalProgress
    competencies: list[Competency]
    checkins: list[CheckInView]
    closing_reflection: Reflection | None


def goal_page(*, session: Session, goal: Goal, viewer: User) -> GoalPage:
    """The goal with its steps, competencies, check-ins and closing reflection (a fixed number of queries).

    Evidence and the closing reflection are items of their own: each shows only if `viewer` may see it.
    """
    audiences = visible_audiences(session=session, viewer=viewer, owner_id=goal.owner_id)
    steps = steps_of(session=session, goal=goal)
    competencies = list(session.exec(
        select(Competency).join(GoalCompetency, GoalCompetency.competency_id == Competency.id)
        .where(GoalCompetency.goal_id == goal.id).order_by(Competency.code)
    ).all())
    checkins = list(session.exec(
        select(CheckIn).where(CheckIn.goal_id == goal.id).order_by(CheckIn.occurred_on.desc(), CheckIn.id.desc())
    ).all())
    views = {checkin.id: CheckInView(checkin) for checkin in checkins}
    if views:
        evidence = session.exec(
            select(CheckInArtefact.checkin_id, Artefact)
            .join(Artefact, Artefact.id == CheckInArtefact.artefact_id)
            .where(CheckInArtefact.checkin_id.in_(list(views)), Artefact.audience.in_(list(audiences)))
            .order_by(Artefact.occurred_on.desc(), Artefact.id.desc())
        ).all()
        shown = {a.id for a in visible_among(session=session, viewer=viewer, owner_id=goal.owner_id,
                                             items=[a for _, a in evidence])}
        for checkin_id, artefact in evidence:
            if artefact.id in shown:
                views[checkin_id].artefacts.append(artefact)
        step_by_id = {step.id: step for step in steps}
        ticked = session.exec(select(CheckInStep).where(CheckInStep.checkin_id.in_(list(views)))).all()
        for row in ticked:
            if row.step_id in step_by_id:
                views[row.checkin_id].steps.append(step_by_id[row.step_id])
    reflection = session.get(Reflection, goal.closing_reflection_id) if goal.closing_reflection_id else None
    if reflection is not None and not visible_among(session=session, viewer=viewer, owner_id=goal.owner_id,
                                                     items=[reflection]):
        reflection = None
    return GoalPage(goal, steps, progress_of(goal=goal, steps=steps), competencies, [views[c.id] for c in checkins], reflection)


def evidence_choices(*, session: Session, owner: User, limit: int = EVIDENCE_CHOICES) -> list[Artefact]:
    """The student's own artefacts, newest first, to attach to a check-in (recordings are part of something already)."""
    return list(session.exec(
        select(Artefact).where(Artefact.owner_id == owner.id, not_an_attached_recording(Artefact.id))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(limit)
    ).all())


# --- changing goals ----------------------------------------------------------------------------


def create_goal(*, session: Session, owner: User, data: GoalData) -> Goal:
    """A new active goal for `owner`, with its steps and competencies."""
    goal = Goal(
        owner_id=owner.id, title=data.title, why=data.why, success_criteria=data.success_criteria,
        target_date=data.target_date, audience=data.audience, status=GoalStatus.active,
    )
    session.add(goal)
    session.flush()
    for position, text in enumerate(data.steps):
        session.add(GoalStep(goal_id=goal.id, text=text, position=position))
    for competency_id in sorted(data.competency_ids):
        session.add(GoalCompetency(goal_id=goal.id, competency_id=competency_id))
    if data.tags:
        tag_service.set_tags(session=session, kind="goal", item_id=goal.id, owner_id=goal.owner_id, names=data.tags)
    touch(session, goal, words_changed=True)
    return goal


def update_goal(*, session: Session, goal: Goal, data: GoalData, offered_competency_ids: set[int]) -> Goal:
    """Save an edited goal; tags to competencies the picker no longer offers are kept as they were."""
    goal.title, goal.why, goal.success_criteria = data.title, data.why, data.success_criteria
    goal.target_date, goal.audience = data.target_date, data.audience
    current = competency_ids_of(session=session, goal=goal)
    wanted = (data.competency_ids & offered_competency_ids) | (current - offered_competency_ids)
    if current - wanted:
        session.exec(sa.delete(GoalCompetency).where(
            GoalCompetency.goal_id == goal.id, GoalCompetency.competency_id.in_(list(current - wanted))))
    for competency_id in sorted(wanted - current):
        session.add(GoalCompetency(goal_id=goal.id, competency_id=competency_id))
    if data.tags is not None:
        tag_service.set_tags(session=session, kind="goal", item_id=goal.id, owner_id=goal.owner_id, names=data.tags)
    touch(session, goal, words_changed=True)
    return goal


def delete_goal(*, session: Session, goal: Goal) -> None:
    """Delete a goal with its steps and check-ins (its closing reflection stays, as a reflection)."""
    timeline.delete_item(session=session, item_id=goal.id)


def record_checkin(
    *, session: Session, goal: Goal, occurred_on: date, note: str, artefact_ids: set[int], step_ids: set[int]
) -> CheckIn:
    """Save a check-in with its evidence, ticking off its steps (only the student's own artefacts are attached)."""
    checkin = CheckIn(goal_id=goal.id, occurred_on=occurred_on, note=note.strip())
    session.add(checkin)
    session.flush()
    own = session.exec(select(Artefact.id).where(
        Artefact.id.in_(list(artefact_ids)), Artefact.owner_id == goal.owner_id)).all() if artefact_ids else []
    for artefact_id in sorted(own):
        session.add(CheckInArtefact(checkin_id=checkin.id, artefact_id=artefact_id))
    if step_ids:
        for step in session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id, GoalStep.id.in_(list(step_ids)))).all():
            if not step.done:
                mark_done(step, True)
                session.add(step)
                session.add(CheckInStep(checkin_id=checkin.id, step_id=step.id))
    touch(session, goal, words_changed=True)
    return checkin


def can_achieve(goal: Goal) -> bool:
    return goal.status in (GoalStatus.active, GoalStatus.paused)


def achieve_goal(*, session: Session, goal: Goal, closing_text: str) -> Reflection:
    """Mark the goal achieved, with the student's closing words saved as a published reflection linked to it."""
    if problem := closing_problem(closing_text):
        raise ValueError(problem)
    now = utcnow()
    title = _("Achieved: %(title)s", title=goal.title)
    reflection = Reflection(
        owner_id=goal.owner_id, title=title[:MAX_TITLE], body=closing_text.strip(), audience=goal.audience,
        status=ReflectionStatus.published, published_at=now, created_at=now, updated_at=now,
    )
    session.add(reflection)
    session.flush()
    session.add(ReflectionGoal(reflection_id=reflection.id, goal_id=goal.id))
    timeline.sync_reflection(session=session, reflection=reflection)
    # The closing words are a family item of their own when the goal is: they wait for a teacher like any other.
    approvals.request_if_needed(session=session, owner_id=reflection.owner_id, item_id=reflection.id,
                                audience=reflection.audience, title=reflection.title)
    goal.status, goal.achieved_at, goal.closing_reflection_id = GoalStatus.achieved, now, reflection.id
    touch(session, goal)
    return reflection


def set_status(*, session: Session, goal: Goal, action: str) -> str | None:
    """Pause, resume, drop or reopen a goal; returns why it couldn't, or None."""
    if action not in STATUS_ACTIONS:
        return _("That isn't something you can do to a goal.")
    allowed_from, new_status = STATUS_ACTIONS[action]
    if goal.status not in allowed_from:
        return {
            "pause": _("Only a goal you're working on can be paused."),
            "resume": _("Only a paused goal can be started again."),
            "drop": _("Only a goal you're working on, or one that's paused, can be dropped."),
            "reopen": _("Only an achieved or dropped goal can be reopened."),
        }[action]
    if goal.status is GoalStatus.achieved:
        # Reopened: no longer closed. The closing reflection stays, linked to the goal, among the reflections.
        goal.achieved_at, goal.closing_reflection_id = None, None
    goal.status = new_status
    touch(session, goal)
    return None
