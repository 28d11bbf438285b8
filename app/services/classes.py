"""Classes: join codes and membership."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from app.models import ClassRole, Enrollment, SchoolClass, User

# Read aloud or copied from a board: no look-alike characters.
_JOIN_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_join_code(*, session: Session, length: int = 6) -> str:
    """A join code no other class uses."""
    while True:
        code = "".join(secrets.choice(_JOIN_ALPHABET) for _ in range(length))
        if session.exec(select(SchoolClass.id).where(SchoolClass.join_code == code)).first() is None:
            return code


def enroll(*, session: Session, school_class: SchoolClass, user: User, role: ClassRole) -> Enrollment:
    """Put `user` in `school_class` as a student or teacher."""
    enrollment = Enrollment(class_id=school_class.id, user_id=user.id, role=role)
    session.add(enrollment)
    return enrollment


MAX_PROMPTS = 8
MAX_PROMPT_LENGTH = 200


def class_for_staff(*, session: Session, user: User, class_id: int) -> SchoolClass:
    """A class its teacher (or the school's admin) may manage, or 404."""
    from app.models import Role
    from app.services.access import not_found

    school_class = session.get(SchoolClass, class_id)
    if school_class is None or school_class.school_id != user.school_id:
        raise not_found()
    if user.role is Role.admin:
        return school_class
    teaches = session.exec(select(Enrollment.id).where(
        Enrollment.class_id == class_id, Enrollment.user_id == user.id, Enrollment.role == ClassRole.teacher)).first()
    if user.role is not Role.teacher or teaches is None:
        raise not_found()
    return school_class


def parse_prompts(raw: str) -> tuple[list[str], str | None]:
    """Prompts, one per line (blank lines dropped), or a message saying what to fix."""
    from app.i18n import _

    prompts = [" ".join(line.split()) for line in raw.splitlines() if line.strip()]
    if len(prompts) > MAX_PROMPTS:
        return prompts, _("Use at most %(max)s prompts (there are %(n)s).", max=MAX_PROMPTS, n=len(prompts))
    too_long = [p for p in prompts if len(p) > MAX_PROMPT_LENGTH]
    if too_long:
        return prompts, _("Keep each prompt under %(max)s characters.", max=MAX_PROMPT_LENGTH)
    return prompts, None


def set_prompts(*, session: Session, school_class: SchoolClass, prompts: list[str]) -> None:
    """Save the class's reflection prompts; none means Folio's defaults."""
    school_class.reflection_prompts = "\n".join(prompts) or None
    session.add(school_class)
