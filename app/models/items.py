"""Items: one row per artefact, reflection or goal, the thing everything else points at.

An artefact, reflection or goal shares its primary key with its `items` row (artefacts.id is items.id), so the
id is unique across every kind of item and is never reused (AUTOINCREMENT on SQLite, a sequence on
PostgreSQL). Comments, feedback requests, approvals, showcase entries and notifications reference `items.id`
with a real foreign key and ON DELETE CASCADE: deleting the item row deletes the artefact (or reflection, or
goal) and everything that points at it, in the database, on every write path.

The row also carries what the timeline shows and what search looks through (SQLite: an FTS5 table over it;
PostgreSQL: the generated column search_document with a GIN index; both made in migrations, both ignore accents).
app.models.item_rows allocates the row when an artefact, reflection or goal is first flushed;
app.services.portfolio.timeline keeps its text in step.
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


class Item(SQLModel, table=True):
    __tablename__ = "items"
    __table_args__ = (
        sa.Index("ix_items_owner_when", "owner_id", "occurred_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: ItemType = Field(sa_column=_enum_column(ItemType, nullable=False))
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    # file/note/link for artefacts, draft/published for reflections, the status for goals
    kind: str = Field(max_length=20)
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False))
    occurred_on: date
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
