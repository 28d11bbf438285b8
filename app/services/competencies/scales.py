"""A framework's proficiency scale: its levels, their order, and deleting only what no rating uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from app.i18n import _, ngettext
from app.models import CompetencyRating, Framework, ProficiencyLevel
from app.access import not_found
from app.services.competencies.competency_editing import Direction, swap_with_neighbour
from app.services.competencies.frameworks import MAX_LEVELS, levels_in_order


def level_of(*, session: Session, framework: Framework, level_id: int) -> ProficiencyLevel:
    """A level of `framework`'s scale, or 404."""
    level = session.get(ProficiencyLevel, level_id)
    if level is None or level.framework_id != framework.id:
        raise not_found()
    return level


@dataclass
class LevelInput:
    label: str = ""
    descriptor: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def parse_level(
    *, session: Session, framework: Framework, label: str, descriptor: str, level: ProficiencyLevel | None = None
) -> LevelInput:
    """Check a level: a label unique in the scale, and a descriptor of reasonable length."""
    data = LevelInput(label=" ".join(label.split()), descriptor=descriptor.strip())
    others = [each for each in levels_in_order(session, framework.id) if level is None or each.id != level.id]
    if not data.label:
        data.errors["level_label"] = _("Give the level a label, such as “Developing”.")
    elif len(data.label) > 60:
        data.errors["level_label"] = _("Keep the label to 60 characters or fewer (it has %(n)s).", n=len(data.label))
    elif any(each.label.lower() == data.label.lower() for each in others):
        data.errors["level_label"] = _("The scale already has a level called “%(label)s”.", label=data.label)
    if len(data.descriptor) > 2000:
        data.errors["level_descriptor"] = _("Keep the descriptor under 2,000 characters.")
    if level is None and len(others) >= MAX_LEVELS:
        data.errors["level_label"] = _("A scale can have at most %(max)s levels.", max=MAX_LEVELS)
    return data


def add_level(*, session: Session, framework: Framework, data: LevelInput) -> ProficiencyLevel:
    """A new level at the top of the scale."""
    positions = [level.position for level in levels_in_order(session, framework.id)]
    level = ProficiencyLevel(framework_id=framework.id, position=max(positions, default=0) + 1,
                             label=data.label, descriptor=data.descriptor)
    session.add(level)
    session.flush()
    return level


def update_level(*, session: Session, level: ProficiencyLevel, data: LevelInput) -> ProficiencyLevel:
    """Rename a level or change its descriptor (ratings that use it follow)."""
    level.label = data.label
    level.descriptor = data.descriptor
    session.add(level)
    return level


def move_level(*, session: Session, level: ProficiencyLevel, direction: Direction) -> bool:
    """Move a level one step down ("up": towards the first) or up the scale; False at an end."""
    levels = levels_in_order(session, level.framework_id)
    moved = swap_with_neighbour(levels, level, direction, start=1)
    session.add_all(levels)
    return moved


def level_rating_count(*, session: Session, level: ProficiencyLevel) -> int:
    return session.exec(select(func.count()).where(CompetencyRating.level_id == level.id)).one()


def level_deletion_problem(*, session: Session, level: ProficiencyLevel) -> str | None:
    """Why a level can't be deleted (ratings use it), or None."""
    count = level_rating_count(session=session, level=level)
    if not count:
        return None
    return ngettext(
        "“%(label)s” can't be deleted: %(num)s rating uses it. Rename it or change its descriptor instead.",
        "“%(label)s” can't be deleted: %(num)s ratings use it. Rename it or change its descriptor instead.",
        count, label=level.label,
    )


def delete_level(*, session: Session, level: ProficiencyLevel) -> str | None:
    """Delete a level no rating uses, closing the gap in the scale; otherwise say why not."""
    problem = level_deletion_problem(session=session, level=level)
    if problem:
        return problem
    remaining = [each for each in levels_in_order(session, level.framework_id) if each.id != level.id]
    session.delete(level)
    session.flush()
    for position, each in enumerate(remaining, start=1):
        each.position = position
    session.add_all(remaining)
    return None
