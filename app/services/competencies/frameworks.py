"""Competency frameworks for admins: frameworks, their nested competencies and their scale.

Nothing that holds a student's history is ever deleted from here: a competency with evidence (tagged
artefacts, reflections, goals or ratings) is archived instead, and a level with ratings stays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, func, select

from app.i18n import _, ngettext
from app.models import (
    ArtefactCompetency,
    ClassFramework,
    Competency,
    CompetencyRating,
    Framework,
    GoalCompetency,
    ProficiencyLevel,
    ReflectionCompetency,
    SchoolClass,
    User,
)
from app.models.competencies import CODE_MAX_LENGTH
from app.access import not_found
from app.services.competencies.bc_competencies import BC_LEVELS
from app.services.competencies.competency_picker import nested

Direction = Literal["up", "down"]
MAX_LEVELS = 10
# A new framework may start with the familiar four-level scale (the same words as the BC seed's).
DEFAULT_SCALE = BC_LEVELS


# --- loading, with access checks ---------------------------------------------------------------


def frameworks_of_school(*, session: Session, school_id: int) -> list[Framework]:
    """A school's frameworks, live ones first, by name."""
    statement = select(Framework).where(Framework.school_id == school_id)
    return list(session.exec(statement.order_by(Framework.archived, Framework.name, Framework.id)).all())


def framework_for_admin(*, session: Session, admin: User, framework_id: int) -> Framework:
    """A framework of the admin's own school, or 404 (another school's frameworks don't exist for them)."""
    framework = session.get(Framework, framework_id)
    if framework is None or framework.school_id != admin.school_id:
        raise not_found()
    return framework


def competency_of(*, session: Session, framework: Framework, competency_id: int) -> Competency:
    """A competency of `framework`, or 404."""
    competency = session.get(Competency, competency_id)
    if competency is None or competency.framework_id != framework.id:
        raise not_found()
    return competency


def _competencies(session: Session, framework_id: int) -> list[Competency]:
    return list(session.exec(select(Competency).where(Competency.framework_id == framework_id)).all())


