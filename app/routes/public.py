"""Pages anyone may reach: the front door and the language switch (the health check is app.health)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.auth import MaybeUser
from app.db import SessionDep
from app.i18n import LOCALE_COOKIE, available_locales
from app.navigation import home_path

router = APIRouter()


@router.get("/")
def index(user: MaybeUser) -> RedirectResponse:
    """Send visitors to their home page, or to sign in."""
    return RedirectResponse(home_path(user) if user else "/login", status_code=303)


@router.post("/language")
def choose_language(
    request: Request, user: MaybeUser, session: SessionDep,
    locale: Annotated[str, Form(max_length=16)] = "", next: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    """Switch the pages' language: saved on the account when signed in, and in a cookie for everyone."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if locale not in available_locales():
        return response
    if user is not None:
        user.locale = locale
        session.add(user)
        session.commit()
    settings = request.app.state.settings
    response.set_cookie(LOCALE_COOKIE, locale, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/")
    return response
