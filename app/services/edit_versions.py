"""Optimistic locking for what people edit in forms: a save names the version its form was opened at, and is refused
if someone saved since (two tabs, two devices, two teachers), so nothing is ever silently overwritten."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session


class EditConflict(Exception):
    """Saved elsewhere since the form was opened; carries the row as it is saved now."""

    def __init__(self, current) -> None:
        super().__init__("edit conflict")
        self.current = current


def parse_version(value: str | None) -> int | None:
    """The version a form sent back; None when it sent none (a script, or a page from before versions existed)."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def saved_now(*, session: Session, row):
    """After a refused save: roll it back and return `row` as it is saved now, for the conflict to show."""
    model, row_id = type(row), row.id
    session.rollback()
    current = session.get(model, row_id)
    session.refresh(current)
    return current


def claim_version(*, session: Session, row, version: int | None) -> None:
    """Move `row` to its next version if it is still at `version`; else roll back and raise EditConflict with the saved
    row. Call it before changing the row: check and bump are one UPDATE, so of two racing saves only one passes (the
    other waits for the first's lock, then finds the version moved on)."""
    model = type(row)
    statement = sa.update(model).where(model.id == row.id)
    if version is not None:
        statement = statement.where(model.version == version)
    new_version = session.execute(
        statement.values(version=model.version + 1).returning(model.version),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if new_version is None:
        raise EditConflict(saved_now(session=session, row=row))
    # Known to be saved already: the ORM's own UPDATE of the other columns leaves it alone.
    set_committed_value(row, "version", new_version)
