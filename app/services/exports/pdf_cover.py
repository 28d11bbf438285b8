"""The picture on a PDF's cover: the photo the student chose, else the showcase's first photo, else the portfolio's
most recent one; and the photos a student may choose from on the export form."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Artefact, MediaKind, User
from app.services.exports.pdf_entries import PortfolioContent, image_key, is_image

CHOICES = 12  # the most recent photos offered on the export form


def photo_choices(*, session: Session, student: User) -> list[Artefact]:
    """The student's most recent photos with a thumbnail, newest first (one query)."""
    rows = session.exec(
        select(Artefact).where(Artefact.owner_id == student.id, Artefact.media_kind == MediaKind.image,
                               Artefact.thumb_small.is_not(None))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(CHOICES)
    ).all()
    return [artefact for artefact in rows if is_image(artefact)]


def choose_cover(*, session: Session, content: PortfolioContent, chosen_id: int | None = None) -> Artefact | None:
    """Set and return the cover photo of `content`, and let the PDF embed it; None when there is no photo."""
    cover = None
    if chosen_id is not None:
        chosen = session.get(Artefact, chosen_id)
        # Only one of the student's own photos: a job's parameters are never trusted further than that.
        if chosen is not None and chosen.owner_id == content.student.id and is_image(chosen):
            cover = chosen
    if cover is None and content.images:
        if content.showcase is not None:
            cover = content.images[0]  # the showcase's first photo, in the student's order
        else:
            cover = max(content.images, key=lambda artefact: (artefact.occurred_on, artefact.id))
    if cover is not None:
        content.files.setdefault(image_key(cover), cover.thumb_print or cover.thumb_large or cover.thumb_small)
    content.cover = cover
    return cover
