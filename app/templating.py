"""The Jinja environment, and render(): a whole page, or one named block of it for HTMX."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from app import dates, i18n, labels, navigation
from app.config import PROJECT_ROOT, Settings
from app.db import request_session
from app.flash import pop_flashes
from app.services.badges import imported as imported_badges

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
HTMX_FILE = "js/htmx-2.0.11.min.js"


@lru_cache(maxsize=None)
def _static_fingerprint(path: str) -> str:
    # Content hash in the URL, so a new release is never served from a stale browser cache.
    digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:10]
    return digest


def static_url(path: str) -> str:
    return f"/static/{path}?v={_static_fingerprint(path)}"


def _school_timezone(context) -> str | None:
    # Pages, emails and exports all render through the environment of their settings, which knows the zone.
    return context.environment.globals.get("school_timezone")


@pass_context
def _format_date(context, value) -> str:
    return dates.day(value, timezone=_school_timezone(context))


def _badge_validity(badge):
    return imported_badges.validity_of(badge=badge)


@pass_context
def _format_date_in_words(context, value) -> str:
    return dates.day(value, timezone=_school_timezone(context), in_words=True)


@pass_context
def _format_datetime(context, value) -> str:
    return dates.moment(value, timezone=_school_timezone(context))


@pass_context
def _markdown(context, text: str, file_url=None):
    # The offline site marks its pages: there, links that only work on the server are dropped. `file_url`: where a
    # page that isn't signed in (a secret link, a PDF) fetches the images a text shows.
    from app.services.portfolio.markdown import offline_markdown, render_markdown

    return offline_markdown(text) if context.get("offline_site") else render_markdown(text, file_url)


def _excerpt(text: str, limit: int = 200) -> str:
    from app.services.portfolio.markdown import plain_text

    return plain_text(text, limit)


def _viewer(context):
    return context.get("current_user")


# Words about who sees an item depend on who is reading: these read the viewer from the page (none in exports).
@pass_context
def _audience_label(context, audience) -> str:
    viewer = _viewer(context)
    return labels.audience_label(audience, viewer.role if viewer is not None else None)


@pass_context
def _audience_hint(context, audience) -> str:
    viewer = _viewer(context)
    return labels.audience_hint(audience, viewer.role if viewer is not None else None)


@pass_context
def _self_rating_label(context, owner_id: int | None) -> str:
    viewer = _viewer(context)
    return labels.self_rating_label(viewer_id=viewer.id if viewer is not None else None, owner_id=owner_id)


@pass_context
def _footer_note(context) -> str:
    viewer = _viewer(context)
    return labels.footer_note(viewer.role if viewer is not None else None)


def build_environment(
    templates_dir: Path = TEMPLATES_DIR, *, auto_reload: bool = False, timezone: str | None = None
) -> Environment:
    """A Jinja environment: autoescaped, strict about undefined names, gettext installed, dates in `timezone`.

    With auto_reload (development), every template a page uses, each include included, is checked against its
    file's time on every use; otherwise a template is compiled once per process and never looked at again."""
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        auto_reload=auto_reload,
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.raw_gettext, i18n.raw_ngettext, newstyle=True)
    env.globals.update(
        static_url=static_url,
        htmx_file=HTMX_FILE,
        language_name=i18n.language_name,
        available_locales=i18n.available_locales,
        nav_items=navigation.nav_items,
        role_label=labels.role_label,
        role_count_label=labels.role_count_label,
        audience_options=labels.audience_options,
        audience_label=_audience_label,
        audience_hint=_audience_hint,
        self_rating_label=_self_rating_label,
        footer_note=_footer_note,
        kind_label=labels.kind_label,
        media_label=labels.media_label,
        school_timezone=timezone,
        badge_validity=_badge_validity,
    )
    env.filters.update(filesize=labels.file_size, markdown=_markdown, excerpt=_excerpt)
    env.filters.update(date=_format_date, date_in_words=_format_date_in_words, datetime=_format_datetime)
    return env


_environments: OrderedDict[int, tuple[Settings, Environment]] = OrderedDict()
_environments_lock = threading.Lock()


def environment_for(settings: Settings) -> Environment:
    """The one Jinja environment of these settings, built on first use: the app's pages (app.state.templates),
    emails, the PDF and the offline site, with or without a request, all render through it."""
    with _environments_lock:
        held = _environments.get(id(settings))
        # The settings object is kept alongside, so its id can't be reused by another while the entry lives.
        if held is None or held[0] is not settings:
            env = build_environment(auto_reload=not settings.is_production, timezone=settings.timezone)
            held = _environments[id(settings)] = (settings, env)
        _environments.move_to_end(id(settings))
        # A process has one Settings; tests make many, and needn't keep every compiled template forever.
        while len(_environments) > 8:
            _environments.popitem(last=False)
        return held[1]


def _unread(request: Request, user) -> int:
    from app.services.moderation.notifications import unread_count

    # The request's own session: a second one here would hold a second connection while the first is held.
    return unread_count(session=request_session(request), user=user)


def wants_fragment(request: Request) -> bool:
    """True for an HTMX swap; false for htmx restoring history, which needs the whole page (it sends HX-Request too)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a template; on an HTMX request with `block`, only that block (same markup, no copy)."""
    env: Environment = request.app.state.templates
    template = env.get_template(name)
    partial = bool(block) and wants_fragment(request)
    user = getattr(request.state, "user", None)
    values = {
        "request": request,
        "current_user": user,
        # The header shows the unread count on every whole page (fragments don't have the header).
        "unread_notifications": _unread(request, user) if user is not None and not partial else 0,
        "lang": i18n.get_locale(),
        # A fragment has no flash area, so messages wait for the next whole page.
        "flashes": [] if partial else pop_flashes(request),
        **(context or {}),
    }
    if partial:
        block_render = template.blocks[block]
        html = "".join(block_render(template.new_context(values)))
    else:
        html = template.render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request, Cookie, Accept-Language"
    response.headers["Content-Language"] = values["lang"].replace("_", "-")
    if getattr(request.state, "clear_flash_cookie", False):
        response.delete_cookie("folio_flash", path="/")
    return response
