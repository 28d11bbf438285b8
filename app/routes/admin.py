"""School people: the admin's list and audit log, and password resets by admins and teachers."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from app.auth import AdminUser, StaffUser, end_other_sessions, require_user
from app.db import SessionDep
from app.models import AuditEventKind, Role, User
from app.security import client_address
from app.services.accounts import accounts
from app.services.accounts import audit_views
from app.services.accounts import people
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/admin/people")
def list_people(
    request: Request, user: AdminUser, session: SessionDep, role: str = "", page: int = 1
) -> Response:
    """Everyone in the admin's school, by name, a page at a time, optionally one role."""
    role_filter = Role(role) if role in Role._value2member_map_ else None
    result = people.people_page(session=session, school_id=user.school_id, role=role_filter, number=page)
    return render(
        request, "admin/people.html", {"page": result, "role": role_filter, "roles": list(Role)}, block="people"
    )


@router.get("/admin/audit")
def list_audit_events(
    request: Request, user: AdminUser, session: SessionDep, event: str = "", person: str = "", since: str = "",
    until: str = "", page: int = 1,
) -> Response:
    """The school's audit log, newest first, a page at a time, by kind of event, person and dates."""
    filters, errors = audit_views.parse_filters(session=session, school_id=user.school_id, event=event[:40],
                                                person=person[:254], since=since[:20], until=until[:20])
    timezone = request.app.state.settings.timezone
    result = audit_views.events_page(session=session, school_id=user.school_id, filters=filters, timezone=timezone,
                                     number=page)
    context = {"page": result, "errors": errors, "values": {"event": event, "person": person, "since": since,
                                                             "until": until},
               "kinds": list(AuditEventKind), "event_label": audit_views.event_label,
               "summary": audit_views.event_summary, "when": lambda moment: audit_views.local_time(moment, timezone)}
    return render(request, "admin/audit.html", context, status_code=422 if errors else 200)


def _resettable(session, actor: User, user_id: int) -> User:
    target = accounts.resettable_user(session=session, actor=actor, user_id=user_id)
    if target is None:
        # 404, not 403: whether that account exists is none of this user's business.
        raise HTTPException(status_code=404)
    return target


@router.get("/people/{user_id}/password")
def reset_password_form(request: Request, user_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """The form an admin or teacher uses to give someone a new password."""
    target = _resettable(session, user, user_id)
    context = {"target": target, "errors": {}, "new_password": None, "suggested": accounts.generate_password()}
    return render(request, "admin/reset_password.html", context)


@router.post("/people/{user_id}/password")
def reset_password(
    request: Request,
    user_id: PathId,
    user: StaffUser,
    session: SessionDep,
    new_password: Annotated[str, Form(max_length=1024)] = "",
    must_change: Annotated[bool, Form()] = False,
) -> Response:
    """Set the new password, sign the person out everywhere, and show the password once."""
    target = _resettable(session, user, user_id)
    problem = accounts.password_problem(new_password, username=target.username)
    if problem:
        context = {"target": target, "errors": {"new_password": problem}, "new_password": None, "suggested": new_password}
        return render(request, "admin/reset_password.html", context, status_code=422)
    accounts.reset_password(session=session, actor=user, target=target, new_password=new_password,
                            must_change=must_change, address=client_address(request))
    end_other_sessions(session=session, user_id=target.id)
    session.commit()
    context = {"target": target, "errors": {}, "new_password": new_password, "must_change": must_change, "suggested": ""}
    # The page shows a password: no browser or proxy may keep a copy.
    return render(request, "admin/reset_password.html", context, headers={"Cache-Control": "no-store"})
