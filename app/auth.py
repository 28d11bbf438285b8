"""Passwords, server-side sessions, and the dependencies that say who is asking: CurrentUser, MaybeUser, require_role."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, HTTPException, Request, Response
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, delete, select

from app import i18n
from app.config import Settings
from app.db import SessionDep, read_in_thread
from app.models import Role, User, UserSession
from app.models.base import utcnow
from app.services.competencies.translations import read_content_in

SESSION_COOKIE = "folio_session"
# Writing last_seen_at on every request would turn every page view into a write.
_TOUCH_EVERY = timedelta(minutes=1)
_hasher = PasswordHasher()


# --- passwords ---------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises for a bad or foreign hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    """Spend the time of a real check, so an unknown username answers as slowly as a known one."""
    verify_password(_dummy_hash(), password)


# --- sessions ----------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, session: Session, user: User, user_agent: str | None) -> str:
    """Record a new signed-in browser for `user`; returns the token for its cookie."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, user_agent=(user_agent or "")[:255]))
    return token


def end_session(*, session: Session, token: str | None) -> None:
    """Forget one signed-in browser."""
    if token:
        session.exec(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def end_other_sessions(*, session: Session, user_id: int, keep_token: str | None = None) -> None:
    """Sign `user_id` out everywhere (but the browser holding `keep_token`)."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_token:
        statement = statement.where(UserSession.token_hash != _token_hash(keep_token))
    session.exec(statement)


def user_for_token(*, session: Session, token: str | None, idle_minutes: int, touch: bool = True) -> User | None:
    """The active user signed in with `token`, or None; an idle session is ended here (`touch=False`: only read)."""
    if not token:
        return None
    row = session.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    now = utcnow()
    if now - user_session.last_seen_at > timedelta(minutes=idle_minutes) or not user.is_active:
        if not touch:
            return None
        session.delete(user_session)
        session.commit()
        return None
    if touch and now - user_session.last_seen_at > _TOUCH_EVERY:
        user_session.last_seen_at = now
        session.add(user_session)
        try:
            session.commit()
        except OperationalError:  # the database is busy (a writer holds it): a page view needn't wait for this
            session.rollback()
    return user


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    # No Max-Age: closing the browser (a shared Chromebook) ends the session too.
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/"
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies)


# --- request context and guards ----------------------------------------------------------------


class LoginRequired(Exception):
    """Raised for a protected page without a signed-in user; answered with a redirect to /login."""


class PasswordChangeRequired(Exception):
    """Raised when an admin or teacher reset the password and asked for a new one at next sign-in."""


def _apply_context(request: Request, user: User | None, session: Session) -> None:
    settings: Settings = request.app.state.settings
    request.state.user = user
    # A signed-in user's saved choice wins; a visitor's choice lives in a cookie (the switcher in the footer).
    cookie_locale = request.cookies.get(i18n.LOCALE_COOKIE)
    locale = i18n.choose_locale(
        user_locale=(user.locale if user else None) or cookie_locale,
        accept_language=request.headers.get("accept-language"),
        available=i18n.available_locales(),
        default=settings.default_locale,
    )
    request.state.locale = locale
    i18n.set_locale(locale)
    read_content_in(session=session, user=user, locale=locale, original=settings.default_locale)


def _lookup_user(request: Request, session: Session) -> User | None:
    return user_for_token(
        session=session,
        token=request.cookies.get(SESSION_COOKIE),
        idle_minutes=request.app.state.settings.session_idle_minutes,
    )


def _refuse_nul_characters(request: Request) -> None:
    # PostgreSQL can't store U+0000 in text (SQLite can) and nobody types one: a form or query carrying it is refused
    # the same way on both databases, before a route runs. The form is the one FastAPI already read, if any (routes
    # that stream their uploads read no form here).
    form = getattr(request, "_form", None)
    fields = list(form.multi_items()) if form is not None else []
    if any(isinstance(value, str) and "\x00" in value for _name, value in [*fields, *request.query_params.multi_items()]):
        raise HTTPException(status_code=400)


async def load_request_context(request: Request, session: SessionDep) -> None:
    """Who is asking, and in which language (runs for every route, public ones included)."""
    _refuse_nul_characters(request)
    if not hasattr(request.state, "user"):
        # The route runs in another worker thread, perhaps after waiting for one: read_in_thread gives the connection
        # back meanwhile, or it could be the one every busy thread is waiting for.
        _apply_context(request, await read_in_thread(session, _lookup_user, request, session), session)
    else:
        i18n.set_locale(request.state.locale)


def resolve_request_context(request: Request, session: Session) -> None:
    """The same as load_request_context, for error pages rendered outside any route, through the error page's
    session (app.db.error_page_session)."""
    if hasattr(request.state, "user"):
        i18n.set_locale(request.state.locale)
        return
    try:
        user = _lookup_user(request, session)
    except Exception:  # the error page must render even when the database is down
        user = None
    _apply_context(request, user, session)


def restore_request_context(request: Request) -> None:
    """The language of a request whose user a route already looked up (for responses made in exception handlers)."""
    if hasattr(request.state, "locale"):
        i18n.set_locale(request.state.locale)


PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/logout"})


async def optional_user(request: Request, _: None = Depends(load_request_context)) -> User | None:
    return request.state.user


async def require_user(request: Request, _: None = Depends(load_request_context)) -> User:
    """The signed-in user, or a redirect to the sign-in page."""
    user: User | None = request.state.user
    if user is None:
        raise LoginRequired()
    # Someone whose role signs in only with single sign-on has no password to change.
    if (user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS
            and request.app.state.settings.password_login_allowed(user.role)):
        raise PasswordChangeRequired()
    return user


CurrentUser = Annotated[User, Depends(require_user)]
MaybeUser = Annotated[User | None, Depends(optional_user)]


def require_role(*roles: Role):
    """A dependency that lets only users with one of `roles` through (others get 403)."""

    async def guard(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status_code=403)
        return user

    return guard


StudentUser = Annotated[User, Depends(require_role(Role.student))]
TeacherUser = Annotated[User, Depends(require_role(Role.teacher))]
GuardianUser = Annotated[User, Depends(require_role(Role.guardian))]
AdminUser = Annotated[User, Depends(require_role(Role.admin))]
StaffUser = Annotated[User, Depends(require_role(Role.teacher, Role.admin))]
