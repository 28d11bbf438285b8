"""Leap2A import: a Mahara (or Folio) leap2a.xml and its files, added to a student's portfolio.

Mapping (Leap2A → Folio), everything the student's own and private:
- resource with a file (`<content src>` or `<link rel="enclosure">`) → file artefact, stored like an upload
  (type sniffed from the content, photos cleaned of metadata, thumbnails made, quota counted);
- journal posts (entries in a selection of type Blog, or mahara blogpost) → published reflections
  (drafts when marked Unready), HTML turned into Markdown;
- other entries (Mahara text boxes, notes) → notes; an entry that is just a web address → a link;
- plans → goals; their tasks (has_part / is_part_of plans, or mahara task) → steps, done when completed;
- plain categories (no scheme, or a tag scheme) → tags; leap2:date (start) or published → the item's date.
The person and the journals themselves aren't items; everything else (pages, comments, abilities, files
missing from the archive or refused, ...) is skipped and counted, with a message for each file.
"""

from __future__ import annotations

import html
import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from xml.parsers import expat

from sqlmodel import Session

from app.config import Settings
from app.i18n import _, ngettext
from app.models import Artefact, ArtefactKind, Audience, GoalStatus, ReflectionStatus, User
from app.models.base import utcnow
from app.services import artefacts, goals, reflections, timeline, uploads
from app.services.goal_forms import MAX_STEP, MAX_STEPS, MAX_TITLE, GoalData

ATOM = "http://www.w3.org/2005/Atom"
LEAP2 = "http://terms.leapspecs.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MAHARA = "http://wiki.mahara.org/Developer_Area/Import%2F%2FExport/LEAP_Extensions#"
MAX_BODY = 100_000
MAX_FEED_BYTES = 64 * 1024 * 1024  # the XML alone; files travel beside it
MAX_TAGS = artefacts.MAX_TAGS
COMPLETED_STAGES = {"completed", "complete", "done", "achieved", "finished"}


