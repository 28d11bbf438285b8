"""A student's tags, on artefacts, reflections and goals alike: kept as first written ("Science Fair" stays so), and
one tag whatever the case it is typed in later ("science fair" finds and reuses it)."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import ArtefactTag, GoalTag, ReflectionTag, Tag

MAX_TAGS = 12
MAX_TAG = 60
# Each kind of item's link table and its item column.
LINKS = {"artefact": (ArtefactTag, "artefact_id"), "reflection": (ReflectionTag, "reflection_id"),
         "goal": (GoalTag, "goal_id")}


def normalise(raw: str) -> list[str]:
    """Comma-separated tags, trimmed, with their case, without duplicates (whatever their case), in the order typed."""
    seen: dict[str, str] = {}
    for part in raw.split(","):
        tag = " ".join(part.split())[:MAX_TAG]
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


def set_tags(*, session: Session, kind: str, item_id: int, owner_id: int, names: list[str]) -> None:
    """Replace the tags of one item with `names`, reusing the owner's tags whatever their case."""
    link, column = LINKS[kind]
    session.exec(sa.delete(link).where(getattr(link, column) == item_id))
    names = normalise(",".join(names))
    if not names:
        return
    existing: dict[str, Tag] = {}
    # The exact names too: SQLite's lower() folds ASCII only, and a tag spelt exactly so must be found (its name is
    # unique per owner), whatever the database makes of its case.
    for tag in session.exec(select(Tag).where(Tag.owner_id == owner_id, sa.or_(
            Tag.name.in_(names), sa.func.lower(Tag.name).in_([n.lower() for n in names])))).all():
        existing.setdefault(tag.name.casefold(), tag)
    for name in names:
        tag = existing.get(name.casefold())
        if tag is None:
            tag = Tag(owner_id=owner_id, name=name)
            session.add(tag)
            session.flush()
            existing[name.casefold()] = tag
        session.add(link(**{column: item_id, "tag_id": tag.id}))
    session.flush()


def tags_of(*, session: Session, kind: str, item_ids: list[int]) -> dict[int, list[str]]:
    """The tag names of several items of one kind, sorted (one query)."""
    link, column = LINKS[kind]
    found: dict[int, list[str]] = defaultdict(list)
    if item_ids:
        item_column = getattr(link, column)
        for item_id, name in session.exec(select(item_column, Tag.name).join(Tag, Tag.id == link.tag_id)
                                          .where(item_column.in_(item_ids)).order_by(sa.func.lower(Tag.name))).all():
            found[item_id].append(name)
    return found
