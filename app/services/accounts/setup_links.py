"""Setup links: a one-time link where a new person chooses their own password, emailed or printed by an admin.

The link holds a random 256-bit token; the table keeps only its SHA-256 and an expiry (FOLIO_SETUP_LINK_DAYS).
A new link replaces the person's old one; choosing a password uses it up; switching the account off voids it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.auth import end_other_sessions, hash_password
from app.config import Settings
from app.i18n import _
from app.mail import send_email
from app.models import AuditEventKind, SetupLink, User
from app.models.base import utcnow
from app.services.accounts import accounts
from app.services.accounts import audit


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(*, session: Session, actor: User, user: User, settings: Settings, address: str | None) -> str:
    """A fresh link for `user` (their older one stops working); returns the token for the address."""
    session.exec(sa.delete(SetupLink).where(SetupLink.user_id == user.id))
    token = secrets.token_urlsafe(32)
    session.add(SetupLink(token_hash=_token_hash(token), user_id=user.id,
                          expires_at=utcnow() + timedelta(days=settings.setup_link_days)))
    audit.record(session=session, event=AuditEventKind.setup_link_created, actor=actor, subject=user, address=address)
    return token


def link_address(*, settings: Settings, token: str) -> str:
    """The full address to give the person."""
    return f"{settings.base_url.rstrip('/')}/setup/{token}"


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active person whose unexpired link this is, or None (unknown, used, expired or switched off alike)."""
    row = session.exec(select(SetupLink, User).join(User, User.id == SetupLink.user_id)
                       .where(SetupLink.token_hash == _token_hash(token[:100]))).first()
    if row is None:
        return None
    link, user = row
    if link.expires_at <= utcnow() or not user.is_active:
        return None
    return user


def choose_password(*, session: Session, user: User, password: str, confirm: str, address: str | None
                    ) -> dict[str, str]:
    """Set the person's own password and use the link up; errors by field (empty when it worked)."""
    problem = accounts.password_problem(password, username=user.username)
    if problem:
        return {"password": problem}
    if password != confirm:
        return {"confirm": _("The two passwords don't match.")}
    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.last_login_at = utcnow()
    session.add(user)
    session.exec(sa.delete(SetupLink).where(SetupLink.user_id == user.id))
    # Whoever signed in with the old password (nobody should have) is signed out.
    end_other_sessions(session=session, user_id=user.id)
    audit.record(session=session, event=AuditEventKind.setup_link_used, actor=user, subject=user, address=address)
    return {}


def email_link(*, settings: Settings, user: User, school_name: str, address: str) -> None:
    """Send the link to the person's email address (the caller checked there is one and mail is set up)."""
    subject = _("Your Folio account at %(school)s", school=school_name)
    text = _("Hello %(name)s,\n\nAn account has been made for you on Folio at %(school)s. Your username is "
             "%(username)s. Choose your password here (the link works once, for %(days)s days):\n\n%(address)s\n",
             name=user.display_name, school=school_name, username=user.username, days=settings.setup_link_days,
             address=address)
    send_email(settings=settings, to=user.email, subject=subject, text=text)
