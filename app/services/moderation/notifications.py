"""In-app notifications: record them, count the unread, list them, mark them read; words made at display time."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, func, select

from app.i18n import _
from app.models import Notification, NotificationKind, User
from app.models.base import utcnow
from app.pagination import Page, paginate


def notify(
    *, session: Session, user_id: int, kind: NotificationKind, link: str, item_id: int | None = None,
    showcase_id: int | None = None, **params: str,
) -> Notification:
    """Tell `user_id` about something; `params` fill the message (e.g. name="Maya", title="My poster").

    Name the item or showcase it is about: deleting that deletes the notification, so its title never outlives it."""
    notification = Notification(user_id=user_id, kind=kind, params={k: str(v)[:200] for k, v in params.items()},
                                link=link[:300], item_id=item_id, showcase_id=showcase_id)
    session.add(notification)
    return notification


def message(notification: Notification) -> str:
    """The notification in the reader's current language."""
    texts = {
        NotificationKind.feedback_received: _("%(name)s left feedback on “%(title)s”."),
        NotificationKind.request_received: _("%(name)s asked for your feedback on “%(title)s”."),
        NotificationKind.item_approved: _("“%(title)s” was approved."),
        NotificationKind.item_returned: _("“%(title)s” was returned to you."),
        NotificationKind.comment_reported: _("A comment on “%(title)s” was reported and is hidden until you review it."),
        NotificationKind.comment_pending: _("%(name)s commented on “%(title)s”; it waits for your approval."),
        NotificationKind.item_waiting: _("%(name)s shared “%(title)s” with their family; it waits for your approval."),
        NotificationKind.guardian_linked: _("%(name)s can now follow what you share with your family."),
        NotificationKind.conference_booked: _("A conference for %(name)s is booked: %(when)s."),
        NotificationKind.conference_changed: _("The conference for %(name)s has moved to %(when)s."),
        NotificationKind.conference_cancelled: _("The conference for %(name)s on %(when)s is cancelled."),
        NotificationKind.family_response: _("%(name)s responded to your showcase “%(title)s”."),
        NotificationKind.added_to_class: _("%(by)s added you to %(title)s: its teachers can now see your work, "
                                           "except drafts."),
        NotificationKind.student_added: _("%(by)s added %(name)s to %(title)s."),
        NotificationKind.student_joined: _("%(name)s joined %(title)s with its class code."),
    }
    values = {"name": "", "title": "", "by": "", **(notification.params or {})}
    values["when"] = _conference_time(values)
    try:
        return texts[notification.kind] % values
    except (KeyError, ValueError):
        return texts[notification.kind]


def _conference_time(params: dict) -> str:
    # Stored as an instant and a zone, so each reader sees the time in their own language.
    from datetime import datetime

    from app.services.conferences.conferences import format_when

    try:
        return format_when(datetime.fromisoformat(params["starts_at"]), params.get("tz", "UTC"))
    except (KeyError, ValueError):
        return params.get("title", "")


def unread_count(*, session: Session, user: User) -> int:
    """How many notifications `user` hasn't read (one indexed count)."""
    return session.exec(
        select(func.count()).select_from(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).one()


@dataclass
class NotificationView:
    notification: Notification
    text: str


def notifications_page(*, session: Session, user: User, number: int, size: int = 30) -> Page[NotificationView]:
    """The user's notifications, unread first, then newest first."""
    statement = select(Notification).where(Notification.user_id == user.id).order_by(
        Notification.read_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
    page = paginate(session, statement, number=number, size=size)
    return Page([NotificationView(n, message(n)) for n in page.items], page.number, page.size, page.total)


def mark_read(*, session: Session, user: User, notification_id: int | None = None) -> Notification | None:
    """Mark one of the user's notifications read (returned, for its link), or all of them when no id is given."""
    if notification_id is None:
        session.exec(sa.update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
                     .values(read_at=utcnow()))
        return None
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        from app.access import not_found

        raise not_found()
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
    return notification
