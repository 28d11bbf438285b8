"""All table models, imported here so SQLModel.metadata (and Alembic) sees every table."""

from app.models.auth import LoginFailure, UserSession
from app.models.people import ClassRole, Enrollment, GuardianLink, Role, School, SchoolClass, User

__all__ = [
    "ClassRole",
    "Enrollment",
    "GuardianLink",
    "LoginFailure",
    "Role",
    "School",
    "SchoolClass",
    "User",
    "UserSession",
]
