"""The first picture a reflection's text shows (an imported journal post's photo), for the cards that show one:
the family feed and the family digest. Whoever may read the reflection may fetch it (artefacts.file_visible_to)."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Artefact, Item, MediaKind
from app.services.portfolio.markdown import embedded_file_ids


def first_pictures(*, session: Session, reflections: list[Item]) -> dict[int, Artefact]:
    """Each reflection's first picture its text shows that is a picture of its owner's with a preview (one query)."""
    wanted = {e.id: embedded_file_ids(e.body) for e in reflections}
    ids = {i for found in wanted.values() for i in found}
    if not ids:
        return {}
    pictures = {a.id: a for a in session.exec(select(Artefact).where(
        Artefact.id.in_(ids), Artefact.media_kind == MediaKind.image, Artefact.thumb_small.is_not(None))).all()}
    firsts = {e.id: next((pictures[i] for i in wanted[e.id] if i in pictures and pictures[i].owner_id == e.owner_id),
                         None) for e in reflections}
    return {item_id: picture for item_id, picture in firsts.items() if picture is not None}
