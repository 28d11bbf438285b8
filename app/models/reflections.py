"""Reflections: journal entries linked to evidence, goals and competencies."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.evidence import Audience
from app.models.people import _enum_column


class ReflectionStatus(str, Enum):
    draft = "draft"
    published = "published"


class Reflection(SQLModel, table=True):
    __tablename__ = "reflections"

    # The same id as its row in `items` (allocated there; see app.models.item_rows): deleting the item deletes this.
    id: int | None = Field(default=None, primary_key=True, foreign_key="items.id", ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    body: str = Field(default="", sa_type=sa.Text)
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False, default=Audience.private))
    status: ReflectionStatus = Field(sa_column=_enum_column(ReflectionStatus, nullable=False, default=ReflectionStatus.draft))
    # A spoken reflection: the recording is an audio artefact of the same student, part of the reflection (heard and
    # listed only with it: app.access.rules.not_an_attached_recording looks it up by this column, hence the index).
    audio_artefact_id: int | None = Field(default=None, foreign_key="artefacts.id", ondelete="SET NULL", index=True)
    # Optimistic locking: a save must name the version it edited (two tabs never overwrite each other).
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None)


class ReflectionArtefact(SQLModel, table=True):
    __tablename__ = "reflection_artefacts"

    reflection_id: int = Field(foreign_key="reflections.id", primary_key=True, ondelete="CASCADE")
    artefact_id: int = Field(foreign_key="artefacts.id", primary_key=True, index=True, ondelete="CASCADE")


class ReflectionGoal(SQLModel, table=True):
    __tablename__ = "reflection_goals"

    reflection_id: int = Field(foreign_key="reflections.id", primary_key=True, ondelete="CASCADE")
    goal_id: int = Field(foreign_key="goals.id", primary_key=True, index=True, ondelete="CASCADE")


class ReflectionTag(SQLModel, table=True):
    """A reflection's tags: the owner's own tags, shared with their artefacts and goals."""

    __tablename__ = "reflection_tags"

    reflection_id: int = Field(foreign_key="reflections.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, index=True, ondelete="CASCADE")


class ReflectionCompetency(SQLModel, table=True):
    __tablename__ = "reflection_competencies"

    reflection_id: int = Field(foreign_key="reflections.id", primary_key=True, ondelete="CASCADE")
    competency_id: int = Field(foreign_key="competencies.id", primary_key=True, index=True, ondelete="CASCADE")
