"""Sign-in state: server-side sessions and failed sign-in attempts (for throttling)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.models.base import utcnow


class UserSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "user_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    user_agent: str | None = Field(default=None, max_length=255)


class LoginFailure(SQLModel, table=True):
    """One failed attempt (a sign-in or a code, see app.services.accounts.throttle); the typed name is kept only as a hash
    (it may be a mistyped password)."""

    __tablename__ = "login_failures"

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(default="sign-in", max_length=20)
    # None: a visitor trying a code, counted by address only.
    account_key: str | None = Field(default=None, max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class SetupLink(SQLModel, table=True):
    """A one-time link an admin gives a new person to choose their own password; the table keeps only the token's
    SHA-256, so a copy of the database can't be used to take over an account."""

    __tablename__ = "setup_links"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
