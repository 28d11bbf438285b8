"""One row per portfolio item: the student's timeline and the text that search looks through.

Kept by app.services.timeline whenever an artefact, reflection or goal is saved or deleted, so the
timeline is one indexed query whatever the mix of item types, and search has one table to index
(SQLite: an FTS5 table over it, made in the migration; PostgreSQL: to_tsvector at query time).
"""

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.evidence import Audience
from app.models.people import _enum_column


class ItemType(str, Enum):
    artefact = "artefact"
    reflection = "reflection"
    goal = "goal"


class TimelineEntry(SQLModel, table=True):
    __tablename__ = "timeline_entries"
    __table_args__ = (
        sa.UniqueConstraint("item_type", "item_id"),
        sa.Index("ix_timeline_owner_when", "owner_id", "occurred_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    item_type: ItemType = Field(sa_column=_enum_column(ItemType, nullable=False))
    item_id: int
    # file/note/link for artefacts, draft/published for reflections, the status for goals
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False))
    occurred_on: date
    updated_at: datetime = Field(default_factory=utcnow)
