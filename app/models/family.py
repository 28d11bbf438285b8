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


class DigestState(str, Enum):
    claimed = "claimed"  # a run is sending it; older than the claim timeout, the sender died and it is sent again
    sent = "sent"
    empty = "empty"  # nothing new in the period: recorded so the next starts after it, no email


class DigestLog(SQLModel, table=True):
    """One guardian's digest for [period_start, period_end): claimed before it is sent, then marked sent.

    Periods are contiguous (the next starts where this one ended), and the unique (guardian, period_start) is the
    claim: of two runs computing the same next period, one insert wins and the other sends nothing."""

    __tablename__ = "digest_logs"
    __table_args__ = (
        sa.UniqueConstraint("guardian_id", "period_end"),
        sa.UniqueConstraint("guardian_id", "period_start", name="uq_digest_logs_guardian_start"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guardian_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    period_start: datetime
    period_end: datetime
    item_count: int = Field(default=0)
    state: str = Field(default=DigestState.claimed.value, max_length=10, sa_column_kwargs={"server_default": "sent"})
    claimed_at: datetime | None = Field(default=None)
    claimed_by: str | None = Field(default=None, max_length=32)  # the run that holds the claim
    sent_at: datetime | None = Field(default=None)
