"""Markdown to safe HTML: markdown-it renders, nh3 sanitises (no scripts, styles, images or raw HTML)."""

from __future__ import annotations

import html as html_lib
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td",
}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML off: a student's note can't smuggle markup; linkify off: links are explicit.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table").enable("strikethrough")


def render_markdown(text: str) -> Markup:
    """Sanitised HTML for `text`; headings start at h2 (the page owns h1); links open safely."""
    html = _parser().render(text or "")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


def plain_text(text: str, limit: int = 240) -> str:
    """A one-paragraph excerpt without markup, for lists and search results."""
    stripped = html_lib.unescape(nh3.clean(_parser().render(text or ""), tags=set())).strip()
    stripped = " ".join(stripped.split())
    return stripped if len(stripped) <= limit else stripped[: limit - 1].rstrip() + "…"
