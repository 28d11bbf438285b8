"""Signing in and out."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import (
    SESSION_COOKIE,
    MaybeUser,
    clear_session_cookie,
    end_session,
    set_session_cookie,
    start_session,
)
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.navigation import home_path
from app.security import client_address
from app.services.accounts import accounts
from app.services.accounts import setup_links
from app.services.accounts import sso
from app.services.accounts.accounts import SignInProblem
from app.templating import render

router = APIRouter()


def safe_next(value: str | None) -> str | None:
    # Only paths on this site: "//evil.example" or "https://..." would be an open redirect.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def signed_in(request: Request, session, user, destination: str) -> Response:
    """Start a session for `user` in this browser (ending the one it had) and go to `destination`: every way of
    signing in ends here."""
    end_session(session=session, token=request.cookies.get(SESSION_COOKIE))
    token = start_session(session=session, user=user, user_agent=request.headers.get("user-agent"))
    session.commit()
    response = RedirectResponse(destination, status_code=303)
    set_session_cookie(response, token, request.app.state.settings)
    return response


def _with_sso(request: Request, context: dict) -> dict:
    settings = request.app.state.settings
    provider = sso.provider_name(settings=settings) if settings.sso_enabled else None
    return context | {"sso_provider": provider}


@router.get("/login")
def login_form(request: Request, user: MaybeUser, next: str | None = None) -> Response:
    """The sign-in form (or straight home when already signed in)."""
    if user:
        return RedirectResponse(home_path(user), status_code=303)
    context = {"identifier": "", "next": safe_next(next) or "", "errors": {}}
    return render(request, "auth/login.html", _with_sso(request, context))


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    identifier: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the credentials; start a session and go home, or show what went wrong."""
    errors = accounts.check_sign_in(identifier=identifier, password=password).errors
    status_code, headers = 422, {}
    if not errors:
        settings = request.app.state.settings
        result = accounts.sign_in(
            session=session, identifier=identifier, password=password,
            address=client_address(request), settings=settings,
        )
        if result.user:
            return signed_in(request, session, result.user, safe_next(next) or home_path(result.user))
        if result.problem is SignInProblem.throttled:
            minutes = settings.login_window_minutes
            errors["form"] = _(
                "Too many unsuccessful attempts. For your safety, signing in is paused: "
                "please wait %(minutes)s minutes and try again, or ask your teacher for help.",
                minutes=minutes,
            )
            status_code, headers = 429, {"Retry-After": str(minutes * 60)}
        elif result.problem is SignInProblem.password_off:
            errors["form"] = _("Your account doesn't sign in with a password here: use \"Sign in with %(provider)s\".",
                               provider=sso.provider_name(settings=settings))
            status_code = 403
        else:
            errors["form"] = _("That username or email and password don't match. Check them and try again.")
            status_code = 401
    context = {"identifier": identifier, "next": safe_next(next) or "", "errors": errors}
    return render(request, "auth/login.html", _with_sso(request, context), status_code=status_code, headers=headers)


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    end_session(session=session, token=request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, request.app.state.settings)
    flash(request, response, _("You have signed out."), "success")
    return response


# --- a new person's setup link -------------------------------------------------------------------------------

NO_STORE = {"Cache-Control": "no-store"}


def _setup_page(request: Request, person, token: str, errors: dict, status_code: int = 200) -> Response:
    context = {"person": person, "token": token, "errors": errors}
    return render(request, "auth/setup.html", context, status_code=status_code, headers=NO_STORE)


def password_off_page(request: Request, message: str, *, sign_in_button: bool, status_code: int) -> Response:
    """The page saying a password is not how this person signs in (their role uses single sign-on)."""
    context = _with_sso(request, {"message": message, "sign_in_button": sign_in_button})
    return render(request, "auth/password_off.html", context, status_code=status_code, headers=NO_STORE)


def _setup_without_password(request: Request, status_code: int) -> Response:
    provider = sso.provider_name(settings=request.app.state.settings)
    message = _("Your account signs in with %(provider)s, so there is no Folio password to choose.", provider=provider)
    return password_off_page(request, message, sign_in_button=True, status_code=status_code)


@router.get("/setup/{token}")
def setup_form(request: Request, token: str, session: SessionDep) -> Response:
    """Where a new person chooses their password, from the link an admin gave them (used, expired: a plain page)."""
    person = setup_links.user_for_token(session=session, token=token)
    if person and not request.app.state.settings.password_login_allowed(person.role):
        return _setup_without_password(request, status_code=200)
    return _setup_page(request, person, token, {}, status_code=200 if person else 404)


@router.post("/setup/{token}")
def setup_account(
    request: Request, token: str, session: SessionDep,
    password: Annotated[str, Form(max_length=1024)] = "", confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Set the password, use the link up, and sign the person in."""
    person = setup_links.user_for_token(session=session, token=token)
    if person is None:
        return _setup_page(request, None, token, {}, status_code=404)
    if not request.app.state.settings.password_login_allowed(person.role):
        return _setup_without_password(request, status_code=409)
    errors = setup_links.choose_password(session=session, user=person, password=password, confirm=confirm,
                                         address=client_address(request))
    if errors:
        session.rollback()
        return _setup_page(request, person, token, errors, status_code=422)
    end_session(session=session, token=request.cookies.get(SESSION_COOKIE))
    session_token = start_session(session=session, user=person, user_agent=request.headers.get("user-agent"))
    session.commit()
    response = RedirectResponse(home_path(person), status_code=303)
    set_session_cookie(response, session_token, request.app.state.settings)
    flash(request, response, _("Welcome to Folio, %(name)s! Your password is set.", name=person.display_name), "success")
    return response
