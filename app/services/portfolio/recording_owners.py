"""What a recording in a student's evidence belongs to (a reflection, a spoken caption's artefact, or the item a
spoken comment is on), for the evidence grid and the recording's page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from app.models import Artefact, Comment, Item, ItemType, Reflection
from app.services.portfolio.links import item_link


@dataclass
class RecordingOf:
    """What a recording belongs to, for its owner's evidence grid: a reflection, or the item a spoken comment is on."""

    title: str
    link: str
    spoken_feedback: bool = False


def recordings_of(*, session: Session, artefact_ids: list[int]) -> dict[int, RecordingOf]:
    """For those of `artefact_ids` that are recordings, what each belongs to (three queries)."""
    if not artefact_ids:
        return {}
    found: dict[int, RecordingOf] = {}
    for item_id, reflection_id, title in session.exec(
        select(Reflection.audio_artefact_id, Reflection.id, Reflection.title)
        .where(Reflection.audio_artefact_id.in_(artefact_ids)).order_by(Reflection.id)
    ).all():
        found.setdefault(item_id, RecordingOf(title, item_link(ItemType.reflection, reflection_id)))
    for item_id, artefact_id, title in session.exec(
        select(Artefact.audio_artefact_id, Artefact.id, Artefact.title)
        .where(Artefact.audio_artefact_id.in_(artefact_ids)).order_by(Artefact.id)
    ).all():
        found.setdefault(item_id, RecordingOf(title, item_link(ItemType.artefact, artefact_id)))
    for item_id, item in session.exec(
        select(Comment.audio_artefact_id, Item).join(Item, Item.id == Comment.item_id)
        .where(Comment.audio_artefact_id.in_(artefact_ids)).order_by(Comment.id)
    ).all():
        found.setdefault(item_id, RecordingOf(item.title, item_link(item.type, item.id), spoken_feedback=True))
    return found


def recording_of(*, session: Session, artefact: Artefact) -> RecordingOf | None:
    """What the artefact is a recording of, or None when it is evidence of its own."""
    return recordings_of(session=session, artefact_ids=[artefact.id]).get(artefact.id)
