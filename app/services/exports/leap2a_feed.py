"""Reading a Leap2A (2010-07) feed safely: refusing DOCTYPEs and entities (XML bombs, XXE) before parsing, then
each Atom entry with its Leap2A type, relations, categories, dates and content, and HTML turned into Markdown.
Importing what it says is app.services.exports.leap2a_import."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.parsers import expat

from app.i18n import _
from app.models.base import utcnow
from app.services.portfolio import artefacts

MAX_BODY = 100_000
MAX_TAGS = artefacts.MAX_TAGS
ATOM = "http://www.w3.org/2005/Atom"
LEAP2 = "http://terms.leapspecs.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MAHARA = "http://wiki.mahara.org/Developer_Area/Import%2F%2FExport/LEAP_Extensions#"
# Mahara has written its own and the Leap2A namespaces under several URIs over the years (2009 drafts, archived
# copies on web.archive.org, a "wiki/" path): its elements are found by local name in any namespace of the family.
LEAP_NAMESPACE_WORDS = ("leapspecs", "leap2a")
MAHARA_NAMESPACE_WORDS = ("mahara",)
MAX_FEED_BYTES = 64 * 1024 * 1024  # the XML alone; files travel beside it
COMPLETED_STAGES = {"completed", "complete", "done", "achieved", "finished"}


class Leap2AError(Exception):
    """A feed Folio can't import; `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Entry:
    element: ET.Element
    id: str
    title: str
    leap_type: str
    mahara_type: str = ""
    mahara_plugin: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)  # (relation, href)
    part_orders: dict[str, int] = field(default_factory=dict)  # has_part href → leap2:display_order
    categories: list[tuple[str, str, str]] = field(default_factory=list)  # (term, scheme, label)
    published: datetime | None = None
    updated: datetime | None = None


# --- parsing safely ---------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _refuse(*_args) -> None:
    raise _Refused()


