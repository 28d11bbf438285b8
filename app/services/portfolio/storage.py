"""Each student's storage count (users.storage_used_bytes): reserved and released by one conditional UPDATE each.

Never read the count, add in Python and write it back: two uploads finishing together would both pass the quota
check and one addition would be lost. The database applies each change to the current value instead, and the
quota check is part of the same statement, so only one of two racing uploads can take the last free bytes.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import User


class QuotaExceeded(Exception):
    """The file doesn't fit in what is left of the owner's quota; nothing was reserved."""

    def __init__(self, *, name: str, size_bytes: int, space_left: int):
        super().__init__(f"{size_bytes} bytes don't fit in {space_left}")
        self.name = name
        self.size_bytes = size_bytes
        self.space_left = space_left

    @property
    def message(self) -> str:
        """What to tell the person, translated."""
        from app.services.portfolio.upload_messages import human_size

        return _("“%(name)s” is %(size)s, but only %(space)s of your storage space is left.",
                 name=self.name, size=human_size(self.size_bytes), space=human_size(self.space_left))


def reserve(*, session: Session, user_id: int, size_bytes: int, quota_bytes: int | None, name: str = "") -> None:
    """Count `size_bytes` more for the user if that stays within `quota_bytes` (None: no limit); else QuotaExceeded."""
    statement = sa.update(User).where(User.id == user_id).values(storage_used_bytes=User.storage_used_bytes + size_bytes)
    if quota_bytes is not None:
        statement = statement.where(User.storage_used_bytes + size_bytes <= quota_bytes)
    result = session.exec(statement.execution_options(synchronize_session=False))
    if result.rowcount != 1:
        used = session.exec(select(User.storage_used_bytes).where(User.id == user_id)).one()
        raise QuotaExceeded(name=name, size_bytes=size_bytes, space_left=max(0, (quota_bytes or 0) - used))
    _forget_loaded_count(session, user_id)


def release(*, session: Session, user_id: int, size_bytes: int) -> None:
    """Count `size_bytes` less for the user (a deleted file), never below zero."""
    if size_bytes <= 0:
        return
    remaining = sa.case((User.storage_used_bytes > size_bytes, User.storage_used_bytes - size_bytes), else_=0)
    session.exec(sa.update(User).where(User.id == user_id).values(storage_used_bytes=remaining)
                 .execution_options(synchronize_session=False))
    _forget_loaded_count(session, user_id)


def _forget_loaded_count(session: Session, user_id: int) -> None:
    # A User already loaded holds the old count: expire it, so it is read again (and never written back stale).
    loaded = session.identity_map.get(session.identity_key(User, user_id))
    if loaded is not None:
        session.expire(loaded, ["storage_used_bytes"])
