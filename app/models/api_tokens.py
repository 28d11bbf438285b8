"""Personal access tokens for the JSON API (app.api): made on the Account page, shown once, kept only as a hash."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class ApiToken(SQLModel, table=True):
    """One personal access token; `scopes` is "read" or "read write" (space-separated, as OAuth spells scopes)."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    # SHA-256 of the token, like a session's: a copy of the database can't be used to call the API.
    token_hash: str = Field(max_length=64, unique=True)
    scopes: str = Field(default="read", max_length=40)
    expires_at: datetime
    last_used_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = Field(default=None)
    # The rate limit's fixed window, shared by every process and host (app.api.limits): the minute it counts (minutes
    # since the epoch) and the requests made in it so far.
    rate_window: int = Field(default=0, sa_type=sa.BigInteger, sa_column_kwargs={"server_default": "0"})
    rate_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