def levels_in_order(session: Session, framework_id: int) -> list[ProficiencyLevel]:
    """A framework's levels, lowest first."""
    statement = select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)
    return list(session.exec(statement.order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all())


# --- what the admin's framework page shows ------------------------------------------------------


@dataclass
class Usage:
    """How much of a student's history points at a competency (or a whole subtree)."""

    artefacts: int = 0
    reflections: int = 0
    goals: int = 0
    ratings: int = 0

    @property
    def total(self) -> int:
        return self.artefacts + self.reflections + self.goals + self.ratings

    def describe(self) -> str:
        """The usage in words: "2 pieces of evidence, 1 rating"."""
        parts = []
        if self.artefacts:
            parts.append(ngettext("%(num)s piece of evidence", "%(num)s pieces of evidence", self.artefacts))
        if self.reflections:
            parts.append(ngettext("%(num)s reflection", "%(num)s reflections", self.reflections))
        if self.goals:
            parts.append(ngettext("%(num)s goal", "%(num)s goals", self.goals))
        if self.ratings:
            parts.append(ngettext("%(num)s rating", "%(num)s ratings", self.ratings))
        return ", ".join(parts)


@dataclass
class CompetencyRow:
    """One line of the admin's competency tree."""

    competency: Competency
    depth: int
    first: bool
    last: bool
    usage: Usage
    parent_code: str | None = None


@dataclass
class ClassChoice:
    school_class: SchoolClass
    checked: bool


@dataclass
class FrameworkDetail:
    framework: Framework
    rows: list[CompetencyRow] = field(default_factory=list)
    levels: list[ProficiencyLevel] = field(default_factory=list)
    level_ratings: dict[int, int] = field(default_factory=dict)
    classes: list[ClassChoice] = field(default_factory=list)


def usage_by_competency(*, session: Session, competency_ids: list[int]) -> dict[int, Usage]:
    """Usage of each competency (four grouped counts, whatever the number of competencies)."""
    found = {competency_id: Usage() for competency_id in competency_ids}
    if not competency_ids:
        return found
    sources = (
        ("artefacts", ArtefactCompetency.competency_id),
        ("reflections", ReflectionCompetency.competency_id),
        ("goals", GoalCompetency.competency_id),
        ("ratings", CompetencyRating.competency_id),
    )
    for name, column in sources:
        rows = session.exec(select(column, func.count()).where(column.in_(competency_ids)).group_by(column)).all()
        for competency_id, count in rows:
            setattr(found[competency_id], name, count)
    return found


def _ordered_rows(competencies: list[Competency], usage: dict[int, Usage]) -> list[CompetencyRow]:
    by_id = {c.id: c for c in competencies}
    siblings: dict[int | None, list[int]] = {}
    for option in nested(competencies):
        siblings.setdefault(by_id[option.id].parent_id, []).append(option.id)
    rows = []
    for option in nested(competencies):
        group = siblings[by_id[option.id].parent_id]
        parent = by_id.get(by_id[option.id].parent_id)
        rows.append(CompetencyRow(by_id[option.id], option.depth, group[0] == option.id, group[-1] == option.id,
                                  usage.get(option.id, Usage()), parent.code if parent else None))
    return rows


def framework_detail(*, session: Session, framework: Framework) -> FrameworkDetail:
    """Everything the framework page shows, in a fixed number of queries."""
    competencies = _competencies(session, framework.id)
    usage = usage_by_competency(session=session, competency_ids=[c.id for c in competencies])
    levels = levels_in_order(session, framework.id)
    level_ratings = dict(session.exec(
        select(CompetencyRating.level_id, func.count())
        .where(CompetencyRating.level_id.in_([level.id for level in levels]))
        .group_by(CompetencyRating.level_id)
    ).all()) if levels else {}
    used_by = set(session.exec(select(ClassFramework.class_id).where(ClassFramework.framework_id == framework.id)).all())
    classes = session.exec(
        select(SchoolClass)
        .where(SchoolClass.school_id == framework.school_id, SchoolClass.archived == False)  # noqa: E712
        .order_by(SchoolClass.year.desc(), SchoolClass.name)
    ).all()
    return FrameworkDetail(
        framework=framework,
        rows=_ordered_rows(competencies, usage),
        levels=levels,
        level_ratings=level_ratings,
        classes=[ClassChoice(c, c.id in used_by) for c in classes],
    )


def parent_choices(*, session: Session, framework: Framework, exclude: Competency | None = None) -> list[tuple[Competency, int]]:
    """Competencies that may be a parent (with their depth): never `exclude` itself or anything under it."""
    competencies = _competencies(session, framework.id)
    banned = _subtree_ids(competencies, exclude.id) if exclude else set()
    by_id = {c.id: c for c in competencies}
    return [(by_id[o.id], o.depth) for o in nested(competencies) if o.id not in banned]


def _subtree_ids(competencies: list[Competency], root_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for competency in competencies:
        children.setdefault(competency.parent_id, []).append(competency.id)
    found, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


# --- frameworks --------------------------------------------------------------------------------


@dataclass
class FrameworkInput:
    name: str = ""
    description: str = ""
    default_scale: bool = True
    errors: dict[str, str] = field(default_factory=dict)


def parse_framework(*, name: str, description: str, default_scale: bool = True) -> FrameworkInput:
    """Check a framework's name and description."""
    data = FrameworkInput(name=" ".join(name.split()), description=description.strip(), default_scale=default_scale)
    if not data.name:
        data.errors["name"] = _("Give the framework a name, such as “Core Competencies”.")
    elif len(data.name) > 200:
        data.errors["name"] = _("Keep the name under 200 characters (it has %(n)s).", n=len(data.name))
    if len(data.description) > 5000:
        data.errors["description"] = _("Keep the description under 5,000 characters.")
    return data


def _name_taken(session: Session, *, school_id: int, name: str, except_id: int | None = None) -> bool:
    statement = select(Framework.id).where(Framework.school_id == school_id, func.lower(Framework.name) == name.lower())
    if except_id is not None:
        statement = statement.where(Framework.id != except_id)
    return session.exec(statement).first() is not None


def create_framework(*, session: Session, school_id: int, data: FrameworkInput) -> Framework | None:
    """A new framework (with the usual four-level scale if asked); None, with data.errors set, when the name is taken."""
    if _name_taken(session, school_id=school_id, name=data.name):
        data.errors["name"] = _("Your school already has a framework called “%(name)s”.", name=data.name)
        return None
    framework = Framework(school_id=school_id, name=data.name, description=data.description)
    session.add(framework)
    session.flush()
    if data.default_scale:
        for position, (label, descriptor) in enumerate(DEFAULT_SCALE, start=1):
            session.add(ProficiencyLevel(framework_id=framework.id, position=position, label=label, descriptor=descriptor))
    return framework


def update_framework(*, session: Session, framework: Framework, data: FrameworkInput) -> bool:
    """Rename or redescribe a framework; False, with data.errors set, when the name is taken."""
    if _name_taken(session, school_id=framework.school_id, name=data.name, except_id=framework.id):
        data.errors["name"] = _("Your school already has a framework called “%(name)s”.", name=data.name)
        return False
    framework.name = data.name
    framework.description = data.description
    session.add(framework)
    return True


def set_framework_archived(*, session: Session, framework: Framework, archived: bool) -> None:
    """Hide a framework from students' pickers (or bring it back); its history stays."""
    framework.archived = archived
    session.add(framework)


def framework_deletion_problem(*, session: Session, framework: Framework) -> str | None:
    """Why a framework can't be deleted (students have used its competencies), or None."""
    usage = _total_usage(session, [c.id for c in _competencies(session, framework.id)])
    if not usage.total:
        return None
    return _("“%(name)s” can't be deleted because students have used it (%(usage)s). Archive it instead: "
             "that hides it from students and keeps their history.", name=framework.name, usage=usage.describe())


def delete_framework(*, session: Session, framework: Framework) -> str | None:
    """Delete a framework nobody has used; otherwise say why not (and change nothing)."""
    problem = framework_deletion_problem(session=session, framework=framework)
    if problem:
        return problem
    # The database removes its competencies, levels and class links (ON DELETE CASCADE).
    session.exec(sa.delete(Framework).where(Framework.id == framework.id))
    session.expunge(framework)
    return None


def set_framework_classes(*, session: Session, framework: Framework, class_ids: set[int]) -> None:
    """The classes of the school that use `framework` are exactly `class_ids` (others' classes are ignored)."""
    school_classes = set(session.exec(
        select(SchoolClass.id).where(SchoolClass.school_id == framework.school_id, SchoolClass.archived == False)  # noqa: E712
    ).all())
    wanted = class_ids & school_classes
    current = set(session.exec(select(ClassFramework.class_id).where(ClassFramework.framework_id == framework.id)).all())
    stale = (current - wanted) & school_classes
    if stale:
        session.exec(sa.delete(ClassFramework).where(
            ClassFramework.framework_id == framework.id, ClassFramework.class_id.in_(stale)))
    for class_id in sorted(wanted - current):
        session.add(ClassFramework(class_id=class_id, framework_id=framework.id))


# --- competencies ------------------------------------------------------------------------------


@dataclass
class CompetencyInput:
    code: str = ""
    name: str = ""
    description: str = ""
    parent_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_competency(
    *, session: Session, framework: Framework, code: str, name: str, description: str, parent_id: str,
    competency: Competency | None = None,
) -> CompetencyInput:
    """Check a competency form: a code unique in the framework, a name, and a parent of the same framework
    that isn't the competency itself or one of its own sub-competencies."""
    data = CompetencyInput(code="".join(code.split()), name=" ".join(name.split()), description=description.strip())
    errors = data.errors
    others = [c for c in _competencies(session, framework.id) if competency is None or c.id != competency.id]
    if not data.code:
        errors["competency_code"] = _("Give it a short code, such as COM.1.")
    elif len(data.code) > CODE_MAX_LENGTH:
        errors["competency_code"] = _("Keep the code to %(max)s characters or fewer (it has %(n)s).",
                                      max=CODE_MAX_LENGTH, n=len(data.code))
    elif any(c.code.lower() == data.code.lower() for c in others):
        errors["competency_code"] = _("%(code)s is already used in this framework; choose another code.", code=data.code)
    if not data.name:
        errors["competency_name"] = _("Give it a name, such as “Communicating”.")
    elif len(data.name) > 200:
        errors["competency_name"] = _("Keep the name under 200 characters (it has %(n)s).", n=len(data.name))
    if len(data.description) > 5000:
        errors["competency_description"] = _("Keep the description under 5,000 characters.")
    if parent_id.strip():
        allowed = {c.id for c in others}
        if competency is not None:
            allowed -= _subtree_ids(_competencies(session, framework.id), competency.id)
        if not parent_id.strip().isdigit() or int(parent_id) not in allowed:
            errors["parent_id"] = _("Choose a parent from the list (a competency can't sit inside itself).")
        else:
            data.parent_id = int(parent_id)
    return data


def _next_position(values: list[int]) -> int:
    return max(values, default=-1) + 1


def add_competency(*, session: Session, framework: Framework, data: CompetencyInput) -> Competency:
    """A new competency, last among its siblings."""
    same_parent = Competency.parent_id.is_(None) if data.parent_id is None else Competency.parent_id == data.parent_id
    siblings = session.exec(select(Competency.position).where(Competency.framework_id == framework.id, same_parent)).all()
    competency = Competency(framework_id=framework.id, parent_id=data.parent_id, code=data.code, name=data.name,
                            description=data.description, position=_next_position(list(siblings)))
    session.add(competency)
    session.flush()
    return competency


def update_competency(*, session: Session, competency: Competency, data: CompetencyInput) -> Competency:
    """Save edits; a competency moved under another parent goes last among its new siblings."""
    if data.parent_id != competency.parent_id:
        siblings = [c.position for c in _competencies(session, competency.framework_id)
                    if c.parent_id == data.parent_id and c.id != competency.id]
        competency.parent_id = data.parent_id
        competency.position = _next_position(siblings)
    competency.code = data.code
    competency.name = data.name
    competency.description = data.description
    session.add(competency)
    return competency


def swap_with_neighbour(items: list, item, direction: Direction, *, start: int) -> bool:
    """Renumber `items` (already in order) from `start`, then swap `item` with its neighbour; False at an end."""
    for position, each in enumerate(items, start=start):
        each.position = position
    index = next(i for i, each in enumerate(items) if each.id == item.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return False
    items[index].position, items[other].position = items[other].position, items[index].position
    return True


def move_competency(*, session: Session, competency: Competency, direction: Direction) -> bool:
    """Move a competency up or down among its siblings; False when it is already first (or last)."""
    siblings = sorted(
        (c for c in _competencies(session, competency.framework_id) if c.parent_id == competency.parent_id),
        key=lambda c: (c.position, c.code),
    )
    moved = swap_with_neighbour(siblings, competency, direction, start=0)
    session.add_all(siblings)
    return moved


def set_competency_archived(*, session: Session, competency: Competency, archived: bool) -> None:
    """Hide a competency (and what sits under it) from pickers, or bring it back; history stays."""
    competency.archived = archived
    session.add(competency)


def _total_usage(session: Session, competency_ids: list[int]) -> Usage:
    total = Usage()
    for usage in usage_by_competency(session=session, competency_ids=competency_ids).values():
        total.artefacts += usage.artefacts
        total.reflections += usage.reflections
        total.goals += usage.goals
        total.ratings += usage.ratings
    return total


@dataclass
class DeletionCheck:
    """What deleting a competency would take with it, and why it may be refused."""

    competency: Competency
    descendants: int
    usage: Usage

    @property
    def problem(self) -> str | None:
        if not self.usage.total:
            return None
        return _("%(code)s can't be deleted because students have used it (%(usage)s). Archive it instead: "
                 "it disappears from pickers and their history stays.",
                 code=self.competency.code, usage=self.usage.describe())


def check_competency_deletion(*, session: Session, competency: Competency) -> DeletionCheck:
    """Usage of the competency and everything under it (deleting it deletes them too)."""
    subtree = _subtree_ids(_competencies(session, competency.framework_id), competency.id)
    return DeletionCheck(competency, len(subtree) - 1, _total_usage(session, sorted(subtree)))


def delete_competency(*, session: Session, competency: Competency) -> str | None:
    """Delete a competency (and its sub-competencies) nobody has used; otherwise say why not, changing nothing."""
    problem = check_competency_deletion(session=session, competency=competency).problem
    if problem:
        return problem
    # Sub-competencies go too: the database cascades parent_id (ON DELETE CASCADE).
    session.exec(sa.delete(Competency).where(Competency.id == competency.id))
    session.expunge(competency)
    return None
