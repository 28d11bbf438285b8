"""Who an API request acts for: a bearer token only (never the session cookie, so no other site can make a signed-in
browser write through the API), its owner's language, the rate limit, and the write scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from app import i18n
from app.api import limits
from app.api.problems import ApiProblem
from app.api.tokens import Caller, caller_for_token
from app.db import SessionDep, read_in_thread
from app.i18n import _
from app.models import Role
from app.services.competencies.translations import read_content_in

BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="folio"'}


def _bearer(request: Request) -> str | None:
    scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _use_owner_language(request: Request, session: Session, caller: Caller | None) -> None:
    settings = request.app.state.settings
    locale = i18n.choose_locale(
        user_locale=caller.user.locale if caller else None, accept_language=request.headers.get("accept-language"),
        available=i18n.available_locales(), default=settings.default_locale,
    )
    request.state.locale = locale
    i18n.set_locale(locale)
    # Competencies and scales read in the owner's language where the school translated them, as on the pages.
    read_content_in(session=session, user=caller.user if caller else None, locale=locale,
                    original=settings.default_locale)


def _identify(*, session: Session, token: str, per_minute: int) -> tuple[Caller | None, int]:
    """The token's caller and the seconds it must wait (0: none), counted in the database (app.api.limits)."""
    caller = caller_for_token(session=session, token=token)
    wait = limits.take(session=session, token_id=caller.token.id, per_minute=per_minute) if caller else 0
    return caller, wait


async def require_caller(request: Request, session: SessionDep) -> Caller:
    """The token's owner, or 401 (no token, or one unknown, expired, revoked, or of a switched-off account); 429 past
    the token's rate."""
    token = _bearer(request)
    per_minute = request.app.state.settings.api_rate_per_minute
    caller, wait = await read_in_thread(session, _identify, session=session, token=token,
                                        per_minute=per_minute) if token else (None, 0)
    _use_owner_language(request, session, caller)
    if caller is None:
        detail = (_("Send a personal access token as \"Authorization: Bearer <token>\" (make one on your Account page).")
                  if token is None else _("This token is unknown, expired or revoked, or its account is switched off."))
        raise ApiProblem(401, detail, headers=BEARER_CHALLENGE)
    if wait:
        raise ApiProblem(429, _("This token made too many requests: wait %(seconds)s seconds.", seconds=wait),
                         headers={"Retry-After": str(wait)})
    settings = request.app.state.settings
    # As on the HTML side: a password an admin reset must be changed before anything else is done.
    if caller.user.must_change_password and settings.password_login_allowed(caller.user.role):
        raise ApiProblem(403, _("Sign in to Folio and choose a new password first."))
    request.state.user = caller.user
    return caller


ApiCaller = Annotated[Caller, Depends(require_caller)]


def require_write(caller: ApiCaller) -> Caller:
    """A caller whose token may write; a read-only token gets 403."""
    if not caller.can_write:
        raise ApiProblem(403, _("This token may only read: make one that may read and write."))
    return caller


WritingCaller = Annotated[Caller, Depends(require_write)]


def require_role(caller: Caller, *roles: Role) -> None:
    """403 unless the token's owner has one of `roles` (the HTML pages' rule for the same things)."""
    if caller.user.role not in roles:
        raise ApiProblem(403, _("This is for another role's account."))
