"""Open Badges found baked into uploaded evidence: the assertion kept beside the (cleaned) image, with what it says
and whether Folio could check it."""

from datetime import date, datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.people import _enum_column


class BadgeCheck(str, Enum):
    """What checking a badge's signature offline found."""

    verified = "verified"  # signed by the key its issuer names, unchanged since
    does_not_verify = "does_not_verify"  # changed after signing, or signed by someone else
    revoked = "revoked"  # genuine, but revoked by the school on this Folio that issued it
    needs_internet = "needs_internet"  # hosted, or its key is on the issuer's site: Folio fetches nothing
    cannot_check = "cannot_check"  # unsigned, or a kind of signature Folio doesn't check
    unreadable = "unreadable"  # the image carried a badge whose text couldn't be read


class BadgeAssertion(SQLModel, table=True):
    """The badge an image artefact carried (one per artefact; deleted with it)."""

    __tablename__ = "badge_assertions"

    id: int | None = Field(default=None, primary_key=True)
    artefact_id: int = Field(foreign_key="artefacts.id", ondelete="CASCADE", unique=True)
    version: str = Field(max_length=8)  # "3.0", "2.0" or "1.0"
    payload: str = Field(sa_type=sa.Text)  # as baked: JSON, a compact JWS, or a hosted assertion's URL
    issuer_name: str = Field(default="", max_length=300)
    issuer_url: str = Field(default="", max_length=2000)
    achievement_name: str = Field(default="", max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    criteria: str = Field(default="", sa_type=sa.Text)
    criteria_url: str = Field(default="", max_length=2000)
    issued_on: date | None = Field(default=None)
    verification: BadgeCheck = Field(sa_column=_enum_column(BadgeCheck, nullable=False))
    checked_at: datetime
