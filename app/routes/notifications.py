"""Notifications: the list, the header count (polled lightly by HTMX), marking read."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import CurrentUser, require_user
from app.db import SessionDep
from app.services.moderation import notifications as service
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/notifications")
def list_notifications(request: Request, user: CurrentUser, session: SessionDep, page: int = 1) -> Response:
    """The user's notifications, unread first."""
    return render(request, "notifications/list.html", {"page": service.notifications_page(session=session, user=user, number=page)})


@router.get("/notifications/count")
def notification_count(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """The header badge alone, for the HTMX poll."""
    count = service.unread_count(session=session, user=user)
    return render(request, "notifications/_count.html", {"unread": count}, headers={"Cache-Control": "no-store"})


@router.post("/notifications/{notification_id}/read")
def open_notification(request: Request, notification_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Mark one read and go where it points."""
    notification = service.mark_read(session=session, user=user, notification_id=notification_id)
    session.commit()
    link = notification.link if notification and notification.link.startswith("/") and not notification.link.startswith("//") else "/notifications"
    return RedirectResponse(link, status_code=303)


@router.post("/notifications/read")
def mark_all_read(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """Mark everything read."""
    service.mark_read(session=session, user=user)
    session.commit()
    return RedirectResponse("/notifications", status_code=303)
