"""Quick reactions beside comments: a guardian's heart, clap, star or wow on their child's items, and who reacted.

Only a guardian reacts, and only on an item of a linked child that families may see now (app.access.rules.family_items:
shared with family, published, approved where the class asks). Pressing a reaction again takes it back. The student,
their teachers and their family see the counts and the names; a guardian whose link ended no longer shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from babel.lists import format_list
from sqlmodel import Session, select

from app.access import not_found
from app.access.relationships import children_of, linked_as_guardian
from app.access.rules import family_items
from app.i18n import _, get_locale
from app.models import Item, ItemReaction, ReactionKind, Role, User

EMOJI = {ReactionKind.heart: "❤️", ReactionKind.clap: "👏", ReactionKind.star: "⭐", ReactionKind.wow: "😮"}


def reaction_label(kind: ReactionKind) -> str:
    """What a reaction says, for screen readers and tooltips."""
    return {ReactionKind.heart: _("Love it"), ReactionKind.clap: _("Well done"), ReactionKind.star: _("Star work"),
            ReactionKind.wow: _("Wow")}[kind]


def names_in_words(names: list[str]) -> str:
    """"Grandma Rosa and Mum", in the page's language."""
    if not names:
        return ""
    try:
        return format_list(names, locale=get_locale())
    except ValueError:  # a locale babel doesn't know lists for: the source language's way
        return format_list(names, locale="en")


@dataclass
class ReactionCount:
    kind: ReactionKind
    count: int = 0
    mine: bool = False
    names: list[str] = field(default_factory=list)

    @property
    def emoji(self) -> str:
        return EMOJI[self.kind]

    @property
    def label(self) -> str:
        return reaction_label(self.kind)

    @property
    def who(self) -> str:
        return names_in_words(self.names)


@dataclass
class ReactionBar:
    item_id: int
    can_react: bool
    counts: list[ReactionCount]
    names: list[str] = field(default_factory=list)  # everyone who reacted, in the order they first did

    @property
    def who(self) -> str:
        return names_in_words(self.names)

    @property
    def any(self) -> bool:
        return bool(self.names)


def parse_kind(raw: str) -> ReactionKind | None:
    """The reaction a form names, or None when it names none of them."""
    try:
        return ReactionKind(raw)
    except ValueError:
        return None


def reactable_item(*, session: Session, viewer: User, item_id: int) -> Item:
    """The item, when `viewer` is a guardian of its owner and families may see it now; otherwise 404 (for everyone
    else the question doesn't exist)."""
    if viewer.role is not Role.guardian:
        raise not_found()
    item = session.exec(
        select(Item).where(Item.id == item_id, Item.owner_id.in_(children_of(viewer.id)), family_items())
    ).first()
    if item is None:
        raise not_found()
    return item


def toggle(*, session: Session, viewer: User, item: Item, kind: ReactionKind) -> bool:
    """Add the viewer's reaction of this kind to the item, or take it back if it is there; True when added."""
    existing = session.exec(
        select(ItemReaction).where(ItemReaction.item_id == item.id, ItemReaction.user_id == viewer.id,
                                   ItemReaction.kind == kind)
    ).first()
    if existing is not None:
        session.delete(existing)
        return False
    session.add(ItemReaction(item_id=item.id, user_id=viewer.id, kind=kind))
    return True


def bars_for(*, session: Session, viewer: User, item_ids: list[int], can_react: bool) -> dict[int, ReactionBar]:
    """Each item's reactions from its owner's linked guardians, by kind, with who gave them (one query)."""
    bars = {item_id: ReactionBar(item_id, can_react, [ReactionCount(kind) for kind in ReactionKind])
            for item_id in item_ids}
    if not item_ids:
        return bars
    rows = session.exec(
        select(ItemReaction.item_id, ItemReaction.kind, ItemReaction.user_id, User.display_name)
        .join(User, User.id == ItemReaction.user_id)
        .join(Item, Item.id == ItemReaction.item_id)
        .where(ItemReaction.item_id.in_(item_ids), linked_as_guardian(ItemReaction.user_id, Item.owner_id))
        .order_by(ItemReaction.created_at, ItemReaction.id)
    ).all()
    for item_id, kind, user_id, name in rows:
        bar = bars[item_id]
        count = bar.counts[list(ReactionKind).index(kind)]
        count.count += 1
        count.names.append(name)
        count.mine = count.mine or user_id == viewer.id
        if name not in bar.names:
            bar.names.append(name)
    return bars


def bar_for_item(*, session: Session, viewer: User, item_id: int, owner_id: int, teaches_owner: bool
                 ) -> ReactionBar | None:
    """The reactions on an item page the viewer already may see: guardians (who only see what families may) react;
    the owner and their teachers see who did, once someone has; classmates see none of it."""
    if viewer.role is Role.guardian:
        return bars_for(session=session, viewer=viewer, item_ids=[item_id], can_react=True)[item_id]
    if viewer.id != owner_id and not teaches_owner:
        return None
    bar = bars_for(session=session, viewer=viewer, item_ids=[item_id], can_react=False)[item_id]
    return bar if bar.any else None
