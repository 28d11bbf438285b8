"""The family digest: its preview (the next email as it would be sent now) for a signed-in guardian, and the
settings page each digest links to, which works without signing in (the link's signed token is the key)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from app.auth import GuardianUser, require_user
from app.db import SessionDep
from app.services.family import digests
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])
public_router = APIRouter()

# The email's HTML keeps its inline styles (as mail clients need) and is shown on the preview page in a frame of
# Folio's own: only this response allows inline styles, and only Folio's pages may frame it.
EMAIL_FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
                               "base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
    "Cache-Control": "private, no-store",
}


@router.get("/family/digest")
def preview_digest(request: Request, user: GuardianUser, session: SessionDep) -> Response:
    """The guardian's next digest: when it comes, and the email itself (both parts) as it would be sent now."""
    settings = request.app.state.settings
    preview = digests.preview_digest(session=session, settings=settings, guardian=user)
    labels = {value: label for value, label, _hint in digests.frequency_options()}
    context = {
        "preview": preview,
        "digest": preview.digest,
        "frequency_label": labels.get(preview.frequency, preview.frequency),
        "email_enabled": settings.email_enabled,
    }
    return render(request, "digests/preview.html", context)


@router.get("/family/digest/email")
def preview_digest_email(request: Request, user: GuardianUser, session: SessionDep) -> Response:
    """The HTML part of the guardian's next digest, exactly as the email has it (photos from Folio, not cid:)."""
    preview = digests.preview_digest(session=session, settings=request.app.state.settings, guardian=user)
    return HTMLResponse(preview.html, headers=EMAIL_FRAME_HEADERS)


def _settings_page(request: Request, session, token: str, *, saved: bool = False, invalid: bool = False) -> Response:
    settings = request.app.state.settings
    guardian = digests.guardian_for_token(session=session, settings=settings, token=token)
    if guardian is None:
        return render(request, "digests/settings.html", {"guardian": None}, status_code=404,
                      headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})
    with digests.locale_of(digests.user_locale(settings=settings, user=guardian)):
        return render(request, "digests/settings.html", {
            "guardian": guardian, "token": token, "saved": saved, "invalid": invalid,
            "frequencies": digests.frequency_options(), "current": guardian.digest_frequency,
        }, status_code=400 if invalid else 200, headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


@public_router.get("/digest/settings/{token}")
def digest_settings(request: Request, token: str, session: SessionDep) -> Response:
    """How often this family member's digest comes, changeable without signing in (the token is the key)."""
    return _settings_page(request, session, token)


@public_router.post("/digest/settings/{token}")
def save_digest_settings(
    request: Request, token: str, session: SessionDep,
    frequency: Annotated[str, Form(max_length=20)] = "",
    list_unsubscribe: Annotated[str, Form(alias="List-Unsubscribe", max_length=20)] = "",
) -> Response:
    """Save the chosen frequency; a mail app's one-click unsubscribe (RFC 8058) turns digests off."""
    settings = request.app.state.settings
    guardian = digests.guardian_for_token(session=session, settings=settings, token=token)
    if guardian is None:
        return _settings_page(request, session, token)
    if list_unsubscribe == "One-Click":
        frequency = "off"
    if not digests.set_frequency(session=session, guardian=guardian, frequency=frequency):
        return _settings_page(request, session, token, invalid=True)
    return _settings_page(request, session, token, saved=True)
