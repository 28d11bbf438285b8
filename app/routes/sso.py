"""Signing in with the school's OpenID Connect provider: off to the provider, and back with a code.

Between the two, the browser keeps state, nonce and PKCE verifier in a short-lived signed cookie of its own, so a
callback can only finish the sign-in this browser started.
"""

import dataclasses
import logging

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.db import SessionDep
from app.i18n import _
from app.navigation import home_path
from app.routes.auth import safe_next, signed_in
from app.security import client_address
from app.services.accounts import oidc
from app.services.accounts import sso
from app.services.accounts.sso import SsoRefusal
from app.templating import render

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/sso")

PENDING_COOKIE = "folio_sso"
PENDING_SECONDS = 600  # long enough to type a password (and a second factor) at the provider
NO_STORE = {"Cache-Control": "no-store"}


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="folio.sso")


def _settings(request: Request):
    settings = request.app.state.settings
    if not settings.sso_enabled:
        raise HTTPException(status_code=404)
    return settings


def _pending(request: Request) -> oidc.PendingSignIn | None:
    raw = request.cookies.get(PENDING_COOKIE)
    if not raw:
        return None
    try:
        return oidc.PendingSignIn(**_serializer(request).loads(raw, max_age=PENDING_SECONDS))
    except (BadSignature, TypeError):
        return None


def _forget_pending(request: Request, response: Response) -> Response:
    response.delete_cookie(PENDING_COOKIE, path="/sso", httponly=True, samesite="lax",
                           secure=request.app.state.settings.secure_cookies)
    return response


def _refused(request: Request, title: str, message: str, status_code: int) -> Response:
    response = render(request, "auth/sso_refused.html", {"title": title, "message": message},
                      status_code=status_code, headers=NO_STORE)
    return _forget_pending(request, response)


def _did_not_complete(request: Request, provider: str) -> Response:
    return _refused(request, _("Signing in didn't complete"),
                    _("Signing in with %(provider)s didn't complete, or took too long. Go back to the sign-in page "
                      "and try again.", provider=provider), 400)


def _unreachable(request: Request, provider: str) -> Response:
    return _refused(request, _("Signing in didn't complete"),
                    _("Folio couldn't talk to %(provider)s just now. Try again in a few minutes.", provider=provider),
                    502)


@router.get("/start")
def start(request: Request, next: str | None = None) -> Response:
    """Send the browser to the provider, remembering (signed, in a cookie) what must come back with it."""
    settings = _settings(request)
    try:
        url, pending = oidc.authorization_request(settings=settings, next_path=safe_next(next) or "")
    except oidc.SsoError as exc:
        logger.warning("single sign-on could not start: %s", exc)
        return _unreachable(request, sso.provider_name(settings=settings))
    response = RedirectResponse(url, status_code=303, headers=NO_STORE)
    response.set_cookie(PENDING_COOKIE, _serializer(request).dumps(dataclasses.asdict(pending)),
                        max_age=PENDING_SECONDS, path="/sso", httponly=True, samesite="lax",
                        secure=settings.secure_cookies)
    return response


@router.get("/callback")
def callback(
    request: Request, session: SessionDep, state: str = "", code: str = "", error: str = "", iss: str = "",
) -> Response:
    """Back from the provider: check everything, then sign in exactly as a password would, or say why not."""
    settings = _settings(request)
    provider = sso.provider_name(settings=settings)
    address = client_address(request)
    pending = _pending(request)
    try:
        if pending is None:
            raise oidc.SsoError("no_pending_sign_in")
        if error:
            raise oidc.SsoError("provider_error", error[:100])
        claims = oidc.complete(settings=settings, pending=pending, state=state[:200], code=code[:2000],
                               issuer=iss[:500])
    except oidc.SsoError as exc:
        logger.info("single sign-on refused: %s", exc)
        sso.record_failure(session=session, reason=exc.reason, address=address)
        session.commit()
        if exc.reason == "provider_unreachable":
            return _unreachable(request, provider)
        return _did_not_complete(request, provider)
    outcome = sso.sign_in(session=session, claims=claims, settings=settings, address=address)
    if outcome.user is None:
        session.commit()  # the refusal's audit entry
        return _refusal_page(request, outcome, provider)
    response = signed_in(request, session, outcome.user, pending.next or home_path(outcome.user))
    return _forget_pending(request, response)


def _refusal_page(request: Request, outcome: sso.SsoOutcome, provider: str) -> Response:
    settings = request.app.state.settings
    if outcome.refusal is SsoRefusal.domain:
        message = _("Folio here accepts only accounts ending in %(domains)s, and you signed in to %(provider)s as "
                    "%(who)s. Sign out of that account at %(provider)s, then sign in with your school account.",
                    domains=", ".join(f"@{domain}" for domain in sorted(settings.oidc_domains)), provider=provider,
                    who=outcome.who or "?")
        return _refused(request, _("That account isn't from this school"), message, 403)
    if outcome.refusal is SsoRefusal.unverified:
        message = _("%(provider)s didn't confirm your email address, so Folio can't tell whether it is a school "
                    "account. Ask the school office for help.", provider=provider)
        return _refused(request, _("That account isn't from this school"), message, 403)
    if outcome.refusal is SsoRefusal.inactive:
        message = _("Your Folio account is switched off, so you can't sign in. If you think this is a mistake, ask "
                    "your teacher or the school office.")
        return _refused(request, _("Your account is switched off"), message, 403)
    message = _("There is no Folio account for %(who)s. Folio accounts are made by the school: ask your teacher or "
                "the school office to add you.", who=outcome.who or "?")
    return _refused(request, _("No Folio account for you yet"), message, 403)
