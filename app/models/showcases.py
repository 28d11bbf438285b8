"""Showcases: a student's curated, ordered selection of items with talking points, and how it is shared."""

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.evidence import Audience
from app.models.people import _enum_column


class ShowcaseItemType(str, Enum):
    artefact = "artefact"
    reflection = "reflection"
    goal = "goal"
    competency = "competency"  # a competency summary: the student's ratings and evidence for it
    credential = "credential"  # one of the student's own Open Badges credentials, shown as a badge card


class Showcase(SQLModel, table=True):
    __tablename__ = "showcases"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    introduction: str = Field(default="", sa_type=sa.Text)
    # private, class or family; secret links are separate (ShareLink) and can exist whatever the audience.
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False, default=Audience.private))
    # Marked by the student when it is ready to present at a conference.
    ready: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Bumped on every save so two tabs editing the same showcase never silently overwrite each other.
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ShowcaseItem(SQLModel, table=True):
    __tablename__ = "showcase_items"
    __table_args__ = (
        sa.UniqueConstraint("showcase_id", "item_id"),
        sa.UniqueConstraint("showcase_id", "competency_id"),
        sa.UniqueConstraint("showcase_id", "credential_id"),
        sa.Index("ix_showcase_items_order", "showcase_id", "position"),
        # An entry is an item (artefact, reflection, goal), a competency summary or a credential: exactly one.
        sa.CheckConstraint(
            "(CASE WHEN item_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN competency_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN credential_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="ck_showcase_items_one_target",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    showcase_id: int = Field(foreign_key="showcases.id", ondelete="CASCADE")
    item_type: ShowcaseItemType = Field(sa_column=_enum_column(ShowcaseItemType, nullable=False))
    item_id: int | None = Field(default=None, foreign_key="items.id", index=True, ondelete="CASCADE")
    competency_id: int | None = Field(default=None, foreign_key="competencies.id", index=True, ondelete="CASCADE")
    credential_id: int | None = Field(default=None, foreign_key="credentials.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    talking_points: str = Field(default="", sa_type=sa.Text)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    @classmethod
    def to(cls, *, showcase_id: int, item_type: "ShowcaseItemType", target_id: int, **values) -> "ShowcaseItem":
        """An entry for an item (artefact, reflection, goal), a competency summary or a credential."""
        return cls(showcase_id=showcase_id, item_type=item_type, **{target_column(item_type): target_id}, **values)

    @property
    def target_id(self) -> int:
        """The id of what the entry shows: the item's, the competency's or the credential's."""
        return getattr(self, target_column(self.item_type))


def target_column(item_type: ShowcaseItemType) -> str:
    """The showcase_items column that holds what an entry of this type points at."""
    if item_type is ShowcaseItemType.competency:
        return "competency_id"
    if item_type is ShowcaseItemType.credential:
        return "credential_id"
    return "item_id"


class ShareLink(SQLModel, table=True):
    """A secret, expiring, revocable read-only link to one showcase. Only the token's SHA-256 is kept."""

    __tablename__ = "share_links"

    id: int | None = Field(default=None, primary_key=True)
    showcase_id: int = Field(foreign_key="showcases.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)


class ShareLinkView(SQLModel, table=True):
    """One visit through a secret link (logged so the student sees how often it was opened)."""

    __tablename__ = "share_link_views"

    id: int | None = Field(default=None, primary_key=True)
    link_id: int = Field(foreign_key="share_links.id", index=True, ondelete="CASCADE")
    viewed_at: datetime = Field(default_factory=utcnow)


class ResponseSource(str, Enum):
    conference = "conference"  # typed on the student's device at the end of a presentation
    family = "family"  # written later from a guardian's own login


class ConferenceResponse(SQLModel, table=True):
    """A family's answer to "What made you proud? What would you like to see next?" on a showcase."""

    __tablename__ = "conference_responses"

    id: int | None = Field(default=None, primary_key=True)
    showcase_id: int = Field(foreign_key="showcases.id", index=True, ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")  # the student
    author_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")  # the guardian, if signed in
    author_name: str = Field(default="", max_length=120)
    proud: str = Field(default="", sa_type=sa.Text)
    next_hope: str = Field(default="", sa_type=sa.Text)
    source: ResponseSource = Field(sa_column=_enum_column(ResponseSource, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ConferenceSlot(SQLModel, table=True):
    """A student-led conference a teacher scheduled for one student of one class."""

    __tablename__ = "conference_slots"
    __table_args__ = (sa.Index("ix_conference_slots_class_time", "class_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    class_id: int = Field(foreign_key="classes.id", ondelete="CASCADE")
    student_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    starts_at: datetime
    duration_minutes: int = Field(default=20)
    location: str = Field(default="", max_length=200)
    note: str = Field(default="", sa_type=sa.Text)
    created_by_id: int | None = Field(default=None, foreign_key="users.id", ondelete="SET NULL")
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)


class ConferenceInvite(SQLModel, table=True):
    """A guardian invited to a conference slot."""

    __tablename__ = "conference_invites"

    slot_id: int = Field(foreign_key="conference_slots.id", primary_key=True, ondelete="CASCADE")
    guardian_id: int = Field(foreign_key="users.id", primary_key=True, index=True, ondelete="CASCADE")
