"""A Folio archive's spoken captions, linked back to their evidence once both are imported."""

from __future__ import annotations

from sqlmodel import Session, select

from app.i18n import _
from app.models import Artefact, MediaKind
from app.services.exports.import_summary import ImportSummary


def link_captions(*, session: Session, captions: dict[str, str], artefact_ids: dict[str, int], titles: dict[str, str],
                   summary: ImportSummary) -> None:
    """Give each imported artefact its spoken caption back (one query). As on upload, only a sound file is a caption;
    anything else stays a private artefact of its own, so nothing is lost."""
    wanted = {artefact_ids[ref]: artefact_ids[caption] for ref, caption in captions.items()
              if ref in artefact_ids and caption in artefact_ids}
    if not wanted:
        return
    found = {a.id: a for a in session.exec(select(Artefact).where(Artefact.id.in_(set(wanted) | set(wanted.values()))))}
    for ref, caption_ref in captions.items():
        artefact, caption = found.get(artefact_ids.get(ref)), found.get(artefact_ids.get(caption_ref))
        if artefact is None or caption is None:
            continue
        if caption.media_kind is not MediaKind.audio:
            summary.messages.append(_("The spoken caption of “%(title)s” isn't a sound file; it was kept as a private "
                                      "piece of evidence of its own.", title=titles.get(ref, ref)))
            continue
        artefact.audio_artefact_id = caption.id
        session.add(artefact)
    session.flush()
