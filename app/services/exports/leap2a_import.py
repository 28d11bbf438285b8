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

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, select

from app import storage as file_storage
from app.config import Settings
from app.i18n import _, ngettext
from app.models import Artefact, ArtefactKind, Audience, GoalStatus, MediaKind, ReflectionStatus, User
from app.models.base import utcnow
from app.services.portfolio import artefacts
from app.services.portfolio import goals
from app.services.portfolio import reflections
from app.services.portfolio import storage
from app.services.portfolio import timeline
from app.services.portfolio import uploads
from app.services.portfolio.goal_forms import MAX_STEP, MAX_STEPS, MAX_TITLE, GoalData
from app.services.exports.import_keys import Ledger
from app.services.exports.leap2a_feed import (
    ATOM, LEAP2, Entry, Leap2AError, category_terms, entry_content, entry_dates, entry_relations, entry_tags,
    is_completed, last_part, occurred_on, parse_feed, read_entry, summary_text,
)

@dataclass
class ImportSummary:
    artefacts: int = 0
    reflections: int = 0
    goals: int = 0
    skipped: int = 0
    messages: list[str] = field(default_factory=list)
    # Files put in the file store: if the caller rolls back, it removes them with uploads.discard().
    stored_files: list[uploads.StoredFile] = field(default_factory=list)


def import_leap2a(*, session: Session, settings: Settings, student: User, xml_bytes: bytes, files: dict[str, Path],
                  ledger: Ledger | None = None) -> ImportSummary:
    """Add what a Leap2A feed holds to `student`'s portfolio, in the caller's transaction (no commit).

    With a `ledger` (an import job's), evidence is committed in its batches and what the ledger's scope already
    created is skipped; the rest (journal posts, plans) is left for the caller to commit. Files stored in an
    uncommitted batch are then the ledger's to remove if it is rolled back."""
    root = parse_feed(xml_bytes)
    entries = [read_entry(element) for element in root.findall(f"{{{ATOM}}}entry")]
    if not entries:
        raise Leap2AError(_("This Leap2A file has no entries to import."))
    summary = ImportSummary()
    try:
        _import_entries(session, settings, student, entries, _normalised_files(files), summary, ledger)
    except BaseException:
        uploads.discard(store=file_storage.uploads(settings), files=summary.stored_files)
        summary.stored_files.clear()
        raise
    return summary


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


def _title(entry: Entry, fallback: str) -> str:
    return (entry.title or fallback)[:MAX_TITLE]


LINKING_RELATIONS = {"has_attachment", "relation", "related", "has_evidence", "supported_by", "reflects_on"}
REVERSE_LINKING_RELATIONS = {"is_attachment_of", "is_evidence_of", "supports", "reflected_on_by"}


