"""A user's own account: language and password."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import SESSION_COOKIE, CurrentUser, end_other_sessions, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _, available_locales
from app.navigation import home_path
from app.services import accounts
from app.templating import render

router = APIRouter(prefix="/account", dependencies=[Depends(require_user)])


@router.get("")
def show_account(request: Request, user: CurrentUser) -> Response:
    """The account page: who you are, your language, a link to change your password."""
    return render(request, "account/show.html", {"locales": available_locales(), "errors": {}})


@router.post("/language")
def update_language(
    request: Request, user: CurrentUser, session: SessionDep, locale: Annotated[str, Form(max_length=16)] = ""
) -> Response:
    """Remember the language the user chose ("" means: follow the browser)."""
    if locale and locale not in available_locales():
        errors = {"locale": _("Choose one of the languages in the list.")}
        return render(request, "account/show.html", {"locales": available_locales(), "errors": errors}, status_code=422)
    user.locale = locale or None
    session.add(user)
    session.commit()
    response = RedirectResponse("/account", status_code=303)
    flash(request, response, _("Your language setting is saved."), "success")
    return response


@router.get("/password")
def password_form(request: Request, user: CurrentUser) -> Response:
    """The change-password form."""
    return render(request, "account/password.html", {"errors": {}})


@router.post("/password")
def change_password(
    request: Request,
    user: CurrentUser,
    session: SessionDep,
    current_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    confirm_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Change the password; other browsers signed in as this user are signed out."""
    errors = accounts.change_password(
        session=session, user=user, current=current_password, new=new_password, confirm=confirm_password
    )
    if errors:
        session.rollback()
        return render(request, "account/password.html", {"errors": errors}, status_code=422)
    end_other_sessions(session=session, user_id=user.id, keep_token=request.cookies.get(SESSION_COOKIE))
    session.commit()
    response = RedirectResponse(home_path(user), status_code=303)
    flash(request, response, _("Your password has been changed. Other devices have been signed out."), "success")
    return response