def parse_feed(xml_bytes: bytes) -> ET.Element:
    """The feed's root element; Leap2AError for anything not well-formed, with a DTD or entities, or not Atom."""
    if len(xml_bytes) > MAX_FEED_BYTES:
        raise Leap2AError(_("This Leap2A file is over %(limit)s MB; Folio can't import it.", limit=MAX_FEED_BYTES // (1024 * 1024)))
    # A first pass with expat stops at the first DOCTYPE or entity declaration, before anything is expanded:
    # no entity bombs, no external entities. Only then does ElementTree build the tree.
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse
    checker.EntityDeclHandler = _refuse
    checker.UnparsedEntityDeclHandler = _refuse
    checker.ExternalEntityRefHandler = _refuse
    try:
        checker.Parse(xml_bytes, True)
    except _Refused:
        raise Leap2AError(_("This file declares a document type or entities, which Folio doesn't accept in Leap2A imports.")) from None
    except expat.ExpatError:
        raise Leap2AError(_("This isn't a readable Leap2A file: its XML is damaged or incomplete.")) from None
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError:
        raise Leap2AError(_("This isn't a readable Leap2A file: its XML is damaged or incomplete.")) from None
    if root.tag != f"{{{ATOM}}}feed":
        raise Leap2AError(_("This XML file isn't a Leap2A export (an Atom feed was expected)."))
    return root


def last_part(value: str) -> str:
    """`leap2:has_part`, `leap:has_part` and `http://terms.leapspecs.org/has_part` all give "has_part"."""
    return re.split(r"[:/#]", value.strip())[-1].lower() if value else ""


def parse_datetime(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    value = text.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), datetime.min.time())
        except ValueError:
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _split(name: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag or attribute name."""
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return namespace.lower(), local
    return "", name


def _in_family(namespace: str, words: tuple[str, ...]) -> bool:
    return any(word in namespace for word in words)


def children_named(element: ET.Element, local: str, *, mahara: bool = False) -> list[ET.Element]:
    """Child elements `leap2:<local>` (or `mahara:<local>`), whichever URI the feed bound the prefix to."""
    words = MAHARA_NAMESPACE_WORDS if mahara else LEAP_NAMESPACE_WORDS
    found = []
    for child in element:
        if isinstance(child.tag, str):
            namespace, name = _split(child.tag)
            if name == local and _in_family(namespace, words):
                found.append(child)
    return found


def attribute(element: ET.Element, local: str, *, mahara: bool = False) -> str:
    """The value of attribute `leap2:<local>` (or `mahara:<local>`) in any URI of its family, or ""."""
    words = MAHARA_NAMESPACE_WORDS if mahara else LEAP_NAMESPACE_WORDS
    for key, value in element.attrib.items():
        namespace, name = _split(key)
        if name == local and _in_family(namespace, words):
            return value
    return ""


def feed_source(root: ET.Element) -> str:
    """Who and where the feed comes from, the same in every export of one Mahara (or Folio) account: the feed id
    without its export time ("https://mahara.example.org/export/27"), else the author."""
    feed_id = (root.findtext(f"{{{ATOM}}}id") or "").strip()
    head, _sep, last = feed_id.rstrip("/").rpartition("/")
    if head and re.fullmatch(r"[0-9]{8,}|[0-9]{8}T[0-9]{6}Z", last):  # Mahara's Unix time, Folio's timestamp
        return head
    if feed_id:
        return feed_id
    author = root.find(f"{{{ATOM}}}author")
    if author is not None:
        return " ".join((author.findtext(f"{{{ATOM}}}email") or author.findtext(f"{{{ATOM}}}name") or "").split())
    return ""


def read_entry(element: ET.Element) -> Entry:
    rdf_type = element.find(f"{{{RDF}}}type")
    leap_type = last_part(rdf_type.get(f"{{{RDF}}}resource", "")) if rdf_type is not None else ""
    plugins = children_named(element, "artefactplugin", mahara=True)
    plugin = plugins[0] if plugins else None
    entry = Entry(
        element=element,
        id=(element.findtext(f"{{{ATOM}}}id") or "").strip(),
        title=" ".join((element.findtext(f"{{{ATOM}}}title") or "").split()),
        leap_type=leap_type or "entry",
        mahara_type=(attribute(plugin, "type", mahara=True) if plugin is not None else "").lower(),
        mahara_plugin=(attribute(plugin, "plugin", mahara=True) if plugin is not None else "").lower(),
        published=parse_datetime(element.findtext(f"{{{ATOM}}}published")),
        updated=parse_datetime(element.findtext(f"{{{ATOM}}}updated")),
    )
    for link in element.findall(f"{{{ATOM}}}link"):
        rel, href = link.get("rel", "") or "alternate", (link.get("href") or "").strip()
        entry.links.append((rel, href))
        order = attribute(link, "display_order")
        if last_part(rel) == "has_part" and order.strip().isdigit():
            entry.part_orders[href] = int(order)
    for category in element.findall(f"{{{ATOM}}}category"):
        entry.categories.append((category.get("term", "").strip(), category.get("scheme", "").strip(),
                                 category.get("label", "").strip()))
    return entry


def entry_relations(entry: Entry, name: str) -> list[str]:
    return [href for rel, href in entry.links if last_part(rel) == name and href]


def category_terms(entry: Entry, scheme_word: str) -> set[str]:
    return {term.lower() for term, scheme, _label in entry.categories if scheme_word in scheme.lower()}


def entry_tags(entry: Entry) -> list[str]:
    names = []
    for term, scheme, label in entry.categories:
        if not scheme or "tag" in scheme.lower():
            names.append(label or term)
    return artefacts.normalise_tags(",".join(names))[:MAX_TAGS]


def entry_content(entry: Entry, images: ImageResolver | None = None) -> tuple[str, str, str | None]:
    """(type, text as Markdown, src) of the entry's content; `images` gives the Folio address of an embedded image."""
    element = entry.element.find(f"{{{ATOM}}}content")
    if element is None:
        return "text", "", None
    content_type = (element.get("type") or "text").lower()
    src = element.get("src")
    if src:
        return content_type, "", src.strip()
    if content_type == "xhtml":
        return content_type, html_to_markdown(xhtml_markup(element), images), None
    text = element.text or ""
    if content_type == "html":
        return content_type, html_to_markdown(text, images), None
    return content_type, text.strip()[:MAX_BODY], None


def xhtml_markup(element: ET.Element) -> str:
    """Inline XHTML content (`<div xmlns="http://www.w3.org/1999/xhtml">...`) as plain HTML markup."""
    copy = ET.fromstring(ET.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.rsplit("}", 1)[1]
    return (copy.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in copy)


def summary_text(entry: Entry) -> str:
    element = entry.element.find(f"{{{ATOM}}}summary")
    if element is None:
        return ""
    summary_type = (element.get("type") or "text").lower()
    if summary_type == "xhtml":
        return html_to_markdown(xhtml_markup(element))
    if summary_type == "html":
        return html_to_markdown(element.text or "")
    return (element.text or "").strip()


def entry_dates(entry: Entry) -> dict[str, date]:
    found: dict[str, date] = {}
    for element in children_named(entry.element, "date"):
        when = parse_datetime(element.text)
        if when is not None:
            found.setdefault((attribute(element, "point") or "start").lower(), when.date())
    return found


def occurred_on(entry: Entry) -> date:
    dates = entry_dates(entry)
    when = dates.get("start") or (entry.published or entry.updated or utcnow()).date()
    return when


def stages(entry: Entry) -> list[str]:
    return [attribute(element, "stage").lower() for element in children_named(entry.element, "status")]


def is_completed(entry: Entry) -> bool:
    for element in children_named(entry.element, "status") + children_named(entry.element, "completion", mahara=True):
        stage = attribute(element, "stage") or element.get("stage") or element.text or ""
        if stage.strip().lower() in COMPLETED_STAGES:
            return True
    return False


# --- HTML to Markdown ---------------------------------------------------------------------------------


ImageResolver = Callable[[str], str | None]


class _MarkdownWriter(HTMLParser):
    """Just enough HTML to keep a journal post readable: paragraphs, line breaks, lists, emphasis, links, and the
    images an ImageResolver knows (Mahara's own files, imported: written with Folio's address for them)."""

    BLOCKS = {"p", "div", "section", "article", "blockquote", "pre", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
    DROPPED = {"script", "style", "head", "title", "iframe", "object", "noscript", "template"}

    def __init__(self, images: ImageResolver | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.images = images
        self.parts: list[str] = []
        self.dropping = 0
        self.links: list[str | None] = []
        self.lists: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.DROPPED:
            self.dropping += 1
            return
        if self.dropping:
            return
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
            if tag in ("ul", "ol"):
                self.lists.append(tag)
            elif tag[0] == "h" and tag[1:].isdigit():
                self.parts.append("## ")
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "img" and self.images is not None:
            values = dict(attrs)
            # Mahara writes an image of its own as <img rel="leap2:has_part" href="portfolio:artefact41"> (no src).
            address = self.images(values.get("src") or values.get("href") or "")
            if address:
                alt = re.sub(r"[\[\]\\]", "", " ".join((values.get("alt") or values.get("title") or "").split()))
                self.parts.append(f"![{alt}]({address})")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("strong", "b"):
            self.parts.append("**")
        elif tag in ("em", "i"):
            self.parts.append("*")
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            safe = urlsplit(href).scheme in ("http", "https", "mailto")
            self.links.append(href if safe else None)
            if safe:
                self.parts.append("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.DROPPED:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        if tag in self.BLOCKS:
            self.parts.append("\n\n")
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
        elif tag in ("strong", "b"):
            self.parts.append("**")
        elif tag in ("em", "i"):
            self.parts.append("*")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href:
                self.parts.append(f"]({href})")

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        joined = "".join(self.parts)
        lines = [" ".join(line.split()) if not line.startswith("- ") else "- " + " ".join(line[2:].split())
                 for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_markdown(markup: str, images: ImageResolver | None = None) -> str:
    """HTML (a Mahara journal post, a text box) as Markdown-ish plain text; scripts and styles are dropped."""
    writer = _MarkdownWriter(images)
    writer.feed(markup or "")
    writer.close()
    return html.unescape(writer.text())[:MAX_BODY]