class Leap2AError(Exception):
    """A feed Folio can't import; `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ImportSummary:
    artefacts: int = 0
    reflections: int = 0
    goals: int = 0
    skipped: int = 0
    messages: list[str] = field(default_factory=list)
    # Files written under upload_dir: if the caller rolls back, it removes them with uploads.discard().
    stored_files: list[uploads.StoredFile] = field(default_factory=list)


@dataclass
class _Entry:
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


def import_leap2a(*, session: Session, settings: Settings, student: User, xml_bytes: bytes, files: dict[str, Path]) -> ImportSummary:
    """Add what a Leap2A feed holds to `student`'s portfolio, in the caller's transaction (no commit)."""
    root = parse_feed(xml_bytes)
    entries = [_read_entry(element) for element in root.findall(f"{{{ATOM}}}entry")]
    if not entries:
        raise Leap2AError(_("This Leap2A file has no entries to import."))
    summary = ImportSummary()
    try:
        _import_entries(session, settings, student, entries, _normalised_files(files), summary)
    except BaseException:
        uploads.discard(upload_dir=settings.upload_dir, files=summary.stored_files)
        summary.stored_files.clear()
        raise
    return summary


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


def _last_part(value: str) -> str:
    """`leap2:has_part`, `leap:has_part` and `http://terms.leapspecs.org/has_part` all give "has_part"."""
    return re.split(r"[:/#]", value.strip())[-1].lower() if value else ""


def _parse_datetime(text: str | None) -> datetime | None:
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


def _read_entry(element: ET.Element) -> _Entry:
    rdf_type = element.find(f"{{{RDF}}}type")
    leap_type = _last_part(rdf_type.get(f"{{{RDF}}}resource", "")) if rdf_type is not None else ""
    plugin = element.find(f"{{{MAHARA}}}artefactplugin")
    entry = _Entry(
        element=element,
        id=(element.findtext(f"{{{ATOM}}}id") or "").strip(),
        title=" ".join((element.findtext(f"{{{ATOM}}}title") or "").split()),
        leap_type=leap_type or "entry",
        mahara_type=(plugin.get(f"{{{MAHARA}}}type", "") if plugin is not None else "").lower(),
        mahara_plugin=(plugin.get(f"{{{MAHARA}}}plugin", "") if plugin is not None else "").lower(),
        published=_parse_datetime(element.findtext(f"{{{ATOM}}}published")),
        updated=_parse_datetime(element.findtext(f"{{{ATOM}}}updated")),
    )
    for link in element.findall(f"{{{ATOM}}}link"):
        rel, href = link.get("rel", "") or "alternate", (link.get("href") or "").strip()
        entry.links.append((rel, href))
        order = link.get(f"{{{LEAP2}}}display_order", "")
        if _last_part(rel) == "has_part" and order.strip().isdigit():
            entry.part_orders[href] = int(order)
    for category in element.findall(f"{{{ATOM}}}category"):
        entry.categories.append((category.get("term", "").strip(), category.get("scheme", "").strip(),
                                 category.get("label", "").strip()))
    return entry


def _relations(entry: _Entry, name: str) -> list[str]:
    return [href for rel, href in entry.links if _last_part(rel) == name and href]


def _category_terms(entry: _Entry, scheme_word: str) -> set[str]:
    return {term.lower() for term, scheme, _label in entry.categories if scheme_word in scheme.lower()}


def _tags(entry: _Entry) -> list[str]:
    names = []
    for term, scheme, label in entry.categories:
        if not scheme or "tag" in scheme.lower():
            names.append(label or term)
    return artefacts.normalise_tags(",".join(names))[:MAX_TAGS]


def _content(entry: _Entry) -> tuple[str, str, str | None]:
    """(type, text as Markdown, src) of the entry's content."""
    element = entry.element.find(f"{{{ATOM}}}content")
    if element is None:
        return "text", "", None
    content_type = (element.get("type") or "text").lower()
    src = element.get("src")
    if src:
        return content_type, "", src.strip()
    if content_type == "xhtml":
        return content_type, html_to_markdown(_xhtml_markup(element)), None
    text = element.text or ""
    if content_type == "html":
        return content_type, html_to_markdown(text), None
    return content_type, text.strip()[:MAX_BODY], None


