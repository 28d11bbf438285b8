"""One way for form routes to refuse a save without losing what was typed: changed elsewhere (409), busy database
(503) or full disk (507) all come back as SaveRefused, for the route to show its form again with the typed values."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session

from app.faults import fault_of
from app.i18n import _
from app.services.edit_versions import EditConflict

log = logging.getLogger("folio")

CONFLICT_STATUS = 409


class SaveRefused(Exception):
    """Nothing was saved; `message` says why, beside the form; `current` is the saved row after an edit conflict."""

    def __init__(self, status: int, message: str, current=None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.current = current


def conflict_message() -> str:
    return _("Someone changed this somewhere else (another tab, device or person) after you opened it. Nothing was "
             "overwritten: what you typed is still in the form, and what is saved now is shown below. Copy what you "
             "need, then save again.")


@contextmanager
def keeping_typed_text(session: Session) -> Iterator[None]:
    """Run a save (its commit included); if it is refused, roll it all back and raise SaveRefused."""
    try:
        yield
    except EditConflict as conflict:
        raise SaveRefused(CONFLICT_STATUS, conflict_message(), conflict.current) from conflict
    except Exception as exc:
        fault = fault_of(exc)
        if fault is None:
            raise
        session.rollback()
        log.warning("Save refused (%s): %s", fault.status, exc)
        raise SaveRefused(fault.status, fault.message) from exc
