"""Competency frameworks: nested competencies with codes, and an ordered proficiency scale."""

from datetime import datetime
from uuid import uuid4

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import utcnow


CODE_MAX_LENGTH = 60  # long enough for published codes such as CCSS.Math.Content.6.RP.A.3a
CASE_IDENTIFIER_MAX_LENGTH = 100


def new_case_identifier() -> str:
    """A CASE identifier (a UUID) for a framework or competency made in Folio."""
    return str(uuid4())


class Framework(SQLModel, table=True):
    """`case_identifier` is the framework's CASE CFDocument identifier: kept from an imported file (so importing it
    again updates this framework) or made here, so an exported framework keeps one identity."""

    __tablename__ = "frameworks"
    __table_args__ = (sa.UniqueConstraint("school_id", "case_identifier"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True)
    case_identifier: str = Field(default_factory=new_case_identifier, max_length=CASE_IDENTIFIER_MAX_LENGTH)
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
    """One competency; `parent_id` nests it under another of the same framework; `case_identifier` is its CASE
    CFItem identifier (from an imported file, or made here)."""

    __tablename__ = "competencies"
    __table_args__ = (sa.UniqueConstraint("framework_id", "code"), sa.UniqueConstraint("framework_id", "case_identifier"))

    id: int | None = Field(default=None, primary_key=True)
    framework_id: int = Field(foreign_key="frameworks.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="competencies.id", index=True, ondelete="CASCADE")
    case_identifier: str = Field(default_factory=new_case_identifier, max_length=CASE_IDENTIFIER_MAX_LENGTH)
    code: str = Field(max_length=CODE_MAX_LENGTH)
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


LOCALE_MAX_LENGTH = 20


class CompetencyTranslation(SQLModel, table=True):
    """A competency's name and description in another language (the competency's own are the original); read
    by students, families and teachers whose language it is (app.services.competencies.translations)."""

    __tablename__ = "competency_translations"
    __table_args__ = (sa.UniqueConstraint("competency_id", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    competency_id: int = Field(foreign_key="competencies.id", index=True, ondelete="CASCADE")
    locale: str = Field(max_length=LOCALE_MAX_LENGTH)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)


class ProficiencyLevelTranslation(SQLModel, table=True):
    """A scale level's label and descriptor in another language."""

    __tablename__ = "proficiency_level_translations"
    __table_args__ = (sa.UniqueConstraint("level_id", "locale"),)

    id: int | None = Field(default=None, primary_key=True)
    level_id: int = Field(foreign_key="proficiency_levels.id", index=True, ondelete="CASCADE")
    locale: str = Field(max_length=LOCALE_MAX_LENGTH)
    label: str = Field(max_length=60)
    descriptor: str = Field(default="", sa_type=sa.Text)


class ClassFramework(SQLModel, table=True):
    """A class uses one or more frameworks."""

    __tablename__ = "class_frameworks"

    class_id: int = Field(foreign_key="classes.id", primary_key=True, ondelete="CASCADE")
    framework_id: int = Field(foreign_key="frameworks.id", primary_key=True, ondelete="CASCADE")
