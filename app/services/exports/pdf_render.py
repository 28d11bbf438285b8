"""The HTML of a PDF export (templates/pdf/portfolio.html), in the current language, and the CSS strings it carries."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app import i18n
from app.config import Settings
from app.i18n import _
from app.models.base import utcnow
from app.services.exports.pdf_entries import PortfolioContent
from app.services.exports.pdf_sections import section_titles

FILE_SCHEME = "folio-file:"


def css_string(text: str) -> str:
    """A CSS string literal for `text`, safe inside a <style> element (quotes, backslashes, newlines and "<" are
    escaped, so nothing a student typed can end the string or the element)."""
    escaped = "".join(f"\\{ord(ch):X} " if ch in '\\"<>&\n\r\x0c' or ord(ch) < 32 else ch for ch in text)
    return f'"{escaped}"'


def css_page_content() -> str:
    """The footer's "Page X of Y" as a CSS content value, from one translatable sentence (so translators can move
    the numbers): the placeholders become counter(page) and counter(pages)."""
    sentence = _("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
    parts = []
    for piece in sentence.split("\x00"):
        if piece == "page":
            parts.append("counter(page)")
        elif piece == "pages":
            parts.append("counter(pages)")
        elif piece:
            parts.append(css_string(piece))
    return " ".join(parts)


def document_title(content: PortfolioContent) -> str:
    if content.showcase is not None:
        return content.showcase.title
    return _("Portfolio of %(name)s", name=content.student.display_name)




def _local_now(settings: Settings):
    try:
        return utcnow().astimezone(ZoneInfo(settings.timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return utcnow()


def render_html(*, content: PortfolioContent, settings: Settings) -> str:
    """The document's HTML, in the current language."""
    from app.templating import environment_for

    env = environment_for(settings)
    lang = i18n.get_locale().replace("_", "-")
    rendered_anchors = set()
    for artefact in content.artefacts:
        rendered_anchors.add(f"artefact-{artefact.id}")
    for reflection in content.reflections:
        rendered_anchors.add(f"reflection-{reflection.id}")
    for entry in content.goals:
        rendered_anchors.add(f"goal-{entry.goal.id}")
    return env.get_template("pdf/portfolio.html").render(
        content=content, lang=lang, title=document_title(content), titles=section_titles(),
        page_content=css_page_content(), created=utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        school_name=content.school.name if content.school else "", anchors=rendered_anchors,
        css_string=css_string, file_scheme=FILE_SCHEME, now_date=_local_now(settings),
        embedded_image=partial(content.embedded_image, scheme=FILE_SCHEME),
    )
