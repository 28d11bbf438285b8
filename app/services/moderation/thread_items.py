"""The artefact, reflection or goal a comment thread belongs to, loaded through its own service's access rule."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.models import Audience, ItemType, ReflectionStatus, User
from app.models.items import Item as ItemRow
from app.services.portfolio.links import item_link
from app.services.portfolio import goals as goal_service
from app.access import not_found
from app.services.portfolio.artefacts import artefact_visible_to
from app.services.portfolio.reflections import reflection_visible_to


@dataclass
class ThreadItem:
    """The artefact, reflection or goal a thread belongs to, as far as feedback needs it."""

    type: ItemType
    id: int
    owner_id: int
    title: str
    audience: Audience
    draft: bool = False

    @property
    def link(self) -> str:
        return item_link(self.type, self.id)


def parse_item_type(raw: str) -> ItemType:
    """The item type named in a form or query, or 404."""
    try:
        return ItemType(raw)
    except ValueError:
        raise not_found() from None


def item_visible_to(*, session: Session, viewer: User, item_type: ItemType, item_id: int) -> ThreadItem:
    """The item `viewer` may see, or 404 (the item services' own loaders decide)."""
    if item_type is ItemType.artefact:
        artefact = artefact_visible_to(session=session, viewer=viewer, artefact_id=item_id)
        return ThreadItem(item_type, artefact.id, artefact.owner_id, artefact.title, artefact.audience)
    if item_type is ItemType.reflection:
        reflection = reflection_visible_to(session=session, viewer=viewer, reflection_id=item_id)
        return ThreadItem(item_type, reflection.id, reflection.owner_id, reflection.title, reflection.audience,
                    draft=reflection.status is ReflectionStatus.draft)
    goal = goal_service.goal_visible_to(session=session, viewer=viewer, goal_id=item_id)
    return ThreadItem(item_type, goal.id, goal.owner_id, goal.title, goal.audience)


def item_visible_by_id(*, session: Session, viewer: User, item_id: int) -> ThreadItem:
    """The item with this id, of whatever type, if `viewer` may see it; or 404."""
    row = session.get(ItemRow, item_id)
    if row is None:
        raise not_found()
    return item_visible_to(session=session, viewer=viewer, item_type=row.type, item_id=item_id)
