"""Ratings on a competency: a student's self-assessment (and, later, a teacher's), kept over time."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class RatingSource(str, Enum):
    self = "self"
    teacher = "teacher"


class CompetencyRating(SQLModel, table=True):
    """One rating; never updated in place, so the history is the table."""

    __tablename__ = "competency_ratings"
    __table_args__ = (sa.Index("ix_competency_ratings_student_competency", "student_id", "competency_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    student_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    competency_id: int = Field(foreign_key="competencies.id", index=True, ondelete="CASCADE")
    level_id: int = Field(foreign_key="proficiency_levels.id", ondelete="CASCADE")
    rated_by_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    source: RatingSource = Field(sa_column=_enum_column(RatingSource, nullable=False))
    reason: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class RatingArtefact(SQLModel, table=True):
    """Evidence a rating points to."""

    __tablename__ = "rating_artefacts"

    rating_id: int = Field(foreign_key="competency_ratings.id", primary_key=True, ondelete="CASCADE")
    artefact_id: int = Field(foreign_key="artefacts.id", primary_key=True, index=True, ondelete="CASCADE")
