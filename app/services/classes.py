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
