"""Sign-in throttling: too many failures for one account name, or from one address, get a pause."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, delete, select

from app.config import Settings
from app.models import LoginFailure
from app.models.base import utcnow

# An address (a school's shared NAT) legitimately fails more often than one account.
ADDRESS_FACTOR = 4


def account_key(identifier: str) -> str:
    """The hashed form of what was typed as a username or email."""
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


def is_throttled(*, session: Session, identifier: str, address: str, settings: Settings) -> bool:
    """True when this account name or this address has failed too often in the window."""
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    recent = (LoginFailure.created_at >= since,)
    by_account = session.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.account_key == account_key(identifier), *recent)
    ).one()
    if by_account >= settings.login_max_failures:
        return True
    by_address = session.exec(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.address == address, *recent)
    ).one()
    return by_address >= settings.login_max_failures * ADDRESS_FACTOR


def record_failure(*, session: Session, identifier: str, address: str, settings: Settings) -> None:
    """Count one failed sign-in (and drop failures too old to matter)."""
    expired = utcnow() - timedelta(minutes=settings.login_window_minutes * 2)
    session.exec(delete(LoginFailure).where(LoginFailure.created_at < expired))
    session.add(LoginFailure(account_key=account_key(identifier), address=address[:64]))
    session.commit()


def clear_failures(*, session: Session, identifier: str) -> None:
    """A successful sign-in forgives the account's earlier failures."""
    session.exec(delete(LoginFailure).where(LoginFailure.account_key == account_key(identifier)))
