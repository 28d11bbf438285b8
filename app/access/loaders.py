"""Loading one thing for one viewer: the row, or NotFound (missing, hidden, or not theirs to change look the same)."""

from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

from app.access.errors import not_found
from app.access.rules import can_see
from app.models import Reflection, ReflectionStatus, User

MAX_ID = 2**31 - 1
T = TypeVar("T")


def valid_id(value: object) -> bool:
    """True for an int that could be a row's id (a 32-bit key on PostgreSQL)."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def is_draft(item: object) -> bool:
    """Only reflections have drafts; a draft is its owner's alone."""
    return isinstance(item, Reflection) and item.status is ReflectionStatus.draft


def load(session: Session, model: type[T], item_id: int) -> T:
    """The row with this id, or NotFound (also for ids no row could have)."""
    row = session.get(model, item_id) if valid_id(item_id) else None
    if row is None:
        raise not_found()
    return row


def load_visible(session: Session, model: type[T], item_id: int, viewer: User) -> T:
    """An artefact, reflection or goal `viewer` may see under the audience rules, or NotFound."""
    item = load(session, model, item_id)
    if not can_see(session=session, viewer=viewer, owner_id=item.owner_id, audience=item.audience,
                   draft=is_draft(item), item_id=item.id):
        raise not_found()
    return item


def can_change(viewer: User, item: object) -> bool:
    """Only the owner changes an item (teachers comment and assess; they never edit a student's work)."""
    return getattr(item, "owner_id", None) == viewer.id


def load_own(session: Session, model: type[T], item_id: int, owner: User) -> T:
    """`owner`'s own item, to change; anyone else's is NotFound, as if it didn't exist."""
    item = load(session, model, item_id)
    if not can_change(owner, item):
        raise not_found()
    return item
