"""How much students have used competencies (tagged artefacts, reflections, goals, ratings), and which sit under one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from app.i18n import ngettext
from app.models import ArtefactCompetency, Competency, CompetencyRating, GoalCompetency, ReflectionCompetency


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


def total_usage(session: Session, competency_ids: list[int]) -> Usage:
    """The usage of all these competencies together."""
    total = Usage()
    for usage in usage_by_competency(session=session, competency_ids=competency_ids).values():
        total.artefacts += usage.artefacts
        total.reflections += usage.reflections
        total.goals += usage.goals
        total.ratings += usage.ratings
    return total


def subtree_ids(competencies: list[Competency], root_id: int) -> set[int]:
    """The ids of `root_id` and everything under it among `competencies`."""
    children: dict[int | None, list[int]] = {}
    for competency in competencies:
        children.setdefault(competency.parent_id, []).append(competency.id)
    found, stack = set(), [root_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found
