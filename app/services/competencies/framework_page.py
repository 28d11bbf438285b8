"""What the admin's framework page shows: its competencies nested with their usage, its scale and classes."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, func, select

from app.models import ClassFramework, Competency, CompetencyRating, Framework, ProficiencyLevel, SchoolClass
from app.services.competencies.competency_picker import nested
from app.services.competencies.frameworks import framework_competencies, levels_in_order
from app.services.competencies.framework_usage import Usage, subtree_ids, usage_by_competency


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
    competencies = framework_competencies(session, framework.id)
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
    competencies = framework_competencies(session, framework.id)
    banned = subtree_ids(competencies, exclude.id) if exclude else set()
    by_id = {c.id: c for c in competencies}
    return [(by_id[o.id], o.depth) for o in nested(competencies) if o.id not in banned]
