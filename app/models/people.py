"""People and places: schools, users, classes, enrollments and guardian links."""

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from app.models.base import utcnow


class Role(str, Enum):
    student = "student"
    teacher = "teacher"
    guardian = "guardian"
    admin = "admin"


class ClassRole(str, Enum):
    student = "student"
    teacher = "teacher"


class EnrolledVia(str, Enum):
    """How someone came to be in a class: it decides how far the class's teachers are trusted with the account."""

    admin = "admin"  # an admin put them there
    roster = "roster"  # their account was made in this class, from a pasted or uploaded list
    teacher_created = "teacher_created"  # their account was made in this class, with the one-student form
    join_code = "join_code"  # the student typed the class's join code themself
    class_creator = "class_creator"  # the teacher who created the class
    legacy = "legacy"  # made before Folio recorded how; see the i10_enrolment_trust migration


def _enum_column(enum: type[Enum], **kwargs) -> sa.Column:
    # Stored as short strings (not native PG enums) so adding a value is a plain migration.
    return sa.Column(
        sa.Enum(enum, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        **kwargs,
    )


class School(SQLModel, table=True):
    __tablename__ = "schools"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class UserBase(SQLModel):
    display_name: str = Field(max_length=200)
    username: str = Field(max_length=80)
    email: str | None = Field(default=None, max_length=254)
    locale: str | None = Field(default=None, max_length=16)


class User(UserBase, table=True):
    __tablename__ = "users"
    # A OneRoster import finds the account again by its sourcedId (app.services.roster_import); unique per school.
    __table_args__ = (sa.UniqueConstraint("school_id", "sourced_id", name="uq_users_school_sourced_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True)
    role: Role = Field(sa_column=_enum_column(Role, nullable=False))
    # Usernames and emails are stored lower-cased, so uniqueness is case-insensitive.
    username: str = Field(max_length=80, unique=True)
    email: str | None = Field(default=None, max_length=254, unique=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    must_change_password: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = Field(default=None)
    # When an admin switched the account off; the school's retention period (FOLIO_RETENTION_DAYS) counts from here.
    deactivated_at: datetime | None = Field(default=None)
    # Bytes of uploads this user owns, kept with each upload and delete so the quota check is one read.
    storage_used_bytes: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    # Guardians: how often the family digest comes (weekly, daily or off; see app.models.family.DigestFrequency).
    digest_frequency: str = Field(default="weekly", max_length=10, sa_column_kwargs={"server_default": "weekly"})
    # Everyone: also send each notification by email (needs an email address and SMTP settings).
    email_notifications: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The student information system's id for this person (OneRoster sourcedId); None for accounts made in Folio.
    sourced_id: str | None = Field(default=None, max_length=255)
    # "About me", in Markdown: written on the Account page, or brought from Mahara's profile introduction.
    about: str = Field(default="", sa_type=sa.Text, sa_column_kwargs={"server_default": ""})

    enrollments: list["Enrollment"] = Relationship(back_populates="user", cascade_delete=True)


class SchoolTerm(SQLModel, table=True):
    """A school year or a term of one: classes belong to one, and are archived with it at the year's end."""

    __tablename__ = "school_terms"
    __table_args__ = (sa.UniqueConstraint("school_id", "name"),
                      sa.UniqueConstraint("school_id", "sourced_id", name="uq_school_terms_school_sourced_id"))

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=40)  # "2026–27" or "2026–27 Term 1"
    school_year: str = Field(max_length=20)  # "2026–27": what the classes' year column says
    starts_on: date | None = Field(default=None)
    ends_on: date | None = Field(default=None)
    archived: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    sourced_id: str | None = Field(default=None, max_length=255)  # OneRoster academicSession sourcedId
    created_at: datetime = Field(default_factory=utcnow)


class SchoolClass(SQLModel, table=True):
    """A teaching group (a "class"; the word is taken in Python)."""

    __tablename__ = "classes"
    __table_args__ = (sa.UniqueConstraint("school_id", "sourced_id", name="uq_classes_school_sourced_id"),)

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="schools.id", index=True)
    name: str = Field(max_length=120)
    year: str = Field(max_length=20)
    term: str | None = Field(default=None, max_length=40)
    # RESTRICT: a term with classes can't be deleted; archiving it (and them) is how a year ends.
    term_id: int | None = Field(default=None, foreign_key="school_terms.id", index=True, ondelete="RESTRICT")
    join_code: str = Field(max_length=16, unique=True)
    # Reflection prompts, one per line; None means Folio's defaults.
    reflection_prompts: str | None = Field(default=None, sa_type=sa.Text)
    archived: bool = Field(default=False)
    # Class settings a teacher chooses: who sees what, and what waits for the teacher's approval.
    classmates_see_class_items: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    peer_comments_need_approval: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    family_items_need_approval: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Whether students may make secret links to their showcases (anyone with the link can see it).
    secret_links_allowed: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    sourced_id: str | None = Field(default=None, max_length=255)  # OneRoster class sourcedId
    created_at: datetime = Field(default_factory=utcnow)

    enrollments: list["Enrollment"] = Relationship(back_populates="school_class", cascade_delete=True)


class Enrollment(SQLModel, table=True):
    __tablename__ = "enrollments"
    __table_args__ = (sa.UniqueConstraint("class_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    class_id: int = Field(foreign_key="classes.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: ClassRole = Field(sa_column=_enum_column(ClassRole, nullable=False))
    enrolled_via: EnrolledVia = Field(sa_column=_enum_column(EnrolledVia, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)

    school_class: SchoolClass = Relationship(back_populates="enrollments")
    user: User = Relationship(back_populates="enrollments")


class GuardianLink(SQLModel, table=True):
    __tablename__ = "guardian_links"
    __table_args__ = (sa.UniqueConstraint("guardian_id", "student_id"),)

    id: int | None = Field(default=None, primary_key=True)
    guardian_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    student_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
