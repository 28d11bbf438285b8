"""The competencies a student can tag work with: their classes' frameworks (or the school's), nested."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.access.relationships import active_classes_of_student
from app.models import ClassFramework, Competency, Framework, User


@dataclass
class CompetencyOption:
    id: int
    code: str
    name: str
    depth: int


@dataclass
class FrameworkOptions:
    framework: Framework
    options: list[CompetencyOption] = field(default_factory=list)


def frameworks_for_student(*, session: Session, student: User) -> list[Framework]:
    """Frameworks of the student's active classes; if their classes name none, all of the school's."""
    in_classes = select(ClassFramework.framework_id).where(
        ClassFramework.class_id.in_(active_classes_of_student(student.id)))
    statement = select(Framework).where(Framework.school_id == student.school_id, Framework.archived == False)  # noqa: E712
    chosen = session.exec(statement.where(Framework.id.in_(in_classes)).order_by(Framework.name)).all()
    return list(chosen) or list(session.exec(statement.order_by(Framework.name)).all())


def nested(competencies: list[Competency]) -> list[CompetencyOption]:
    """Competencies depth-first (parents before children, each level by position)."""
    children: dict[int | None, list[Competency]] = {}
    for competency in competencies:
        children.setdefault(competency.parent_id, []).append(competency)
    ordered: list[CompetencyOption] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for competency in sorted(children.get(parent_id, []), key=lambda c: (c.position, c.code)):
            ordered.append(CompetencyOption(competency.id, competency.code, competency.name, depth))
            walk(competency.id, depth + 1)

    walk(None, 0)
    return ordered


def available_competencies(*, session: Session, student: User) -> list[FrameworkOptions]:
    """Picker groups for `student`: each framework with its live competencies, nested (two queries)."""
    frameworks = frameworks_for_student(session=session, student=student)
    if not frameworks:
        return []
    rows = session.exec(
        select(Competency).where(Competency.framework_id.in_([f.id for f in frameworks]), Competency.archived == False)  # noqa: E712
    ).all()
    by_framework: dict[int, list[Competency]] = {}
    for competency in rows:
        by_framework.setdefault(competency.framework_id, []).append(competency)
    return [FrameworkOptions(f, nested(by_framework.get(f.id, []))) for f in frameworks]


def allowed_ids(groups: list[FrameworkOptions]) -> set[int]:
    """Every competency id a picker offered (anything else in a form is ignored)."""
    return {option.id for group in groups for option in group.options}
