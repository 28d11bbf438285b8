"""Email choices on the account page, and each notification sent by email to those who chose it.

A user who ticks "Email me my notifications" (and has an email address) gets one email per new notification,
in their language, when `folio send-digests` runs. Turning it on marks the notifications they already have as
emailed, so old news doesn't arrive all at once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.mail import open_mailer
from app.models import DigestFrequency, Notification, Role, User
from app.models.base import utcnow
from app.services.family.digests import absolute_url, email_environment, locale_of, user_locale
from app.services.moderation.notifications import message

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254
# Deliberately loose: one @, something before it, a dotted domain after it, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SUBJECT_LIMIT = 120


# --- the account form --------------------------------------------------------------------------


def email_problem(*, session: Session, user: User, email: str) -> str | None:
    """Why `email` (already trimmed and lower-cased) can't be the user's address; None when it is fine."""
    if len(email) > MAX_EMAIL_LENGTH:
        return _("Use at most %(max)s characters.", max=MAX_EMAIL_LENGTH)
    if not _EMAIL.match(email):
        return _("Enter an email address like name@example.org.")
    taken = session.exec(select(User.id).where(User.email == email, User.id != user.id)).first()
    if taken is not None:
        return _("Another account already uses this email address.")
    return None


def update_email_settings(
    *, session: Session, user: User, email: str, email_notifications: bool, digest_frequency: str | None = None,
    now: datetime | None = None,
) -> dict[str, str]:
    """Save the user's email address, notification emails and (guardians only) digest frequency; returns errors by field."""
    errors: dict[str, str] = {}
    address = email.strip().lower()
    if address:
        problem = email_problem(session=session, user=user, email=address)
        if problem:
            errors["email"] = problem
    elif email_notifications:
        errors["email"] = _("Add your email address to get your notifications by email.")
    frequency = None
    if user.role is Role.guardian:
        frequency = (digest_frequency or "").strip()
        if frequency not in {choice.value for choice in DigestFrequency}:
            errors["digest_frequency"] = _("Choose how often the digest comes: weekly, daily or off.")
    if errors:
        return errors
    if email_notifications and not user.email_notifications:
        # From now on: what is already in the notification list is not emailed.
        session.exec(sa.update(Notification).where(Notification.user_id == user.id, Notification.emailed_at.is_(None))
                     .values(emailed_at=now or utcnow()))
    user.email = address or None
    user.email_notifications = email_notifications
    if frequency is not None:
        user.digest_frequency = frequency
    session.add(user)
    return {}


# --- sending -----------------------------------------------------------------------------------


@dataclass
class NotificationEmailReport:
    sent: int = 0
    failed: int = 0  # left as not emailed, so the next run tries again


def render_notification_email(*, settings: Settings, user: User, notification: Notification) -> tuple[str, str, str]:
    """One notification as an email to `user` in their language: (subject, plain text, HTML)."""
    env = email_environment(settings)
    with locale_of(user_locale(settings=settings, user=user)):
        text_message = message(notification)
        short = text_message if len(text_message) <= _SUBJECT_LIMIT else text_message[: _SUBJECT_LIMIT - 1].rstrip() + "…"
        context = {
            "lang": user_locale(settings=settings, user=user),
            "subject": _("Folio: %(text)s", text=short),
            "message": text_message,
            "link": absolute_url(settings=settings, path=notification.link or "/notifications"),
            "account_url": absolute_url(settings=settings, path="/account"),
        }
        return (context["subject"], env.get_template("email/notification.txt").render(context),
                env.get_template("email/notification.html").render(context))


def send_pending(*, session: Session, settings: Settings, now: datetime | None = None) -> NotificationEmailReport:
    """Email every notification not emailed yet to users who chose email (one email each, once)."""
    now = now or utcnow()
    report = NotificationEmailReport()
    rows = session.exec(
        select(Notification.id, User.id).join(User, User.id == Notification.user_id)
        .where(Notification.emailed_at.is_(None), User.email_notifications == True,  # noqa: E712
               User.email.is_not(None), User.is_active == True)  # noqa: E712
        .order_by(Notification.id)
    ).all()
    session.rollback()
    if not rows:
        return report
    with open_mailer(settings=settings) as mailer:
        for notification_id, user_id in rows:
            try:
                # Claim it first: a second run at the same time finds nothing left to claim (and waits on PostgreSQL).
                claimed = session.exec(
                    sa.update(Notification).where(Notification.id == notification_id, Notification.emailed_at.is_(None))
                    .values(emailed_at=now)
                ).rowcount
                if not claimed:
                    session.rollback()
                    continue
                notification = session.get(Notification, notification_id, populate_existing=True)
                user = session.get(User, user_id, populate_existing=True)
                if user is None or not user.email or not user.email_notifications:
                    session.rollback()
                    continue
                subject, text, html = render_notification_email(settings=settings, user=user, notification=notification)
                mailer.send(to=user.email, subject=subject, text=text, html=html)
                session.commit()
                report.sent += 1
            except Exception:  # noqa: BLE001 - one failure must not stop the others
                session.rollback()
                logger.exception("Could not email notification %s", notification_id)
                report.failed += 1
    return report