def _xhtml_markup(element: ET.Element) -> str:
    """Inline XHTML content (`<div xmlns="http://www.w3.org/1999/xhtml">...`) as plain HTML markup."""
    copy = ET.fromstring(ET.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.rsplit("}", 1)[1]
    return (copy.text or "") + "".join(ET.tostring(child, encoding="unicode") for child in copy)


def _summary(entry: _Entry) -> str:
    element = entry.element.find(f"{{{ATOM}}}summary")
    if element is None:
        return ""
    summary_type = (element.get("type") or "text").lower()
    if summary_type == "xhtml":
        return html_to_markdown(_xhtml_markup(element))
    if summary_type == "html":
        return html_to_markdown(element.text or "")
    return (element.text or "").strip()


def _dates(entry: _Entry) -> dict[str, date]:
    found: dict[str, date] = {}
    for element in entry.element.findall(f"{{{LEAP2}}}date"):
        when = _parse_datetime(element.text)
        if when is not None:
            found.setdefault((element.get(f"{{{LEAP2}}}point") or "start").lower(), when.date())
    return found


def _occurred_on(entry: _Entry) -> date:
    dates = _dates(entry)
    when = dates.get("start") or (entry.published or entry.updated or utcnow()).date()
    return when


def _is_completed(entry: _Entry) -> bool:
    for element in entry.element.findall(f"{{{LEAP2}}}status") + entry.element.findall(f"{{{MAHARA}}}completion"):
        stage = element.get(f"{{{LEAP2}}}stage") or element.get("stage") or element.text or ""
        if stage.strip().lower() in COMPLETED_STAGES:
            return True
    return False


# --- HTML to Markdown ---------------------------------------------------------------------------------


class _MarkdownWriter(HTMLParser):
    """Just enough HTML to keep a journal post readable: paragraphs, line breaks, lists, emphasis and links."""

    BLOCKS = {"p", "div", "section", "article", "blockquote", "pre", "table", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}
    DROPPED = {"script", "style", "head", "title", "iframe", "object", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
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


def html_to_markdown(markup: str) -> str:
    """HTML (a Mahara journal post, a text box) as Markdown-ish plain text; scripts and styles are dropped."""
    writer = _MarkdownWriter()
    writer.feed(markup or "")
    writer.close()
    return html.unescape(writer.text())[:MAX_BODY]


# --- importing ----------------------------------------------------------------------------------------


def _normalised_files(files: dict[str, Path]) -> dict[str, Path]:
    return {_normal_src(name, unquoted=False): path for name, path in files.items()}


def _normal_src(src: str, *, unquoted: bool = False) -> str:
    """A content src or archive name as "files/3-photo.jpg": NFC, forward slashes, no leading "./" or "/"."""
    path = src.strip()
    if unquoted:
        path = unquote(urlsplit(path).path)
    path = unicodedata.normalize("NFC", path.replace("\\", "/"))
    return "/".join(part for part in path.split("/") if part not in ("", "."))


def _find_file(files: dict[str, Path], candidates: list[str]) -> tuple[str, Path] | None:
    """The first candidate src present in `files`, as written or URL-decoded (Mahara escapes spaces)."""
    for candidate in candidates:
        for unquoted in (False, True):
            name = _normal_src(candidate, unquoted=unquoted)
            if name in files:
                return name, files[name]
    return None


def _title(entry: _Entry, fallback: str) -> str:
    return (entry.title or fallback)[:MAX_TITLE]


LINKING_RELATIONS = {"has_attachment", "relation", "related", "has_evidence", "supported_by", "reflects_on"}
REVERSE_LINKING_RELATIONS = {"is_attachment_of", "is_evidence_of", "supports", "reflected_on_by"}


def _import_entries(session: Session, settings: Settings, student: User, entries: list[_Entry],
                    files: dict[str, Path], summary: ImportSummary) -> None:
    by_id = {entry.id: entry for entry in entries if entry.id}
    parents: dict[str, set[str]] = {entry.id: set() for entry in entries}
    children: dict[str, list[str]] = {entry.id: [] for entry in entries}
    for entry in entries:
        for href in _relations(entry, "is_part_of"):
            parents[entry.id].add(href)
            if href in children and entry.id not in children[href]:
                children[href].append(entry.id)
    for entry in entries:
        listed = [href for href in _relations(entry, "has_part") if href in parents]
        for href in listed:
            parents[href].add(entry.id)
        if listed:  # the parent's own list (and display order) wins over the order the parts appear in
            ordered = sorted(dict.fromkeys(listed), key=lambda h: entry.part_orders.get(h, len(listed)))
            children[entry.id] = ordered + [c for c in children[entry.id] if c not in ordered]
    blogs = {entry.id for entry in entries
             if entry.leap_type == "selection" and ("blog" in _category_terms(entry, "selection_type") or entry.mahara_type == "blog")}

    def is_task(entry: _Entry) -> bool:
        return entry.leap_type == "plan" and any(p in by_id and by_id[p].leap_type == "plan" for p in parents[entry.id])

    # Evidence first, so journal posts can link to what they were attached to.
    imported: dict[str, int] = {}
    posts: list[_Entry] = []
    plans: list[_Entry] = []
    for entry in entries:
        if entry.leap_type == "person" or entry.id in blogs:
            continue  # the author, and the journals themselves: their posts are imported
        if entry.leap_type == "plan":
            if not is_task(entry):
                plans.append(entry)
            continue  # tasks come in with their plan
        artefact = None
        if entry.leap_type == "resource":
            artefact = _import_resource(session, settings, student, entry, files, summary)
        elif entry.leap_type == "entry" and entry.mahara_plugin != "comment" and (
                entry.mahara_type == "blogpost" or parents[entry.id] & blogs):
            posts.append(entry)
        elif entry.leap_type == "entry" and entry.mahara_plugin not in ("comment", "view"):
            artefact = _import_text(session, student, entry, summary)
        else:
            summary.skipped += 1
        if artefact is not None and entry.id:
            imported[entry.id] = artefact.id
    evidence: dict[str, set[int]] = {entry.id: set() for entry in posts}
    for entry in entries:
        for rel, href in entry.links:
            relation = _last_part(rel)
            if relation in LINKING_RELATIONS and entry.id in evidence and href in imported:
                evidence[entry.id].add(imported[href])
            elif relation in REVERSE_LINKING_RELATIONS and href in evidence and entry.id in imported:
                evidence[href].add(imported[entry.id])
    for entry in posts:
        _import_reflection(session, student, entry, evidence[entry.id], summary)
    for entry in plans:
        steps = [by_id[c] for c in children[entry.id] if c in by_id and by_id[c].leap_type == "plan"]
        _import_goal(session, student, entry, steps, summary)
    if summary.skipped:
        summary.messages.append(ngettext("%(num)s item wasn't imported.", "%(num)s items weren't imported.", summary.skipped))


def _import_resource(session: Session, settings: Settings, student: User, entry: _Entry, files: dict[str, Path],
                     summary: ImportSummary) -> Artefact | None:
    _type, _text, src = _content(entry)
    candidates = [src] if src else []
    candidates += _relations(entry, "enclosure")
    found = _find_file(files, candidates)
    if found is None:
        if not candidates and (web := _web_address(entry)):
            return _import_link(session, student, entry, web, summary)
        summary.skipped += 1
        summary.messages.append(_("“%(title)s” wasn't imported: its file isn't in the archive.", title=_title(entry, "?")))
        return None
    name, path = found
    original_name = PurePosixPath(name).name or entry.title or "file"
    size = path.stat().st_size
    space_left = settings.student_quota_bytes - student.storage_used_bytes
    if size > settings.max_upload_bytes:
        summary.skipped += 1
        summary.messages.append(_("“%(name)s” is %(size)s; the limit is %(limit)s.", name=original_name,
                                  size=uploads.human_size(size), limit=uploads.human_size(settings.max_upload_bytes)))
        return None
    if size > space_left:
        summary.skipped += 1
        summary.messages.append(_("“%(name)s” is %(size)s, but only %(space)s of your storage space is left.",
                                  name=original_name, size=uploads.human_size(size), space=uploads.human_size(max(0, space_left))))
        return None
    try:
        stored = uploads.store_path(path=path, upload_dir=settings.upload_dir, owner_id=student.id, original_name=original_name)
    except uploads.FileRefused as refused:
        summary.skipped += 1
        summary.messages.append(refused.message)
        return None
    summary.stored_files.append(stored)
    data = artefacts.ArtefactInput(title=_title(entry, ""), description=_summary(entry)[:5000],
                                   occurred_on=_occurred_on(entry), audience=Audience.private, tags=_tags(entry))
    created = artefacts.create_file_artefacts(session=session, owner=student, files=[stored], data=data)
    for artefact in created:
        _keep_dates(session, artefact, entry)
        timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += len(created)
    return created[0]


def _web_address(entry: _Entry) -> str | None:
    for href in _relations(entry, "alternate") + _relations(entry, "related"):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and parts.netloc and len(href) <= 2000:
            return href
    return None


def _import_link(session: Session, student: User, entry: _Entry, url: str, summary: ImportSummary) -> Artefact:
    _type, text, _src = _content(entry)
    description = _summary(entry) or (text if text.strip() != url else "")
    data = artefacts.ArtefactInput(title=_title(entry, url), description=description[:5000], url=url,
                                   occurred_on=_occurred_on(entry), audience=Audience.private, tags=_tags(entry))
    artefact = artefacts.create_text_artefact(session=session, owner=student, kind=ArtefactKind.link, data=data)
    _keep_dates(session, artefact, entry)
    timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += 1
    return artefact


def _import_text(session: Session, student: User, entry: _Entry, summary: ImportSummary) -> Artefact | None:
    _type, text, _src = _content(entry)
    url = _web_address(entry)
    if url and (not text.strip() or text.strip() == url):
        return _import_link(session, student, entry, url, summary)
    if not text.strip() and not entry.title:
        summary.skipped += 1
        return None
    data = artefacts.ArtefactInput(title=_title(entry, _("Untitled note")), description=_summary(entry)[:5000],
                                   body=text or entry.title, occurred_on=_occurred_on(entry), audience=Audience.private,
                                   tags=_tags(entry))
    artefact = artefacts.create_text_artefact(session=session, owner=student, kind=ArtefactKind.note, data=data)
    _keep_dates(session, artefact, entry)
    timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += 1
    return artefact


def _keep_dates(session: Session, item, entry: _Entry) -> None:
    if entry.published:
        item.created_at = entry.published
    item.updated_at = entry.updated or entry.published or item.updated_at
    session.add(item)
    session.flush()


def _import_reflection(session: Session, student: User, entry: _Entry, artefact_ids: set[int], summary: ImportSummary) -> None:
    _type, text, _src = _content(entry)
    draft = "unready" in _category_terms(entry, "readiness")
    data = reflections.ReflectionInput(
        title=_title(entry, _("Untitled reflection")), body=text, audience=Audience.private,
        status=ReflectionStatus.draft if draft else ReflectionStatus.published, artefact_ids=set(artefact_ids),
    )
    reflection = reflections.create_reflection(session=session, owner=student, data=data)
    _keep_dates(session, reflection, entry)
    if not draft:
        reflection.published_at = entry.published or reflection.published_at
    session.add(reflection)
    session.flush()
    timeline.sync_reflection(session=session, reflection=reflection)
    summary.reflections += 1


def _import_goal(session: Session, student: User, entry: _Entry, steps: list[_Entry], summary: ImportSummary) -> None:
    _type, text, _src = _content(entry)
    step_texts = [(step.title or _("Step"))[:MAX_STEP] for step in steps][:MAX_STEPS]
    if len(steps) > MAX_STEPS:
        summary.messages.append(_("“%(title)s” has more than %(max)s tasks; only the first %(max)s were kept as steps.",
                                  title=_title(entry, "?"), max=MAX_STEPS))
    data = GoalData(title=_title(entry, _("Untitled goal")), why=text[:5000], success_criteria=_summary(entry)[:5000],
                    target_date=_dates(entry).get("target"), audience=Audience.private, competency_ids=set(),
                    steps=step_texts)
    goal = goals.create_goal(session=session, owner=student, data=data)
    now = utcnow()
    for step, source in zip(goals.steps_of(session=session, goal=goal), steps):
        if _is_completed(source):
            step.done = True
            step.done_at = source.updated or now
            session.add(step)
    if _is_completed(entry):
        goal.status, goal.achieved_at = GoalStatus.achieved, entry.updated or now
    elif any(stage in ("paused",) for stage in _stages(entry)):
        goal.status = GoalStatus.paused
    elif any(stage in ("abandoned", "dropped") for stage in _stages(entry)):
        goal.status = GoalStatus.dropped
    _keep_dates(session, goal, entry)
    timeline.sync_goal(session=session, goal=goal)
    summary.goals += 1


def _stages(entry: _Entry) -> list[str]:
    return [(element.get(f"{{{LEAP2}}}stage") or "").lower() for element in entry.element.findall(f"{{{LEAP2}}}status")]
