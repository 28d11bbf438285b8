"""Creating, renaming, archiving and deleting frameworks, and the classes that use them. A framework students
have used is never deleted (archive it instead)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, func, select

from app.i18n import _
from app.models import ClassFramework, Framework, ProficiencyLevel, SchoolClass
from app.services.competencies.frameworks import DEFAULT_SCALE, framework_competencies
from app.services.competencies.framework_usage import total_usage


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
    usage = total_usage(session, [c.id for c in framework_competencies(session, framework.id)])
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
