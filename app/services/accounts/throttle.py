"""Throttling failed attempts (sign-ins, family invitation codes, class join codes), one module for all three.

Each failure is counted three ways inside FOLIO_LOGIN_WINDOW_MINUTES:
- one account from one address (FOLIO_LOGIN_MAX_FAILURES): slows an attacker at one address without
  locking the real owner out everywhere else;
- one account from every address together (FOLIO_LOGIN_MAX_FAILURES_PER_ACCOUNT): a ceiling, many times
  higher, so guessing spread over many addresses is bounded too;
- one address, whatever the account (FOLIO_LOGIN_MAX_FAILURES_PER_ADDRESS): bounds trying one password on
  many accounts, and is high enough for a school behind one NAT address.
Reaching any of them answers 429 until the window passes. The account is whatever was typed (stored only as
a hash) or the signed-in user, so the answer never depends on whether an account exists. Attempts refused
with 429 are not counted, so an attacker can't keep the pause going from one address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Session, delete, select

from app.config import Settings
from app.models import LoginFailure, User
from app.models.base import utcnow

# A code is copied off paper or a board by someone already signed in (or a family at home): a few more goes
# than at a password, and nothing to gain by spreading them over addresses.
CODE_TRIES_FACTOR = 2


class Scope(str, Enum):
    """What was tried; each is counted apart, so a class's sign-in typos never hold up its join codes."""

    sign_in = "sign-in"
    invitation_code = "invitation-code"
    join_code = "join-code"


@dataclass(frozen=True)
class Limits:
    per_account_and_address: int
    per_account: int
    per_address: int


def limits(*, scope: Scope, settings: Settings) -> Limits:
    """The failures allowed in one window for `scope`."""
    if scope is Scope.sign_in:
        return Limits(settings.login_max_failures, settings.login_max_failures_per_account,
                      settings.login_max_failures_per_address)
    tries = settings.login_max_failures * CODE_TRIES_FACTOR
    return Limits(tries, tries, settings.login_max_failures_per_address)


def account_key(identifier: str) -> str:
    """The hashed form of what was typed as a username or email."""
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


def user_account(user: User | None) -> str | None:
    """The throttle account of a signed-in user trying a code (None for a visitor: counted by address only)."""
    return f"user:{user.id}" if user is not None else None


def _since(settings: Settings):
    return utcnow() - timedelta(minutes=settings.login_window_minutes)


def is_throttled(*, session: Session, scope: Scope, account: str | None, address: str, settings: Settings) -> bool:
    """True when this account, this account from this address, or this address has failed too often lately (one query)."""
    allowed = limits(scope=scope, settings=settings)
    at_address = LoginFailure.address == address[:64]
    if account is None:
        by_pair = by_account = sa.literal(0)
        mine = at_address
    else:
        key = account_key(account)
        of_account = LoginFailure.account_key == key
        by_pair = sa.func.count(sa.case((sa.and_(of_account, at_address), 1)))
        by_account = sa.func.count(sa.case((of_account, 1)))
        mine = sa.or_(of_account, at_address)
    by_address = sa.func.count(sa.case((at_address, 1)))
    pair, account_total, address_total = session.exec(
        select(by_pair, by_account, by_address).select_from(LoginFailure)
        .where(LoginFailure.scope == scope.value, LoginFailure.created_at >= _since(settings), mine)
    ).one()
    return (pair >= allowed.per_account_and_address or account_total >= allowed.per_account
            or address_total >= allowed.per_address)


def record_failure(*, session: Session, scope: Scope, account: str | None, address: str, settings: Settings) -> None:
    """Count one failure (and drop those too old to matter); commits, so a rollback can't undo the count."""
    expired = utcnow() - timedelta(minutes=settings.login_window_minutes * 2)
    session.exec(delete(LoginFailure).where(LoginFailure.created_at < expired))
    session.add(LoginFailure(scope=scope.value, account_key=account_key(account) if account is not None else None,
                             address=address[:64]))
    session.commit()


def clear_failures(*, session: Session, scope: Scope, account: str, address: str) -> None:
    """A success forgives this account's failures from this address only: an attacker's elsewhere still count."""
    session.exec(delete(LoginFailure).where(
        LoginFailure.scope == scope.value, LoginFailure.account_key == account_key(account),
        LoginFailure.address == address[:64],
    ))