def _import_entries(session: Session, settings: Settings, student: User, entries: list[Entry],
                    files: dict[str, Path], summary: ImportSummary, ledger: Ledger | None) -> None:
    by_id = {entry.id: entry for entry in entries if entry.id}
    parents: dict[str, set[str]] = {entry.id: set() for entry in entries}
    children: dict[str, list[str]] = {entry.id: [] for entry in entries}
    for entry in entries:
        for href in entry_relations(entry, "is_part_of"):
            parents[entry.id].add(href)
            if href in children and entry.id not in children[href]:
                children[href].append(entry.id)
    for entry in entries:
        listed = [href for href in entry_relations(entry, "has_part") if href in parents]
        for href in listed:
            parents[href].add(entry.id)
        if listed:  # the parent's own list (and display order) wins over the order the parts appear in
            ordered = sorted(dict.fromkeys(listed), key=lambda h: entry.part_orders.get(h, len(listed)))
            children[entry.id] = ordered + [c for c in children[entry.id] if c not in ordered]
    blogs = {entry.id for entry in entries
             if entry.leap_type == "selection" and ("blog" in category_terms(entry, "selection_type") or entry.mahara_type == "blog")}

    def is_task(entry: Entry) -> bool:
        return entry.leap_type == "plan" and any(p in by_id and by_id[p].leap_type == "plan" for p in parents[entry.id])

    # Evidence first, so journal posts can link to what they were attached to.
    imported: dict[str, int] = {}
    posts: list[Entry] = []
    plans: list[Entry] = []
    for index, entry in enumerate(entries):
        if entry.leap_type == "person" or entry.id in blogs:
            continue  # the author, and the journals themselves: their posts are imported
        if entry.leap_type == "plan":
            if not is_task(entry):
                plans.append(entry)
            continue  # tasks come in with their plan
        key = f"leap:{entry.id or index}"
        existing = ledger.existing(key) if ledger is not None else None
        if existing is not None:  # committed by an earlier run of this import
            imported[entry.id] = existing
            summary.artefacts += 1
            continue
        artefact = None
        if entry.leap_type == "resource":
            artefact = _import_resource(session, settings, student, entry, files, summary, ledger)
        elif entry.leap_type == "entry" and entry.mahara_plugin != "comment" and (
                entry.mahara_type == "blogpost" or parents[entry.id] & blogs):
            posts.append(entry)
        elif entry.leap_type == "entry" and entry.mahara_plugin not in ("comment", "view"):
            artefact = _import_text(session, student, entry, summary)
        else:
            summary.skipped += 1
        if artefact is not None and entry.id:
            imported[entry.id] = artefact.id
        if artefact is not None and ledger is not None:
            ledger.record(key, artefact.id)
    evidence: dict[str, set[int]] = {entry.id: set() for entry in posts}
    for entry in entries:
        for rel, href in entry.links:
            relation = last_part(rel)
            if relation in LINKING_RELATIONS and entry.id in evidence and href in imported:
                evidence[entry.id].add(imported[href])
            elif relation in REVERSE_LINKING_RELATIONS and href in evidence and entry.id in imported:
                evidence[href].add(imported[entry.id])
    for entry in posts:
        _import_reflection(session, student, entry, evidence[entry.id], summary)
    for entry in plans:
        steps = [by_id[c] for c in children[entry.id] if c in by_id and by_id[c].leap_type == "plan"]
        _import_goal(session, student, entry, steps, summary)
    _link_captions(session, entries, imported)
    if summary.skipped:
        summary.messages.append(ngettext("%(num)s item wasn't imported.", "%(num)s items weren't imported.", summary.skipped))


def _link_captions(session: Session, entries: list[Entry], imported: dict[str, int]) -> None:
    """Give evidence its spoken caption back, for the entries a Folio export marked as one (app.services.exports.leap2a:
    a resource with the portfolio:role# category "caption", is_attachment_of its evidence). As on upload, only a sound
    file of the student's is a caption; anything else stays a private file of its own."""
    from app.services.exports.leap2a import CAPTION_ROLE

    pairs = {}
    for entry in entries:
        if entry.leap_type == "resource" and CAPTION_ROLE in category_terms(entry, "portfolio:role") \
                and entry.id in imported:
            owners = [imported[href] for href in entry_relations(entry, "is_attachment_of") if href in imported]
            if owners:
                pairs[owners[0]] = imported[entry.id]
    if not pairs:
        return
    found = {a.id: a for a in session.exec(select(Artefact).where(Artefact.id.in_(set(pairs) | set(pairs.values()))))}
    for artefact_id, caption_id in pairs.items():
        artefact, caption = found.get(artefact_id), found.get(caption_id)
        if artefact is not None and caption is not None and artefact_id != caption_id \
                and caption.media_kind is MediaKind.audio and not artefact.audio_artefact_id:
            artefact.audio_artefact_id = caption.id
            session.add(artefact)
    session.flush()


def _import_resource(session: Session, settings: Settings, student: User, entry: Entry, files: dict[str, Path],
                     summary: ImportSummary, ledger: Ledger | None) -> Artefact | None:
    _type, _text, src = entry_content(entry)
    candidates = [src] if src else []
    candidates += entry_relations(entry, "enclosure")
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
    if ledger is not None:
        ledger.before_slow_work()
    try:
        stored = uploads.store_path(path=path, store=file_storage.uploads(settings), owner_id=student.id, original_name=original_name)
    except uploads.FileRefused as refused:
        summary.skipped += 1
        summary.messages.append(refused.message)
        return None
    kept_in = ledger.uncommitted_files if ledger is not None else summary.stored_files
    kept_in.append(stored)
    data = artefacts.ArtefactInput(title=_title(entry, ""), description=summary_text(entry)[:5000],
                                   occurred_on=occurred_on(entry), audience=Audience.private, tags=entry_tags(entry))
    try:
        created = artefacts.create_file_artefacts(session=session, owner=student, files=[stored], data=data,
                                                  quota_bytes=settings.student_quota_bytes)
    except storage.QuotaExceeded as full:  # taken meanwhile by an upload; nothing of this file was added
        kept_in.remove(stored)
        uploads.discard(store=file_storage.uploads(settings), files=[stored])
        summary.skipped += 1
        summary.messages.append(full.message)
        return None
    for artefact in created:
        _keep_dates(session, artefact, entry)
        timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += len(created)
    return created[0]


