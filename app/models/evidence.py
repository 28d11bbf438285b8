"""Evidence: artefacts (files, notes, links), their tags and competency tags."""

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow
from app.models.people import _enum_column


class Audience(str, Enum):
    """Who may see an item besides its owner: private means the student and their teachers."""

    private = "private"
    class_ = "class"
    family = "family"


class ArtefactKind(str, Enum):
    file = "file"
    note = "note"
    link = "link"


class MediaKind(str, Enum):
    """What a stored file is, decided from its content (never from its name)."""

    image = "image"
    audio = "audio"
    video = "video"
    pdf = "pdf"
    document = "document"
    text = "text"


class Artefact(SQLModel, table=True):
    __tablename__ = "artefacts"
    # The class overview's "last evidence" per student reads only this index (no visit to each artefact's row).
    __table_args__ = (sa.Index("ix_artefacts_owner_when", "owner_id", "occurred_on", "id"),)

    # The same id as its row in `items` (allocated there; see app.models.item_rows): deleting the item deletes this.
    id: int | None = Field(default=None, primary_key=True, foreign_key="items.id", ondelete="CASCADE")
    owner_id: int = Field(foreign_key="users.id", ondelete="CASCADE")
    kind: ArtefactKind = Field(sa_column=_enum_column(ArtefactKind, nullable=False))
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_type=sa.Text)
    occurred_on: date
    audience: Audience = Field(sa_column=_enum_column(Audience, nullable=False, default=Audience.private))
    # kind == note
    body: str = Field(default="", sa_type=sa.Text)
    # kind == link
    url: str | None = Field(default=None, max_length=2000)
    # kind == file: stored under upload_dir by name; the original name is only shown, never used as a path
    stored_name: str | None = Field(default=None, max_length=120)
    original_name: str | None = Field(default=None, max_length=255)
    content_type: str | None = Field(default=None, max_length=100)
    media_kind: MediaKind | None = Field(default=None, sa_column=_enum_column(MediaKind, nullable=True))
    size_bytes: int = Field(default=0, sa_type=sa.BigInteger)
    width: int | None = Field(default=None)
    height: int | None = Field(default=None)
    thumb_small: str | None = Field(default=None, max_length=120)
    thumb_large: str | None = Field(default=None, max_length=120)
    # A JPEG of at most 1200 px a side made at upload, embedded in PDF exports as it is (None for older photos)
    thumb_print: str | None = Field(default=None, max_length=120)
    # Bytes of the thumbnails and print copy together: counted in the owner's quota with size_bytes
    derived_bytes: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    # The stored photo had to be re-encoded (quality 95) to turn it upright; otherwise it is the upload's data
    reencoded: bool = Field(default=False)
    # A spoken caption: an audio artefact of the same student, part of this one (heard and listed only with it, as a
    # reflection's recording is: app.access.rules.not_an_attached_recording looks it up by this column).
    audio_artefact_id: int | None = Field(default=None, foreign_key="artefacts.id", ondelete="SET NULL", index=True)
    # Optimistic locking: a save names the version its form was opened at (app.services.edit_versions).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Tag(SQLModel, table=True):
    """A student's own free tag ("fractions", "science fair")."""

    __tablename__ = "tags"
    __table_args__ = (sa.UniqueConstraint("owner_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=60)


class ArtefactTag(SQLModel, table=True):
    __tablename__ = "artefact_tags"

    artefact_id: int = Field(foreign_key="artefacts.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tags.id", primary_key=True, index=True, ondelete="CASCADE")


class ArtefactCompetency(SQLModel, table=True):
    __tablename__ = "artefact_competencies"

    artefact_id: int = Field(foreign_key="artefacts.id", primary_key=True, ondelete="CASCADE")
    competency_id: int = Field(foreign_key="competencies.id", primary_key=True, index=True, ondelete="CASCADE")
