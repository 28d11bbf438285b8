"""Badges in the Leap2A feed: a picture that came in carrying an Open Badge leaves with it baked in again.

Folio keeps the assertion beside a cleaned picture (app.services.badges.imported), so the stored file has none. A
Leap2A reader (Mahara, or Folio's own import) keeps a file's bytes and nothing Folio-specific around it, so the
feed points at a copy with the assertion baked back in, as the issuer's backpack gave it: Mahara keeps it inside the
picture, and Folio's import reads it out again like any upload. portfolio.json and the offline site keep pointing at
the stored file (its size and checksum are what portfolio.json records, and it carries its badge there)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlmodel import Session, select

from app.models import Artefact, BadgeAssertion, BadgeCheck
from app.services.badges import baking
from app.storage import Storage

BADGES_FOLDER = "files/badges/"


@dataclass(frozen=True)
class BakedCopy:
    artefact_id: int
    archive_path: str
    content: bytes


def baked_copies(*, session: Session, store: Storage, file_paths: dict[int, str]) -> list[BakedCopy]:
    """A badge-carrying copy of each exported PNG whose badge could be read (one query; pictures are small)."""
    if not file_paths:
        return []
    rows = session.exec(
        select(BadgeAssertion, Artefact.stored_name).join(Artefact, Artefact.id == BadgeAssertion.artefact_id)
        .where(BadgeAssertion.artefact_id.in_(list(file_paths)), Artefact.content_type == "image/png",
               BadgeAssertion.verification != BadgeCheck.unreadable, BadgeAssertion.payload != "")
    ).all()
    copies = []
    for badge, stored_name in rows:
        with store.open(stored_name) as handle:
            picture = handle.read()
        try:
            baked = baking.bake_png_bytes(picture, payload=badge.payload, version=badge.version)
        except ValueError:  # a payload too large to bake: the feed keeps the plain picture
            continue
        name = PurePosixPath(file_paths[badge.artefact_id]).name
        copies.append(BakedCopy(badge.artefact_id, f"{BADGES_FOLDER}{name}", baked))
    return copies
