"""Friendly error pages (403, 404, 500...) and the redirects for signing in."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import escape
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.access import NotAllowed, NotFound
from app.auth import LoginRequired, PasswordChangeRequired, resolve_request_context, restore_request_context
from app.db import error_page_session
from app.faults import Fault, fault_of
from app.flash import flash
from app.i18n import _
from app.security import security_headers
from app.templating import render, wants_fragment

log = logging.getLogger("folio")


def _error_texts(status_code: int) -> tuple[str, str]:
    texts = {
        400: (_("That request didn't make sense"), _("Something in the form was missing or malformed. Go back and try again.")),
        403: (_("This page isn't for your account"), _("You're signed in, but this part of Folio belongs to another role.")),
        404: (_("We couldn't find that page"), _("It may have been moved or deleted, or the address may be mistyped.")),
        405: (_("That didn't work"), _("This page can't be used that way. Go back and try again.")),
        413: (_("That was too large"), _("Folio couldn't take something that big. Try a smaller file.")),
        500: (_("Something went wrong on our side"), _("The problem has been logged. Please try again in a moment.")),
        503: (_("Folio is unavailable"), _("Folio can't reach its database right now. Please try again in a moment.")),
        507: (_("The school's server is out of space"), _("Tell your teacher or the school's Folio administrator.")),
    }
    return texts.get(status_code, (_("Something went wrong"), _("Please go back and try again.")))


def _page_context(request: Request, session) -> None:
    """Who is asking, through the error page's session. A route's user was left behind by its session, rolled back
    (expired) and closed: it is loaded again here, or the header can't show it."""
    user = getattr(request.state, "user", None)
    if user is not None:
        try:
            request.state.user = session.merge(user)
        except Exception:  # the database is down: the page is shown signed out rather than not at all
            request.state.user = None
    resolve_request_context(request, session)


async def render_error(request: Request, status_code: int) -> Response:
    """The error page for `status_code`, with navigation when someone is signed in."""

    def page() -> Response:
        # The route's session (if a route ran) is closed by now: the page's header is loaded through its own one.
        with error_page_session(request) as session:
            _page_context(request, session)
            title, message = _error_texts(status_code)
            return render(
                request, "errors/error.html", {"status_code": status_code, "title": title, "message": message},
                status_code=status_code,
            )

    return await run_in_threadpool(page)


# Form fields that carry no typing (which version, which button, which ids): sent again unseen on "Save again".
_UNTYPED_FIELDS = {"version", "action", "direction", "guided"}


async def render_kept_form(request: Request, fault: Fault) -> Response:
    """A form route failed for a fault (busy database, full disk) before it could show its own form again: answer with
    what was typed, in a form that sends it all again to the same address. Nothing was saved (the route's session was
    rolled back when it closed)."""
    form = request._form  # what FastAPI parsed for the route (None: the route read its body itself)
    fields = [(name, value) for name, value in (form.multi_items() if form is not None else [])]
    had_files = any(isinstance(value, UploadFile) and value.filename for _name, value in fields)
    texts = [(name, value) for name, value in fields if isinstance(value, str)]
    shown = [(name, value) for name, value in texts
             if value.strip() and name not in _UNTYPED_FIELDS and not name.endswith(("_id", "_ids"))
             and not value.isdigit() and value not in ("true", "false", "on")]
    hidden = [(name, value) for name, value in texts if (name, value) not in shown]
    if wants_fragment(request):
        # A fragment beside the element that asked; htmx swaps 503/507 in (base.html's htmx-config).
        html = f'<div class="alert alert--error" role="alert"><p>{escape(fault.message)}</p></div>'
        return HTMLResponse(html, status_code=fault.status, headers={"HX-Reswap": "beforebegin"})

    def page() -> Response:
        with error_page_session(request) as session:
            _page_context(request, session)
            action = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            context = {"fault": fault, "action": action, "shown": shown, "hidden": hidden, "had_files": had_files}
            return render(request, "errors/kept.html", context, status_code=fault.status)

    return await run_in_threadpool(page)


def _safe_next(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(target, safe="/?=&")


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into pages or redirects."""

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        target = "/login"
        if request.method == "GET" and request.url.path not in ("/", "/login"):
            target += f"?next={_safe_next(request)}"
        if wants_fragment(request):
            # HTMX would swap the login page into a fragment; ask it to navigate instead.
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, _exc: PasswordChangeRequired) -> Response:
        restore_request_context(request)
        response = RedirectResponse("/account/password", status_code=303)
        flash(request, response, _("Please choose a new password before you continue."), "info")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        response = await render_error(request, exc.status_code)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(NotFound)
    async def not_found(request: Request, _exc: NotFound) -> Response:
        return await render_error(request, 404)

    @app.exception_handler(NotAllowed)
    async def not_allowed(request: Request, _exc: NotAllowed) -> Response:
        return await render_error(request, 403)

    @app.exception_handler(RequestValidationError)
    async def malformed_request(request: Request, exc: RequestValidationError) -> Response:
        # An id in the path or query that no row could have (see app.routes.ids) names nothing: 404, as for a
        # missing row, so absurd ids are never a 500 and never tell anything apart. A malformed form is a 400.
        def names_an_id(loc: tuple) -> bool:
            return loc[:1] == ("path",) or (loc[:1] == ("query",) and str(loc[1:2][0] if loc[1:] else "").endswith("_id"))

        if all(names_an_id(tuple(error.get("loc", ()))) for error in exc.errors()):
            return await render_error(request, 404)
        return await render_error(request, 400)

    async def fault_or_server_error(request: Request, exc: Exception) -> Response:
        # Registered for the exception classes a fault comes as, so this runs inside the route's own handling:
        # `request` is the route's, with the form it parsed; the route's session is already rolled back and closed.
        fault = fault_of(exc)
        if fault is None:
            return await server_error(request, exc)
        log.warning("%s %s refused (%s): %s", request.method, request.url.path, fault.status, exc)
        if request.method != "POST":
            return await render_error(request, fault.status)
        return await render_kept_form(request, fault)

    app.add_exception_handler(DBAPIError, fault_or_server_error)
    app.add_exception_handler(OSError, fault_or_server_error)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        try:
            response = await render_error(request, 500)
        except Exception:  # the error page itself failed: answer plainly
            response = Response("Internal Server Error", status_code=500, media_type="text/plain")
        # This response is produced outside the middleware stack, so it needs its headers here.
        response.headers.update(security_headers(hsts=request.app.state.settings.secure_cookies))
        return response
