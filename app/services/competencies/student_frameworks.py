"""The frameworks a student is assessed against, whole: their live competencies (nested, with descriptions) and
scales, as the Competencies pages show them (for the JSON API)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.models import Competency, Framework, ProficiencyLevel, User
from app.services.competencies.competency_picker import frameworks_for_student, nested


@dataclass
class FrameworkView:
    framework: Framework
    levels: list[ProficiencyLevel] = field(default_factory=list)
    competencies: list[tuple[Competency, int]] = field(default_factory=list)  # (competency, depth), nested order


def frameworks_of_student(*, session: Session, student: User) -> list[FrameworkView]:
    """The student's frameworks (their classes', else the school's), live competencies and scales (three queries)."""
    frameworks = frameworks_for_student(session=session, student=student)
    if not frameworks:
        return []
    ids = [f.id for f in frameworks]
    competencies = session.exec(select(Competency).where(Competency.framework_id.in_(ids),
                                                         Competency.archived == False)).all()  # noqa: E712
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(ids))
                          .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all()
    views = {f.id: FrameworkView(f) for f in frameworks}
    for level in levels:
        views[level.framework_id].levels.append(level)
    by_id = {c.id: c for c in competencies}
    grouped: dict[int, list[Competency]] = {}
    for competency in competencies:
        grouped.setdefault(competency.framework_id, []).append(competency)
    for framework_id, members in grouped.items():
        views[framework_id].competencies = [(by_id[option.id], option.depth) for option in nested(members)]
    return list(views.values())

