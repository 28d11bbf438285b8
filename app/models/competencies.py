"""Competency frameworks: nested competencies with codes, and an ordered proficiency scale."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import utcnow


class Framework(SQLModel, table=True):
    __tablename__ = "frameworks"

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    archived: bool = Field(default=False)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)

    competencies: list["Competency"] = Relationship(
        back_populates="framework", cascade_delete=True,
        sa_relationship_kwargs={"order_by": "Competency.position"},
    )
    levels: list["ProficiencyLevel"] = Relationship(
        back_populates="framework", cascade_delete=True,
        sa_relationship_kwargs={"order_by": "ProficiencyLevel.position"},
    )


class Competency(SQLModel, table=True):
    """One competency; `parent_id` nests it under another of the same framework."""

    __tablename__ = "competencies"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="frameworks.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="competencies.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    position: int = Field(default=0)
    archived: bool = Field(default=False)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)

    framework: Framework = Relationship(back_populates="competencies")


class ProficiencyLevel(SQLModel, table=True):
    """A step of a framework's scale (position 1 is the first, e.g. Emerging)."""

    __tablename__ = "proficiency_levels"

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="frameworks.id", index=True, ondelete="CASCADE")
    position: int
    label: str = Field(max_length=60)
    descriptor: str = Field(default="", sa_type=sa.Text)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    framework: Framework = Relationship(back_populates="levels")


class ClassFramework(SQLModel, table=True):
    """A class uses one or more frameworks."""

    __tablename__ = "class_frameworks"

    class_id: int = Field(foreign_key="classes.id", primary_key=True, ondelete="CASCADE")
    framework_id: int = Field(foreign_key="frameworks.id", primary_key=True, ondelete="CASCADE")
