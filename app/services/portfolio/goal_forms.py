"""Goal forms: what a student typed, checked, with messages a child can act on; and the words for statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session, select

from app.i18n import _
from app.models import Artefact, Audience, Goal, GoalStep
from app.services.portfolio import tags as tag_service
from app.services.forms import FormInput

MAX_TITLE = 200
MAX_TEXT = 5000
MAX_STEP = 300
MAX_STEPS = 30
NEW_GOAL_STEP_SLOTS = 5

# --- reading and checking forms ----------------------------------------------------------------


@dataclass
class GoalForm:
    """What a student typed in the goal form, kept as typed so a refused form shows it back."""

    title: str = ""
    why: str = ""
    success_criteria: str = ""
    target_date: str = ""
    audience: str = Audience.private.value
    competency_ids: set[int] = field(default_factory=set)
    steps: list[str] = field(default_factory=list)
    tags: str = ""  # comma-separated, as typed

    @classmethod
    def from_goal(cls, goal: Goal, competency_ids: set[int], tags: list[str] = ()) -> "GoalForm":
        return cls(
            title=goal.title, why=goal.why, success_criteria=goal.success_criteria,
            target_date=goal.target_date.isoformat() if goal.target_date else "",
            audience=goal.audience.value, competency_ids=set(competency_ids), tags=", ".join(tags),
        )

    def step_slots(self) -> list[str]:
        """The steps typed so far plus empty boxes for more (the new-goal form has no JavaScript to add rows)."""
        typed = [text for text in self.steps if text.strip()]
        return typed + [""] * max(2, NEW_GOAL_STEP_SLOTS - len(typed))


@dataclass
class GoalData(FormInput):
    """A checked goal form, ready to save when `ok` (with errors, a wrong date or audience is left as None)."""

    title: str
    why: str
    success_criteria: str
    target_date: date | None
    audience: Audience | None
    competency_ids: set[int]
    steps: list[str]
    tags: list[str] | None = None  # None: leave the goal's tags as they are


def _text_problem(text: str, *, limit: int) -> str | None:
    if len(text) > limit:
        return _("Use at most %(max)s characters (this has %(n)s). Try saying it in fewer words.", max=limit, n=len(text))
    return None


def step_problem(text: str) -> str | None:
    """Why a step's text can't be used, or None."""
    if not text.strip():
        return _("Write what the step is, like “Read one chapter a day”.")
    return _text_problem(text.strip(), limit=MAX_STEP)


def parse_date(raw: str) -> date | None:
    """A date from a date input ("2026-03-14"); ValueError if it isn't one."""
    return date.fromisoformat(raw.strip()) if raw.strip() else None


def check_goal(*, form: GoalForm, allowed_competency_ids: set[int], current_target: date | None = None) -> GoalData:
    """Check a goal form: the data to save and errors by field (competencies not offered are dropped)."""
    errors: dict[str, str] = {}
    title = form.title.strip()
    if not title:
        errors["title"] = _("Give your goal a title, like “Read five books this term”.")
    elif problem := _text_problem(title, limit=MAX_TITLE):
        errors["title"] = problem
    for name in ("why", "success_criteria"):
        if problem := _text_problem(getattr(form, name).strip(), limit=MAX_TEXT):
            errors[name] = problem
    target_date = None
    try:
        target_date = parse_date(form.target_date)
    except ValueError:
        errors["target_date"] = _("Use a date like 2026-11-23, or leave it empty.")
    else:
        # A date already in the goal may have passed; a new one should be in the future.
        if target_date and target_date != current_target and target_date < date.today():
            errors["target_date"] = _("That day has already passed. Choose today or a later day, or leave it empty.")
    audience = None
    try:
        audience = Audience(form.audience)
    except ValueError:
        errors["audience"] = _("Choose who can see your goal.")
    steps = [text.strip() for text in form.steps if text.strip()]
    if len(steps) > MAX_STEPS:
        errors["steps"] = _("A goal can have up to %(max)s steps. Join some together.", max=MAX_STEPS)
    # Numbered as the form shows them again: the steps typed, empty boxes left out.
    for position, text in enumerate(steps, start=1):
        if problem := step_problem(text):
            errors[f"step-{position}"] = problem
    tags = tag_service.normalise(form.tags)
    if len(tags) > tag_service.MAX_TAGS:
        errors["tags"] = _("Use at most %(max)s tags.", max=tag_service.MAX_TAGS)
    return GoalData(
        title=title, why=form.why.strip(), success_criteria=form.success_criteria.strip(), target_date=target_date,
        audience=audience, competency_ids=form.competency_ids & allowed_competency_ids, steps=steps, tags=tags,
        errors=errors,
    )




@dataclass
class CheckInForm:
    """What a student typed in the check-in form, kept as typed so a refused form shows it back."""

    occurred_on: str = ""
    note: str = ""
    artefact_ids: set[int] = field(default_factory=set)
    step_ids: set[int] = field(default_factory=set)


@dataclass
class CheckInData(FormInput):
    """A checked check-in form: the day it happened (None if the date typed is wrong)."""

    occurred_on: date | None = None


def check_checkin(*, session: Session, goal: Goal, form: CheckInForm) -> CheckInData:
    """Check a check-in form: its date and errors by field (evidence and steps must be the student's own)."""
    errors: dict[str, str] = {}
    occurred_on = None
    try:
        occurred_on = parse_date(form.occurred_on) or date.today()
    except ValueError:
        errors["occurred_on"] = _("Use a date like 2026-11-23.")
    else:
        # A day's slack: the student's today may be ahead of the server's.
        if occurred_on > date.today() + timedelta(days=1):
            errors["occurred_on"] = _("That day hasn't happened yet. Choose today or a day before.")
    if problem := _text_problem(form.note.strip(), limit=MAX_TEXT):
        errors["note"] = problem
    if not form.note.strip() and not form.artefact_ids and not form.step_ids:
        errors["note"] = _("Write a few words about how it's going, add some evidence, or tick a step you've done.")
    if form.artefact_ids:
        own = set(session.exec(select(Artefact.id).where(
            Artefact.id.in_(list(form.artefact_ids)), Artefact.owner_id == goal.owner_id)).all())
        if own != form.artefact_ids:
            errors["artefact_ids"] = _("You can only add your own evidence. Choose from the list.")
    if form.step_ids:
        ours = set(session.exec(select(GoalStep.id).where(
            GoalStep.id.in_(list(form.step_ids)), GoalStep.goal_id == goal.id)).all())
        if ours != form.step_ids:
            errors["step_ids"] = _("Choose steps from this goal's list.")
    return CheckInData(occurred_on=occurred_on, errors=errors)


def closing_problem(text: str) -> str | None:
    """Why a closing reflection can't be saved, or None."""
    if not text.strip():
        return _("Write a sentence or two about what you achieved and how you did it.")
    return _text_problem(text.strip(), limit=MAX_TEXT)
