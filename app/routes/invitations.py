"""Redeeming a family invitation (public: listed in PUBLIC_PATHS): a new family account, or one the family
already has, is linked to the child the code was made for, then signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import SESSION_COOKIE, MaybeUser, end_session, set_session_cookie, start_session
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.models import Role, User
from app.security import client_address
from app.services.accounts import accounts
from app.services.family import invitations as service
from app.services.accounts.accounts import SignInProblem
from app.templating import render

router = APIRouter()

Short = Annotated[str, Form(max_length=254)]
Secret = Annotated[str, Form(max_length=1024)]
ACTIONS = ("create", "existing", "link")


def _page(request: Request, user: User | None, *, values: dict | None = None, errors: dict | None = None,
          status_code: int = 200, headers: dict | None = None) -> Response:
    context = {"values": {"code": "", "display_name": "", "username": "", "email": "", "identifier": "", **(values or {})},
               "errors": errors or {}, "signed_in": user, "is_guardian": user is not None and user.role is Role.guardian}
    return render(request, "invitations/redeem.html", context, status_code=status_code, headers=headers)


@router.get("/invite")
def invite_form(request: Request, user: MaybeUser, code: str = "") -> Response:
    """The code field and two ways on: a new family account, or one the family already has."""
    return _page(request, user, values={"code": service.format_code(code[:40]) if code else ""})


@router.post("/invite")
def redeem(
    request: Request, session: SessionDep, user: MaybeUser, code: Short = "", action: Short = "",
    display_name: Short = "", username: Short = "", email: Short = "", password: Secret = "", confirm: Secret = "",
    identifier: Short = "", current_password: Secret = "",
) -> Response:
    """Check the code, make or check the account, link it to the child and sign in; or say what is wrong (nothing changed)."""
    settings = request.app.state.settings
    address = client_address(request)
    values = {"code": code.strip(), "display_name": display_name, "username": username, "email": email,
              "identifier": identifier}
    errors: dict[str, str] = {}
    if user is not None and user.role is not Role.guardian:
        errors["form"] = _("You are signed in as %(name)s, which isn't a family account. Sign out first, then use the "
                           "invitation.", name=user.display_name)
        return _page(request, user, values=values, errors=errors, status_code=422)
    if action not in ACTIONS or (action == "link") != (user is not None):
        action = "link" if user is not None else "create"
    if service.is_throttled(session=session, user=user, address=address, settings=settings):
        minutes = settings.login_window_minutes
        errors["code"] = _("Too many codes that didn't work. For your safety, please wait %(minutes)s minutes and try "
                           "again, or ask your child's teacher for help.", minutes=minutes)
        return _page(request, user, values=values, errors=errors, status_code=429,
                     headers={"Retry-After": str(minutes * 60)})
    invitation, problem = service.invitation_for_code(session=session, code=code)
    if problem:
        # The code first, alone: checking the account fields too would tell anyone whether a username is taken.
        service.record_wrong_code(session=session, user=user, address=address, settings=settings)
        errors["code"] = problem
        return _page(request, user, values=values, errors=errors, status_code=422)
    new_account = None
    if action == "create":
        new_account = service.check_new_account(session=session, display_name=display_name, username=username,
                                                email=email, password=password, confirm=confirm)
        errors.update(new_account.errors)
    elif action == "existing":
        errors.update(accounts.check_sign_in(identifier=identifier, password=current_password,
                                             password_field="current_password").errors)
    if errors:
        session.rollback()
        return _page(request, user, values=values, errors=errors, status_code=422)

    guardian = user
    if action == "existing":
        result = accounts.sign_in(session=session, identifier=identifier, password=current_password, address=address,
                                  settings=settings)
        if result.problem is SignInProblem.throttled:
            minutes = settings.login_window_minutes
            errors["form"] = _("Too many unsuccessful attempts. For your safety, signing in is paused: please wait "
                               "%(minutes)s minutes and try again.", minutes=minutes)
            return _page(request, user, values=values, errors=errors, status_code=429,
                         headers={"Retry-After": str(minutes * 60)})
        if result.user is None:
            errors["current_password"] = _("That username or email and password don't match. Check them and try again.")
            return _page(request, user, values=values, errors=errors, status_code=422)
        if result.user.role is not Role.guardian:
            session.rollback()
            errors["identifier"] = _("That account isn't a family account, so it can't be linked. Create a family "
                                     "account instead.")
            return _page(request, user, values=values, errors=errors, status_code=422)
        guardian = result.user
    elif action == "create":
        guardian = service.create_family_account(session=session, school_id=invitation.school_id, data=new_account,
                                                 address=address)

    redeemed = service.redeem(session=session, invitation=invitation, guardian=guardian, address=address)
    if redeemed is None:
        session.rollback()
        errors["code"] = _("This invitation has already been used. Each code works once: ask your child's teacher "
                           "for a new one.")
        return _page(request, user, values=values, errors=errors, status_code=422)
    response = RedirectResponse("/family", status_code=303)
    if guardian is not user:
        end_session(session=session, token=request.cookies.get(SESSION_COOKIE))
        token = start_session(session=session, user=guardian, user_agent=request.headers.get("user-agent"))
        set_session_cookie(response, token, settings)
    session.commit()
    if redeemed.already_linked:
        message = _("Your account was already linked to %(name)s, so nothing needed to change.",
                    name=redeemed.student.display_name)
    else:
        message = _("Welcome! You can now follow what %(name)s shares with their family.", name=redeemed.student.display_name)
    flash(request, response, message, "success")
    return response