def _web_address(entry: Entry) -> str | None:
    for href in entry_relations(entry, "alternate") + entry_relations(entry, "related"):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and parts.netloc and len(href) <= 2000:
            return href
    return None


def _import_link(session: Session, student: User, entry: Entry, url: str, summary: ImportSummary) -> Artefact:
    _type, text, _src = entry_content(entry)
    description = summary_text(entry) or (text if text.strip() != url else "")
    data = artefacts.ArtefactInput(title=_title(entry, url), description=description[:5000], url=url,
                                   occurred_on=occurred_on(entry), audience=Audience.private, tags=entry_tags(entry))
    artefact = artefacts.create_text_artefact(session=session, owner=student, kind=ArtefactKind.link, data=data)
    _keep_dates(session, artefact, entry)
    timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += 1
    return artefact


def _import_text(session: Session, student: User, entry: Entry, summary: ImportSummary) -> Artefact | None:
    _type, text, _src = entry_content(entry)
    url = _web_address(entry)
    if url and (not text.strip() or text.strip() == url):
        return _import_link(session, student, entry, url, summary)
    if not text.strip() and not entry.title:
        summary.skipped += 1
        return None
    data = artefacts.ArtefactInput(title=_title(entry, _("Untitled note")), description=summary_text(entry)[:5000],
                                   body=text or entry.title, occurred_on=occurred_on(entry), audience=Audience.private,
                                   tags=entry_tags(entry))
    artefact = artefacts.create_text_artefact(session=session, owner=student, kind=ArtefactKind.note, data=data)
    _keep_dates(session, artefact, entry)
    timeline.sync_artefact(session=session, artefact=artefact)
    summary.artefacts += 1
    return artefact


def _keep_dates(session: Session, item, entry: Entry) -> None:
    if entry.published:
        item.created_at = entry.published
    item.updated_at = entry.updated or entry.published or item.updated_at
    session.add(item)
    session.flush()


def _import_reflection(session: Session, student: User, entry: Entry, artefact_ids: set[int], summary: ImportSummary) -> None:
    _type, text, _src = entry_content(entry)
    draft = "unready" in category_terms(entry, "readiness")
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


def _import_goal(session: Session, student: User, entry: Entry, steps: list[Entry], summary: ImportSummary) -> None:
    _type, text, _src = entry_content(entry)
    step_texts = [(step.title or _("Step"))[:MAX_STEP] for step in steps][:MAX_STEPS]
    if len(steps) > MAX_STEPS:
        summary.messages.append(_("“%(title)s” has more than %(max)s tasks; only the first %(max)s were kept as steps.",
                                  title=_title(entry, "?"), max=MAX_STEPS))
    data = GoalData(title=_title(entry, _("Untitled goal")), why=text[:5000], success_criteria=summary_text(entry)[:5000],
                    target_date=entry_dates(entry).get("target"), audience=Audience.private, competency_ids=set(),
                    steps=step_texts)
    goal = goals.create_goal(session=session, owner=student, data=data)
    now = utcnow()
    for step, source in zip(goals.steps_of(session=session, goal=goal), steps):
        if is_completed(source):
            step.done = True
            step.done_at = source.updated or now
            session.add(step)
    if is_completed(entry):
        goal.status, goal.achieved_at = GoalStatus.achieved, entry.updated or now
    elif any(stage in ("paused",) for stage in _stages(entry)):
        goal.status = GoalStatus.paused
    elif any(stage in ("abandoned", "dropped") for stage in _stages(entry)):
        goal.status = GoalStatus.dropped
    _keep_dates(session, goal, entry)
    timeline.sync_goal(session=session, goal=goal)
    summary.goals += 1


def _stages(entry: Entry) -> list[str]:
    return [(element.get(f"{{{LEAP2}}}stage") or "").lower() for element in entry.element.findall(f"{{{LEAP2}}}status")]
