"""Adding, editing, moving, archiving and deleting a framework's competencies. A competency with evidence is never
deleted (archive it instead: it leaves the pickers and its history stays)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import Competency, Framework
from app.models.competencies import CODE_MAX_LENGTH
from app.services.competencies.frameworks import framework_competencies
from app.services.competencies.framework_usage import Usage, subtree_ids, total_usage


Direction = Literal["up", "down"]


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
    others = [c for c in framework_competencies(session, framework.id) if competency is None or c.id != competency.id]
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
            allowed -= subtree_ids(framework_competencies(session, framework.id), competency.id)
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
        siblings = [c.position for c in framework_competencies(session, competency.framework_id)
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
        (c for c in framework_competencies(session, competency.framework_id) if c.parent_id == competency.parent_id),
        key=lambda c: (c.position, c.code),
    )
    moved = swap_with_neighbour(siblings, competency, direction, start=0)
    session.add_all(siblings)
    return moved


def set_competency_archived(*, session: Session, competency: Competency, archived: bool) -> None:
    """Hide a competency (and what sits under it) from pickers, or bring it back; history stays."""
    competency.archived = archived
    session.add(competency)


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
    subtree = subtree_ids(framework_competencies(session, competency.framework_id), competency.id)
    return DeletionCheck(competency, len(subtree) - 1, total_usage(session, sorted(subtree)))


def delete_competency(*, session: Session, competency: Competency) -> str | None:
    """Delete a competency (and its sub-competencies) nobody has used; otherwise say why not, changing nothing."""
    problem = check_competency_deletion(session=session, competency=competency).problem
    if problem:
        return problem
    # Sub-competencies go too: the database cascades parent_id (ON DELETE CASCADE).
    session.exec(sa.delete(Competency).where(Competency.id == competency.id))
    session.expunge(competency)
    return None
