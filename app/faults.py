"""Faults a person can't fix by changing what they typed: a busy database or a full disk.

A save that fails for one of these reasons never loses the person's text: the form comes back with everything typed
and one of the messages below (app.routes.forms.keeping_typed_text in the form routes, app.errors for any other).
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from app.i18n import _

BUSY_STATUS = 503
FULL_STATUS = 507

# SQLite result codes (the low byte of an extended code): SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL.
_SQLITE_BUSY = {5, 6}
_SQLITE_FULL = {13}
# PostgreSQL SQLSTATEs: lock_not_available (lock_timeout), query_canceled (statement_timeout), deadlock_detected,
# serialization_failure; disk_full and insufficient_resources.
_PG_BUSY = {"55P03", "57014", "40P01", "40001"}
_PG_FULL = {"53100", "53000"}
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver error SQLAlchemy wraps, and whatever caused them."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def _sqlite_code(exc: BaseException) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)


def is_busy(exc: BaseException) -> bool:
    """The database was busy (locked by another writer, or a lock or statement timeout ran out): worth a retry."""
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.Error):
            if _sqlite_code(cause) in _SQLITE_BUSY or "is locked" in str(cause):
                return True
        elif _sqlstate(cause) in _PG_BUSY:
            return True
    return False


def is_disk_full(exc: BaseException) -> bool:
    """A disk (or the user's quota on it) was full: the database's, or the uploads'."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in _DISK_ERRNOS:
            return True
        if isinstance(cause, sqlite3.Error) and (
            _sqlite_code(cause) in _SQLITE_FULL or "database or disk is full" in str(cause)
        ):
            return True
        if _sqlstate(cause) in _PG_FULL:
            return True
    return False


@dataclass(frozen=True)
class Fault:
    """What went wrong, in words for the person at the form, and the HTTP status to answer with."""

    status: int
    message: str


def disk_full_message() -> str:
    return _("The school's server is out of space: tell your teacher; your text is still here.")


def busy_message() -> str:
    return _("Folio is busy, your text is safe: try Save again in a moment.")


def fault_of(exc: BaseException) -> Fault | None:
    """The fault `exc` stands for, or None when it is an ordinary error (a bug: logged and a 500)."""
    if is_disk_full(exc):
        return Fault(FULL_STATUS, disk_full_message())
    if is_busy(exc):
        return Fault(BUSY_STATUS, busy_message())
    return None
