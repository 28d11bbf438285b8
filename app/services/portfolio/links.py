"""Where each kind of item lives: the one place that turns an item into its page's address."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Item, ItemType

ITEM_PATHS = {ItemType.artefact: "/artefacts", ItemType.reflection: "/reflections", ItemType.goal: "/goals"}


def item_link(item_type: ItemType, item_id: int) -> str:
    """The page of an item of a known type."""
    return f"{ITEM_PATHS[ItemType(item_type)]}/{item_id}"


def link_to_item(*, session: Session, item_id: int) -> str:
    """The page of the item with this id, whatever its type ("/" when it is gone)."""
    item_type = session.exec(select(Item.type).where(Item.id == item_id)).first()
    return item_link(item_type, item_id) if item_type is not None else "/"
