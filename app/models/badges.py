"""Open Badges 3.0 credentials a school issues, and the Ed25519 keys it signs them with."""

from datetime import datetime
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow


def new_public_id() -> str:
    """A credential's public id: random, so its URL says nothing about how many there are."""
    return str(uuid4())


class IssuerKey(SQLModel, table=True):
    """A school's signing key. Never deleted: a retired key stays published so what it signed still verifies."""

    __tablename__ = "issuer_keys"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True, ondelete="CASCADE")
    # Multikey "z6Mk…": the key's public half, and (after "#") its fragment in the issuer's document.
    public_key_multibase: str = Field(max_length=60, unique=True)
    # The 32-byte private seed sealed with AES-GCM under a key derived from the secret key (app.services.badges.keys).
    sealed_private_key: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = Field(default=None)


class Credential(SQLModel, table=True):
    """One issued OpenBadgeCredential; `document` is the signed JSON exactly as issued (never rewritten)."""

    __tablename__ = "credentials"
    # No two credentials of a school ever share a status bit.
    __table_args__ = (sa.Index("ux_credentials_status_bit", "school_id", "status_list", "status_index", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, max_length=36, unique=True)
    school_id: int = Field(foreign_key="schools.id", index=True, ondelete="CASCADE")
    student_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    issued_by_id: int | None = Field(default=None, foreign_key="users.id", index=True, ondelete="SET NULL")
    # What it was awarded for: a teacher rating at a level of a competency, or an achieved goal.
    rating_id: int | None = Field(default=None, foreign_key="competency_ratings.id", index=True, ondelete="SET NULL")
    goal_id: int | None = Field(default=None, foreign_key="goals.id", index=True, ondelete="SET NULL")
    competency_id: int | None = Field(default=None, foreign_key="competencies.id", index=True, ondelete="SET NULL")
    level_id: int | None = Field(default=None, foreign_key="proficiency_levels.id", index=True, ondelete="SET NULL")
    achievement_name: str = Field(max_length=300)
    issued_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None)
    revoked_reason: str = Field(default="", sa_type=sa.Text)
    revoked_by_id: int | None = Field(default=None, foreign_key="users.id", index=True, ondelete="SET NULL")
    document: str = Field(default="", sa_type=sa.Text)
    # Its revocation bit: which of the school's status lists, and a random place in it (app.services.badges.status),
    # so the published index says nothing about how many credentials the school has issued. Set as it is signed.
    status_list: int | None = Field(default=None)
    status_index: int | None = Field(default=None)
