"""School people: the admin's list, adding, editing, switching off and deleting accounts, the audit log, and password
resets by admins and teachers."""

import logging
import smtplib
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import IntegrityError

from app.auth import AdminUser, StaffUser, end_other_sessions, require_user
from app.db import SessionDep
from app.flash import flash, redirect_with
from app.i18n import _
from app.models import AuditEventKind, Role, User
from app.security import client_address
from app.services.accounts import accounts
from app.services.accounts import audit_views
from app.services.accounts import leavers
from app.services.accounts import people
from app.services.accounts import people_admin
from app.services.accounts import setup_links
from app.services.accounts import sso
from app.services.classes import terms
from app.services.jobs import job_pages
from app.templating import render
from app.routes.auth import password_off_page
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])
logger = logging.getLogger(__name__)


def _people_filters(classes: list, search: str, role: str, class_id: str, status: str) -> people.PeopleFilters:
    # A class of another school (or none) is ignored, as an unknown role is.
    chosen_class = next((c.id for c in classes if str(c.id) == class_id), None)
    return people.PeopleFilters(search=search[:100], role=Role(role) if role in Role._value2member_map_ else None,
                                class_id=chosen_class, status=status if status in people.STATUSES else "active")


@router.get("/admin/people")
def list_people(
    request: Request, user: AdminUser, session: SessionDep, q: str = "", role: str = "", class_id: str = "",
    status: str = "active", page: int = 1,
) -> Response:
    """Everyone in the admin's school, by name, a page at a time: by words in a name, role, class and status."""
    classes = terms.class_choices(session=session, school_id=user.school_id)
    filters = _people_filters(classes, q, role, class_id, status)
    result = people.people_page(session=session, school_id=user.school_id, filters=filters, number=page)
    context = {"page": result, "filters": filters, "roles": list(Role), "classes": classes}
    return render(request, "admin/people.html", context, block="people")


def _person_form(request: Request, *, values: dict, errors: dict, person: User | None = None, status_code: int = 200,
                 **extra) -> Response:
    context = {"values": values, "errors": errors, "person": person, "roles": list(Role),
               "email_enabled": request.app.state.settings.email_enabled, **extra}
    return render(request, "admin/person_form.html", context, status_code=status_code)


@router.get("/admin/people/new")
def new_person(request: Request, user: AdminUser) -> Response:
    """The form for adding one person: a teacher, an admin, a student or a family member."""
    values = {"display_name": "", "username": "", "email": "", "role": "teacher", "start_with": "password"}
    return _person_form(request, values=values, errors={})


@router.post("/admin/people/new")
def add_person(
    request: Request, user: AdminUser, session: SessionDep,
    display_name: Annotated[str, Form(max_length=500)] = "", username: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=500)] = "", role: Annotated[str, Form(max_length=20)] = "",
    start_with: Annotated[str, Form(max_length=20)] = "password",
) -> Response:
    """Make the account; show its one-time password or its setup link (emailed when there is mail and an address)."""
    values = {"display_name": display_name, "username": username, "email": email, "role": role, "start_with": start_with}
    data = people_admin.parse_person(session=session, display_name=display_name, username=username, email=email,
                                     role=role)
    errors = data.errors
    if start_with not in people_admin.StartWith._value2member_map_:
        errors["start_with"] = _("Choose how they will sign in the first time.")
    elif start_with == people_admin.StartWith.password.value and role in Role._value2member_map_ \
            and not request.app.state.settings.password_login_allowed(role):
        errors["start_with"] = _("People with this role sign in with %(provider)s, not a password: choose the setup "
                                 "link, which shows them the way in.",
                                 provider=sso.provider_name(settings=request.app.state.settings))
    if errors:
        return _person_form(request, values=values, errors=errors, status_code=422)
    address = client_address(request)
    try:
        person, password = people_admin.add_person(session=session, actor=user, data=data,
                                                   start_with=people_admin.StartWith(start_with), address=address)
        link = None
        if password is None:
            link = setup_links.link_address(settings=request.app.state.settings, token=setup_links.create_link(
                session=session, actor=user, user=person, settings=request.app.state.settings, address=address))
        session.commit()
    except IntegrityError:  # another admin took the username or email between the check and the save
        session.rollback()
        return _person_form(request, values=values, errors=_taken(session, display_name, username, email, role),
                            status_code=422)
    return _first_sign_in_page(request, session, person, password=password, link=link)


