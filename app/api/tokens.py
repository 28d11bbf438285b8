"""Personal access tokens: made on the Account page, shown once, kept only as a SHA-256 hash, revocable.

A token acts as its owner and nothing more: the API looks the owner up and runs the same services and access rules
as the HTML pages. A switched-off owner's tokens stop working at once (checked on every request)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from app.access import not_found
from app.i18n import _
from app.models import ApiToken, User
from app.models.base import utcnow

PREFIX = "folio_pat_"
READ, WRITE = "read", "write"
SCOPE_CHOICES = {"read": READ, "read write": f"{READ} {WRITE}"}
EXPIRY_DAYS = (30, 90, 365)
LONGEST_DAYS = 366


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class TokenInput:
    """What was typed in the new-token form, parsed and checked."""

    name: str = ""
    scopes: str = READ
    expires_at: datetime | None = None
    errors: dict[str, str] = field(default_factory=dict)


def parse_token_form(*, name: str, scopes: str, expiry: str, expiry_date: str, today: date) -> TokenInput:
    """Check the form: a name, read or read+write, and 30/90/365 days or a date within a year."""
    data = TokenInput(name=" ".join(name.split())[:200])
    if not data.name:
        data.errors["name"] = _("Name the token after what will use it, e.g. \"My sync script\".")
    elif len(data.name) > 80:
        data.errors["name"] = _("Keep the name under 80 characters.")
    if scopes not in SCOPE_CHOICES:
        data.errors["scopes"] = _("Choose what the token may do from the list.")
    else:
        data.scopes = SCOPE_CHOICES[scopes]
    last_day: date | None = None
    if expiry.isdigit() and int(expiry) in EXPIRY_DAYS:
        last_day = today + timedelta(days=int(expiry))
    elif expiry == "date":
        try:
            last_day = date.fromisoformat(expiry_date.strip())
        except ValueError:
            data.errors["expiry_date"] = _("Use a date like 2026-11-23.")
        else:
            if not today < last_day <= today + timedelta(days=LONGEST_DAYS):
                data.errors["expiry_date"] = _("Choose a date after today and within a year.")
    else:
        data.errors["expiry"] = _("Choose when the token stops working.")
    if last_day is not None and not data.errors.get("expiry_date"):
        data.expires_at = datetime.combine(last_day, time.min).replace(tzinfo=utcnow().tzinfo)
    return data


def create_token(*, session: Session, user: User, data: TokenInput) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token itself, which is shown once and never kept."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=data.name, token_hash=token_hash(token), scopes=data.scopes,
                   expires_at=data.expires_at)
    session.add(row)
    session.flush()
    return row, token


def tokens_of(*, session: Session, user: User) -> list[ApiToken]:
    """`user`'s tokens that were not revoked, newest first."""
    return list(session.exec(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ).all())


def revoke_token(*, session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s tokens (anyone else's is 404): it stops working from the next request."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise not_found()
    row.revoked_at = utcnow()
    session.add(row)
    return row


def is_expired(row: ApiToken, now: datetime | None = None) -> bool:
    return (now or utcnow()) >= row.expires_at


@dataclass
class Caller:
    """Who an API request acts for: the token's owner, with the token's scopes."""

    user: User
    token: ApiToken

    @property
    def can_write(self) -> bool:
        return WRITE in self.token.scopes.split()


def caller_for_token(*, session: Session, token: str) -> Caller | None:
    """The active owner of a live token (not revoked, not expired), or None. (Its use is noted by app.api.limits.take,
    in the statement that counts it.)"""
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    row = session.exec(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None:
        return None
    api_token, user = row
    now = utcnow()
    if is_expired(api_token, now) or not user.is_active:
        return None
    return Caller(user=user, token=api_token)
