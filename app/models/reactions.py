"""Quick reactions: a guardian's heart, clap, star or wow on one of their child's items, one of each kind per person."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class ReactionKind(str, Enum):
    heart = "heart"
    clap = "clap"
    star = "star"
    wow = "wow"


class ItemReaction(SQLModel, table=True):
    __tablename__ = "item_reactions"
    # Pressing the same reaction twice takes it back: at most one of each kind per person and item.
    __table_args__ = (sa.UniqueConstraint("item_id", "user_id", "kind", name="uq_item_reactions_item_user_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="items.id", ondelete="CASCADE", index=True)
    user_id: int = Field(foreign_key="users.id", ondelete="CASCADE", index=True)
    kind: ReactionKind = Field(sa_column=_enum_column(ReactionKind, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
