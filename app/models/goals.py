"""Goals: success criteria, steps, check-ins, and the status a goal moves through."""

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.evidence import Audience
from app.models.people import _enum_column


class GoalStatus(str, Enum):
    active = "active"
    achieved = "achieved"
    paused = "paused"
    dropped = "dropped"


class Goal(SQLModel, table=True):
    __tablename__ = "goals"

    # The same id as its row in `items` (allocated there; see app.models.item_rows): deleting the item deletes this.
    id: int | None = Field(default=None, primary_key=True, foreign_key="items.id", ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    why: str = Field(default="", sa_type=sa.Text)
    success_criteria: str = Field(default="", sa_type=sa.Text)
    target_date: date | None = Field(default=None)
    status: GoalStatus = Field(sa_column=_enum_column(GoalStatus, nullable=False, default=GoalStatus.active))
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False, default=Audience.private))
    # Achieving a goal asks for a closing reflection; it is an ordinary reflection linked here.
    closing_reflection_id: int | None = Field(default=None, foreign_key="reflections.id", ondelete="SET NULL")
    achieved_at: datetime | None = Field(default=None)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GoalStep(SQLModel, table=True):
    __tablename__ = "goal_steps"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", index=True, ondelete="CASCADE")
    text: str = Field(max_length=300)
    position: int = Field(default=0)
    done: bool = Field(default=False)
    done_at: datetime | None = Field(default=None)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class GoalTag(SQLModel, table=True):
    """A goal's tags: the owner's own tags, shared with their artefacts and reflections."""

    __tablename__ = "goal_tags"

    goal_id: int = Field(foreign_key="goals.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, index=True, ondelete="CASCADE")


class GoalCompetency(SQLModel, table=True):
    __tablename__ = "goal_competencies"

    goal_id: int = Field(foreign_key="goals.id", primary_key=True, ondelete="CASCADE")
    competency_id: int = Field(foreign_key="competencies.id", primary_key=True, index=True, ondelete="CASCADE")


class CheckIn(SQLModel, table=True):
    """A dated progress note on a goal."""

    __tablename__ = "goal_checkins"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goals.id", index=True, ondelete="CASCADE")
    occurred_on: date
    note: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class CheckInArtefact(SQLModel, table=True):
    __tablename__ = "checkin_artefacts"

    checkin_id: int = Field(foreign_key="goal_checkins.id", primary_key=True, ondelete="CASCADE")
    artefact_id: int = Field(foreign_key="artefacts.id", primary_key=True, index=True, ondelete="CASCADE")


class CheckInStep(SQLModel, table=True):
    """A step ticked off in a check-in (the history of when each step was done)."""

    __tablename__ = "checkin_steps"

    checkin_id: int = Field(foreign_key="goal_checkins.id", primary_key=True, ondelete="CASCADE")
    step_id: int = Field(foreign_key="goal_steps.id", primary_key=True, index=True, ondelete="CASCADE")
