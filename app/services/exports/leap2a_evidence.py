"""Leap2A entries that become evidence: files (stored like uploads), web addresses (links) and text (notes); and
the Folio address of an imported file for an image embedded in a journal post. Used by leap2a_import."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from sqlmodel import Session

from app import storage as file_storage
from app.file_responses import signed_in_file_url
from app.i18n import _
from app.models import Artefact, ArtefactKind, Audience
from app.services.exports.leap2a_feed import Entry, entry_content, entry_relations, entry_tags, occurred_on, summary_text
from app.services.exports.leap2a_run import Run, title_of
from app.services.portfolio import artefacts
from app.services.portfolio import storage
from app.services.portfolio import timeline
from app.services.portfolio import stored_files
from app.services.portfolio.upload_messages import human_size
from app.services.portfolio.markdown import embedded_file_ids


def normalised_files(files: dict[str, Path]) -> dict[str, Path]:
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


def file_candidates(entry: Entry) -> list[str]:
    _type, _text, src = entry_content(entry)
    return ([src] if src else []) + entry_relations(entry, "enclosure")


def keep_dates(session: Session, item, entry: Entry) -> None:
    if entry.published:
        item.created_at = entry.published
    item.updated_at = entry.updated or entry.published or item.updated_at
    session.add(item)
    session.flush()


def import_resource(run: Run, entry: Entry) -> Artefact | None:
    """A file entry as a file artefact, or a link if it is only a web address; None (and why) if it can't be."""
    settings, student, summary = run.settings, run.student, run.summary
    candidates = file_candidates(entry)
    found = _find_file(run.files, candidates)
    if found is None:
        if not candidates and (web := web_address(entry)):
            return import_link(run, entry, web)
        run.skip(entry, _("its file isn't in the archive."))
        return None
    name, path = found
    original_name = PurePosixPath(name).name or entry.title or "file"
    size = path.stat().st_size
    space_left = settings.student_quota_bytes - student.storage_used_bytes
    if size > settings.max_upload_bytes:
        run.skip(entry, _("it is %(size)s; the limit is %(limit)s.", size=human_size(size),
                          limit=human_size(settings.max_upload_bytes)))
        return None
    if size > space_left:
        run.skip(entry, _("it is %(size)s, but only %(space)s of your storage space is left.",
                          size=human_size(size), space=human_size(max(0, space_left))))
        return None
    if run.ledger is not None:
        run.ledger.before_slow_work()
    try:
        stored = stored_files.store_path(path=path, store=file_storage.uploads(settings), owner_id=student.id,
                                         original_name=original_name)
    except stored_files.FileRefused as refused:
        run.skip(entry, refused.message)
        return None
    kept_in = run.ledger.uncommitted_files if run.ledger is not None else summary.stored_files
    kept_in.append(stored)
    data = artefacts.ArtefactInput(title=title_of(entry, ""), description=summary_text(entry)[:5000],
                                   occurred_on=occurred_on(entry), audience=Audience.private, tags=entry_tags(entry))
    try:
        created = artefacts.create_file_artefacts(session=run.session, owner=student, files=[stored], data=data,
                                                  quota_bytes=settings.student_quota_bytes)
    except storage.QuotaExceeded as full:  # taken meanwhile by an upload; nothing of this file was added
        kept_in.remove(stored)
        stored_files.discard(store=file_storage.uploads(settings), files=[stored])
        run.skip(entry, full.message)
        return None
    for artefact in created:
        keep_dates(run.session, artefact, entry)
        timeline.sync_artefact(session=run.session, artefact=artefact)
    summary.artefacts += len(created)
    return created[0]


def web_address(entry: Entry) -> str | None:
    for href in entry_relations(entry, "alternate") + entry_relations(entry, "related"):
        parts = urlsplit(href)
        if parts.scheme in ("http", "https") and parts.netloc and len(href) <= 2000:
            return href
    return None


def import_link(run: Run, entry: Entry, url: str) -> Artefact:
    _type, text, _src = entry_content(entry)
    description = summary_text(entry) or (text if text.strip() != url else "")
    data = artefacts.ArtefactInput(title=title_of(entry, url), description=description[:5000], url=url,
                                   occurred_on=occurred_on(entry), audience=Audience.private, tags=entry_tags(entry))
    artefact = artefacts.create_text_artefact(session=run.session, owner=run.student, kind=ArtefactKind.link, data=data)
    keep_dates(run.session, artefact, entry)
    timeline.sync_artefact(session=run.session, artefact=artefact)
    run.summary.artefacts += 1
    return artefact


def import_note(run: Run, entry: Entry, *, extra_tags: list[str] = (), body: str | None = None) -> Artefact | None:
    """A text entry as a note (a link if it is only a web address); None (and why) if it is empty."""
    _type, text, _src = entry_content(entry, image_resolver(run))
    if body is not None:
        text = body
    url = web_address(entry)
    if url and (not text.strip() or text.strip() == url):
        return import_link(run, entry, url)
    if not text.strip() and not entry.title:
        run.skip(entry, _("it is empty."))
        return None
    tags = artefacts.normalise_tags(",".join([*extra_tags, *entry_tags(entry)]))[:artefacts.MAX_TAGS]
    data = artefacts.ArtefactInput(title=title_of(entry, _("Untitled note")), description=summary_text(entry)[:5000],
                                   body=text or entry.title, occurred_on=occurred_on(entry), audience=Audience.private,
                                   tags=tags)
    artefact = artefacts.create_text_artefact(session=run.session, owner=run.student, kind=ArtefactKind.note, data=data)
    keep_dates(run.session, artefact, entry)
    timeline.sync_artefact(session=run.session, artefact=artefact)
    run.summary.artefacts += 1
    return artefact


# Mahara links its own files in HTML as the entry ("portfolio:artefact41"), as the file in the archive, or (pasted
# from a page) as its download address.
_DOWNLOAD = re.compile(r"/artefact/file/download\.php$")


def image_resolver(run: Run):
    """A function giving the Folio address of an image embedded in HTML, if it is a file this import brought in."""
    if run.file_entries is None:  # built once per import: every post asks
        run.file_entries = {}
        for entry_id, entry in run.by_id.items():
            for candidate in file_candidates(entry):
                run.file_entries[_normal_src(candidate, unquoted=True)] = entry_id
    by_file = run.file_entries

    def resolve(src: str) -> str | None:
        src = src.strip()
        entry_id = src if src in run.by_id else by_file.get(_normal_src(src, unquoted=True))
        parts = urlsplit(src)
        if entry_id is None and _DOWNLOAD.search(parts.path):
            number = (parse_qs(parts.query).get("file") or [""])[0]
            entry_id = f"portfolio:artefact{number}" if number.isdigit() else None
        item_id = run.imported.get(entry_id) if entry_id else None
        if item_id is None or item_id not in run.images:
            return None
        return signed_in_file_url(item_id, "large" if run.images[item_id] else "original")

    return resolve


def embedded_files(markdown: str) -> set[int]:
    """The ids of the files a Markdown text made by image_resolver shows."""
    return set(embedded_file_ids(markdown))
