"""A Folio archive's artefacts recreated: files stored as uploads are, recordings private, captions linked."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlmodel import Session

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import ArtefactKind, Audience, User
from app.services.exports.archive_checks import ImportRefused, feedback_comments
from app.services.exports.import_captions import link_captions
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_keys import Ledger
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.portfolio_json import parse_timestamp as _at
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import storage
from app.services.portfolio import stored_files

Progress = Callable[[int, int, str], None]


def artefact_key(doc: dict) -> str:
    """The import ledger's key for an artefact of the archive."""
    return "artefact:" + doc["ref"]


def create_artefacts(*, session: Session, settings: Settings, student: User, document: dict, sources: dict[str, Path],
                     summary: ImportSummary, report: Progress, ledger: Ledger, matcher: Matcher,
                     refs: FolioRefs) -> None:
    """Recreate the archive's artefacts (`sources`: each file artefact's checked file, by ref); ImportRefused when a
    file is refused or doesn't fit in the student's storage."""
    artefact_ids, titles = refs.artefact_ids, refs.titles
    # Recordings come in private, whatever an older archive says: they are heard with their reflection (or, for a
    # spoken caption, with its evidence); a teacher's spoken feedback stays the student's own, named in the history.
    captions = {doc["ref"]: doc["audio_caption"] for doc in document["artefacts"] if doc.get("audio_caption")}
    recordings = {doc["audio"] for doc in document["reflections"] if doc["audio"]} | set(captions.values())
    recordings |= {doc["audio"] for doc in feedback_comments(document) if doc.get("audio")}
    total = len(document["artefacts"])
    for number, doc in enumerate(document["artefacts"], start=1):
        existing = ledger.existing(artefact_key(doc))
        if existing is not None:  # committed by an earlier run of this import
            artefact_ids[doc["ref"]] = existing
            titles[doc["ref"]] = doc["title"]
            summary.artefacts += 1
            continue
        competency_ids, unmatched = matcher.split(doc["competencies"])
        tags = artefact_service.normalise_tags(",".join(doc["tags"] + [matcher.label(r).replace(",", " ").lower() for r in unmatched]))
        data = artefact_service.ArtefactInput(
            title=doc["title"], description=doc["description"], occurred_on=date.fromisoformat(doc["occurred_on"]),
            audience=Audience.private if doc["ref"] in recordings else Audience(doc["audience"]), tags=tags,
            competency_ids=competency_ids, body=doc["body"], url=doc["url"] or "",
        )
        kind = ArtefactKind(doc["kind"])
        if kind is ArtefactKind.file:
            ledger.before_slow_work()
        if not ledger.pending:  # (a write now would wait for this import's own uncommitted batch)
            report(1, 4, _("Importing evidence (%(done)s of %(total)s)", done=number, total=total))
        if kind is ArtefactKind.file:
            source = sources.get(doc["ref"])
            if source is None:
                summary.skipped += 1
                summary.messages.append(_("“%(title)s” wasn't imported: its file wasn't in the archive.", title=doc["title"]))
                continue
            try:
                stored = stored_files.store_path(path=source, store=file_storage.uploads(settings), owner_id=student.id,
                                                 original_name=doc["file"]["original_name"] or source.name)
            except stored_files.FileRefused as refused:
                raise ImportRefused(refused.message) from None
            ledger.uncommitted_files.append(stored)
            if badge := doc["file"].get("badge"):  # the exported picture lost it with its metadata
                stored = dataclasses.replace(stored, badge_version=badge["version"], badge_payload=badge["payload"])
            try:
                artefact = artefact_service.create_file_artefacts(
                    session=session, owner=student, files=[stored], data=data, quota_bytes=settings.student_quota_bytes)[0]
            except storage.QuotaExceeded as full:  # an upload took the space since check_files looked
                raise ImportRefused(full.message) from None
        else:
            artefact = artefact_service.create_text_artefact(session=session, owner=student, kind=kind, data=data)
        artefact.created_at, artefact.updated_at = _at(doc["created_at"]), _at(doc["updated_at"])
        session.add(artefact)
        artefact_ids[doc["ref"]] = artefact.id
        titles[doc["ref"]] = doc["title"]
        summary.artefacts += 1
        ledger.record(artefact_key(doc), artefact.id)
    session.flush()
    link_captions(session=session, captions=captions, artefact_ids=artefact_ids, titles=titles, summary=summary)
