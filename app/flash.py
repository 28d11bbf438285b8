"""One-time messages shown on the next page ("Password changed."), kept in a signed cookie."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "folio_flash"
CATEGORIES = ("info", "success", "error")


def _serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt="folio.flash")


def _read(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return []
    try:
        data = _serializer(request).loads(raw)
    except BadSignature:
        return []
    return [m for m in data if isinstance(m, dict) and m.get("category") in CATEGORIES][:5]


def flash(request: Request, response: Response, message: str, category: str = "info") -> None:
    """Queue `message` (already translated) for the next page this browser renders."""
    messages = _read(request) + [{"category": category, "message": message}]
    response.set_cookie(
        COOKIE_NAME,
        _serializer(request).dumps(messages[-5:]),
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
        path="/",
    )


def redirect_with(request: Request, url: str, message: str, category: str = "success") -> RedirectResponse:
    """A 303 to `url` that shows `message` (already translated) on the page it leads to."""
    response = RedirectResponse(url, status_code=303)
    flash(request, response, message, category)
    return response


def pop_flashes(request: Request) -> list[dict[str, str]]:
    """The queued messages; the response that shows them clears the cookie."""
    messages = _read(request)
    if messages:
        request.state.clear_flash_cookie = True
    return messages
