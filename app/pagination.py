"""Page-number pagination for lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def paginate(session: Session, statement: SelectOfScalar[T], *, number: int, size: int) -> Page[T]:
    """One page of `statement`'s rows (two queries: the count and the page)."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    number = min(max(1, number), max(1, -(-total // size)))
    items = list(session.exec(statement.offset((number - 1) * size).limit(size)).all())
    return Page(items=items, number=number, size=size, total=total)
