"""Markdown to safe HTML: markdown-it renders, nh3 sanitises (no scripts, styles or raw HTML; images only from
Folio's own file addresses, such as the photos of an imported Mahara journal post)."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from collections.abc import Callable
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
}
# An image shows only a file of this Folio (served after the viewer's access is checked): never another site's,
# which would tell it who reads the page.
OWN_FILE = re.compile(r"/files/[0-9]{1,12}/(small|large|original)")
FileUrl = Callable[[int, str], "str | None"]  # (artefact id, variant) -> the address a page fetches it from


_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
# An image a Markdown text shows from this Folio ("![alt](/files/12/large)"), and the same in the HTML made of it.
EMBEDDED_IMAGE = re.compile(r"!\[[^\]]*\]\(/files/([0-9]{1,12})/(?:small|large|original)\)")
_OWN_IMAGE_SOURCE = re.compile(r'(<img\s[^>]*?src=")/files/([0-9]{1,12})/(small|large|original)(")')


def _only_own_images(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if OWN_FILE.fullmatch(value) else None
    return value


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Raw HTML off: a student's note can't smuggle markup; linkify off: links are explicit.
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table").enable("strikethrough")


def embedded_file_ids(text: str) -> list[int]:
    """The ids of the files a Markdown text shows as images, in order, each once."""
    return list(dict.fromkeys(int(number) for number in EMBEDDED_IMAGE.findall(text or "")))


def render_markdown(text: str, file_url: FileUrl | None = None) -> Markup:
    """Sanitised HTML for `text`; headings start at h2 (the page owns h1); links open safely. `file_url` gives where
    this page fetches a shown image (a secret link's, a PDF's own), or None to leave it out."""
    html = _parser().render(text or "")
    html = html.replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "img": {"src", "alt"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_only_own_images,
    )
    if "<img" in clean and file_url is not None:
        def where(match: re.Match) -> str:
            url = file_url(int(match.group(2)), match.group(3))
            return f"{match.group(1)}{html_lib.escape(url)}{match.group(4)}" if url else match.group(1) + match.group(4)

        clean = _OWN_IMAGE_SOURCE.sub(where, clean)
        clean = re.sub(r'<img\s[^>]*?src=""[^>]*>', "", clean)
    if "<img" in clean:  # an image whose address was refused goes altogether
        clean = _IMAGE_WITHOUT_SOURCE.sub("", clean)
    return Markup(clean)


# Excerpts by a digest of their text: a timeline page shows twenty, each parsed and sanitised, on every view (a tenth
# of the student home's time). Keyed by digest, not text, so the cache's size does not depend on how long notes are.
_EXCERPTS: dict[tuple[bytes, int], str] = {}
_EXCERPTS_MAX = 4096


def plain_text(text: str, limit: int = 240) -> str:
    """A one-paragraph excerpt without markup, for lists and search results."""
    key = (hashlib.blake2b((text or "").encode(), digest_size=16).digest(), limit)
    excerpt = _EXCERPTS.get(key)
    if excerpt is None:
        if len(_EXCERPTS) >= _EXCERPTS_MAX:
            _EXCERPTS.clear()  # simpler than LRU bookkeeping, and the next pages refill it
        excerpt = _EXCERPTS[key] = _plain_text(text, limit)
    return excerpt


def _plain_text(text: str, limit: int) -> str:
    stripped = html_lib.unescape(nh3.clean(_parser().render(text or ""), tags=set())).strip()
    stripped = " ".join(stripped.split())
    return stripped if len(stripped) <= limit else stripped[: limit - 1].rstrip() + "…"


def _keep_href(tag: str, attribute: str, value: str) -> str | None:
    # In a student's Markdown, a link to the web or an email address still works offline; "/goals/3" doesn't.
    if tag == "a" and attribute == "href" and not re.match(r"^(https?:|mailto:|#)", value, re.IGNORECASE):
        return None
    return value


def offline_markdown(text: str) -> Markup:
    """Sanitised Markdown HTML whose links all work from the file system (root-relative ones are dropped)."""
    html = str(render_markdown(text))
    # Images are Folio's own file addresses, which don't exist in the copy: left out (the files are listed apart).
    return Markup(nh3.clean(html, tags=ALLOWED_TAGS - {"img"}, attribute_filter=_keep_href,
                            link_rel="noopener noreferrer nofollow",
                            attributes={"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}))
