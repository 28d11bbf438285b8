"""Families: invitations that link a guardian to a student, and the digests sent to them."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class DigestFrequency(str, Enum):
    weekly = "weekly"
    daily = "daily"
    off = "off"


class FamilyInvitation(SQLModel, table=True):
    """A single-use code a teacher or admin gives a family so a guardian can link to one student.

    Only the code's SHA-256 is kept: the code is shown once, on the printable invitation."""

    __tablename__ = "family_invitations"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True, ondelete="CASCADE")
    student_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64, unique=True)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = Field(default=None)
    used_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    revoked_at: datetime | None = Field(default=None)


class DigestLog(SQLModel, table=True):
    """One digest sent to one guardian, covering [period_start, period_end): the next one starts where this ended."""

    __tablename__ = "digest_logs"
    __table_args__ = (sa.UniqueConstraint("guardian_id", "period_end"),)

    id: int | None = Field(default=None, primary_key=True)
    guardian_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    period_start: datetime
    period_end: datetime
    item_count: int = Field(default=0)
    sent_at: datetime = Field(default_factory=utcnow)
