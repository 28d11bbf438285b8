"""Competency frameworks for admins, loaded with their access checks: a school's frameworks, one framework, its
competencies and its scale.

Nothing that holds a student's history is ever deleted by the editing modules (framework_editing,
competency_editing): a competency with evidence is archived instead, and a level with ratings stays.
"""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Competency, Framework, ProficiencyLevel, User
from app.access import not_found
from app.services.competencies.bc_competencies import BC_LEVELS


MAX_LEVELS = 10
# A new framework may start with the familiar four-level scale (the same words as the BC seed's).
DEFAULT_SCALE = BC_LEVELS


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


def framework_competencies(session: Session, framework_id: int) -> list[Competency]:
    """All of a framework's competencies, archived ones too, in no order."""
    return list(session.exec(select(Competency).where(Competency.framework_id == framework_id)).all())


def levels_in_order(session: Session, framework_id: int) -> list[ProficiencyLevel]:
    """A framework's levels, lowest first."""
    statement = select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)
    return list(session.exec(statement.order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all())