def _taken(session, display_name: str, username: str, email: str, role: str, editing: User | None = None
           ) -> dict[str, str]:
    """The messages for a save refused by the unique usernames and emails, checked again now that it is refused."""
    errors = people_admin.parse_person(session=session, display_name=display_name, username=username, email=email,
                                       role=role, editing=editing).errors
    return errors or {"username": _("Someone else saved this username or email just now: choose another.")}


def _first_sign_in_page(request: Request, session, person: User, *, password: str | None, link: str | None) -> Response:
    settings = request.app.state.settings
    emailed = False
    if link and person.email and settings.email_enabled:
        school = people.school_of(session=session, user=person)
        try:
            setup_links.email_link(settings=settings, user=person, school_name=school.name, address=link)
            emailed = True
        except (OSError, smtplib.SMTPException):
            logger.warning("could not email the setup link for user %s", person.id, exc_info=True)
    context = {"person": person, "password": password, "link": link, "emailed": emailed,
               "school": people.school_of(session=session, user=person), "folio_address": settings.base_url}
    # A password or a link that signs someone in is on this page: no browser or proxy may keep a copy.
    return render(request, "admin/person_created.html", context, headers={"Cache-Control": "no-store"})


@router.get("/admin/people/{user_id}")
def edit_person(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """One person's account: names, username, email, role, status, and what an admin can do with it."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    values = {"display_name": person.display_name, "username": person.username, "email": person.email or "",
              "role": person.role.value}
    return _person_form(request, values=values, errors={}, person=person, **_person_extras(request, session, person))


def _person_extras(request: Request, session, person: User) -> dict:
    settings = request.app.state.settings
    return {"class_names": people_admin.class_names_of(session=session, user=person),
            "deletable_on": leavers.deletable_on(student=person, settings=settings),
            "handovers": leavers.handovers(session=session, student=person),
            "job_title": job_pages.job_title, "status_label": job_pages.status_label,
            "is_downloadable": job_pages.is_downloadable}


@router.post("/admin/people/{user_id}")
def update_person(
    request: Request, user_id: PathId, user: AdminUser, session: SessionDep,
    display_name: Annotated[str, Form(max_length=500)] = "", username: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=500)] = "", role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Save the account's names, username, email and role."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    data = people_admin.parse_person(session=session, display_name=display_name, username=username, email=email,
                                     role=role, editing=person)
    errors = data.errors
    if not errors:
        errors = people_admin.update_person(session=session, actor=user, target=person, data=data,
                                            address=client_address(request))
    if not errors:
        try:
            session.commit()
        except IntegrityError:  # another admin took the username or email between the check and the save
            session.rollback()
            errors = _taken(session, display_name, username, email, role, editing=person)
    if errors:
        session.rollback()
        values = {"display_name": display_name, "username": username, "email": email, "role": role}
        return _person_form(request, values=values, errors=errors, person=person, status_code=422,
                            **_person_extras(request, session, person))
    return redirect_with(request, f"/admin/people/{person.id}",
                         _("Saved %(name)s's account.", name=person.display_name))


@router.post("/admin/people/{user_id}/deactivate")
def deactivate_person(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Switch the account off: no more signing in, signed out everywhere, gone from lists; everything is kept."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    problem = people_admin.deactivate(session=session, actor=user, target=person, address=client_address(request))
    response = RedirectResponse(f"/admin/people/{person.id}", status_code=303)
    if problem:
        flash(request, response, problem, "error")
        return response
    session.commit()
    flash(request, response, _("%(name)s's account is switched off. Their work is kept.", name=person.display_name),
          "success")
    return response


@router.post("/admin/people/{user_id}/reactivate")
def reactivate_person(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Switch the account back on."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    people_admin.reactivate(session=session, actor=user, target=person, address=client_address(request))
    session.commit()
    return redirect_with(request, f"/admin/people/{person.id}",
                         _("%(name)s can sign in again.", name=person.display_name))


@router.post("/admin/people/{user_id}/setup-link")
def new_setup_link(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """A new setup link for the person (any older one stops working), emailed or shown to print."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    if not person.is_active:
        return redirect_with(request, f"/admin/people/{person.id}", _("Switch the account on first."), "error")
    settings = request.app.state.settings
    token = setup_links.create_link(session=session, actor=user, user=person, settings=settings,
                                    address=client_address(request))
    session.commit()
    return _first_sign_in_page(request, session, person, password=None,
                               link=setup_links.link_address(settings=settings, token=token))


@router.post("/admin/people/{user_id}/archive")
def hand_over_archive(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Start the student's portfolio archive for the admin to download and hand over."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    if person.role is not Role.student:
        raise HTTPException(status_code=409)
    job = leavers.start_handover(session=session, actor=user, student=person, address=client_address(request))
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/admin/people/{user_id}/delete")
def confirm_delete_person(request: Request, user_id: PathId, user: AdminUser, session: SessionDep) -> Response:
    """Ask before deleting a leaver's account and everything in it, for good."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    problem = leavers.deletion_problem(student=person, settings=request.app.state.settings)
    return render(request, "admin/delete_person.html", {"person": person, "problem": problem, "errors": {}})


@router.post("/admin/people/{user_id}/delete")
def delete_person(
    request: Request, user_id: PathId, user: AdminUser, session: SessionDep,
    confirm_username: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Delete the leaver's account, portfolio and files; the audit log keeps that it happened."""
    person = people_admin.person_for_admin(session=session, admin=user, user_id=user_id)
    settings = request.app.state.settings
    problem = leavers.deletion_problem(student=person, settings=settings)
    if problem:
        return render(request, "admin/delete_person.html", {"person": person, "problem": problem, "errors": {}},
                      status_code=409)
    if accounts.normalise_identifier(confirm_username) != person.username:
        errors = {"confirm_username": _("Type the username, %(username)s, to confirm.", username=person.username)}
        return render(request, "admin/delete_person.html", {"person": person, "problem": None, "errors": errors},
                      status_code=422)
    name = person.display_name
    files = leavers.delete_student(session=session, actor=user, student=person, settings=settings,
                                   address=client_address(request))
    session.commit()
    leavers.remove_stored_files(settings=settings, files=files)
    return redirect_with(request, "/admin/people?status=inactive",
                         _("%(name)s's account and portfolio are deleted.", name=name))


@router.get("/admin/audit")
def list_audit_events(
    request: Request, user: AdminUser, session: SessionDep, event: str = "", person: str = "", since: str = "",
    until: str = "", page: int = 1,
) -> Response:
    """The school's audit log, newest first, a page at a time, by kind of event, person and dates."""
    filters = audit_views.parse_filters(session=session, school_id=user.school_id, event=event[:40],
                                        person=person[:254], since=since[:20], until=until[:20])
    errors = filters.errors
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


def _no_password_to_reset(request: Request, target: User, status_code: int) -> Response:
    provider = sso.provider_name(settings=request.app.state.settings)
    message = _("%(name)s signs in with %(provider)s: passwords aren't used for their role, so there is none to "
                "reset.", name=target.display_name, provider=provider)
    return password_off_page(request, message, sign_in_button=False, status_code=status_code)


@router.get("/people/{user_id}/password")
def reset_password_form(request: Request, user_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """The form an admin or teacher uses to give someone a new password."""
    target = _resettable(session, user, user_id)
    if not request.app.state.settings.password_login_allowed(target.role):
        return _no_password_to_reset(request, target, status_code=200)
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
    if not request.app.state.settings.password_login_allowed(target.role):
        return _no_password_to_reset(request, target, status_code=409)
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
