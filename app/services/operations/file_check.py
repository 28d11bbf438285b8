"""`folio check [--repair]`: the upload store against the database — files no row names (orphans, e.g. left by
a process killed mid-upload), rows whose file is gone, and storage counts that differ from what is stored.

Orphans younger than the longest an upload can take are left alone: their row may be about to be committed.
Repairs are safe while Folio runs: orphans go to the trash (not deleted: a mistake is undone from `.trash/` for
FOLIO_TRASH_HOURS), and counts are moved by the difference found, so an upload finishing meanwhile still counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app import storage as file_storage
from app.config import Settings
from app.models import Artefact, User
from app.services.operations.file_references import referenced_names

DERIVATIVES = ("thumb_small", "thumb_large", "thumb_print")


@dataclass(frozen=True)
class Orphan:
    key: str
    size: int
    stored_at: datetime | None


@dataclass(frozen=True)
class MissingFile:
    key: str
    item_id: int
    owner_id: int
    owner: str
    title: str


@dataclass(frozen=True)
class CountMismatch:
    user_id: int
    username: str
    counted: int
    stored: int


@dataclass
class CheckReport:
    stored_files: int = 0
    referenced_files: int = 0
    grace: timedelta = timedelta(0)
    orphans: list[Orphan] = field(default_factory=list)
    missing: list[MissingFile] = field(default_factory=list)
    counts: list[CountMismatch] = field(default_factory=list)
    derived_unrecorded: int = 0  # artefacts whose derived_bytes differ from their thumbnails' stored size
    repaired: bool = False

    @property
    def problems(self) -> int:
        return len(self.orphans) + len(self.missing) + len(self.counts) + self.derived_unrecorded

    @property
    def problems_left(self) -> int:
        """What is still wrong after this run (rows whose file is missing can't be repaired)."""
        return len(self.missing) if self.repaired else self.problems


def check_files(*, settings: Settings, engine: Engine, repair: bool = False, grace: timedelta | None = None,
                now: datetime | None = None) -> CheckReport:
    """Compare the upload store with the rows that name its files; with `repair`, trash orphans older than
    `grace` (default: the longest an upload can take) and correct the recorded sizes and storage counts."""
    now = now or datetime.now(timezone.utc)
    grace = timedelta(seconds=settings.upload_time_limit_seconds) if grace is None else grace
    store = file_storage.uploads(settings)
    report = CheckReport(grace=grace, repaired=repair)

    # Rows are read before and after the listing: a file is put in the store before its row is committed and
    # trashed after its row is deleted, so a file named by neither reading is no upload in flight, and a name in
    # both readings but not listed is really missing.
    with engine.connect() as connection:
        named_before = referenced_names(connection)
    stored = store.scan()
    with engine.connect() as connection:
        named_after = referenced_names(connection)
        artefacts = connection.execute(
            sa.select(Artefact.id, Artefact.owner_id, Artefact.title, Artefact.stored_name, Artefact.size_bytes,
                      Artefact.derived_bytes, *(getattr(Artefact, column) for column in DERIVATIVES))
            .where(Artefact.stored_name.is_not(None))).all()
        users = {row.id: row for row in connection.execute(
            sa.select(User.id, User.username, User.storage_used_bytes)).all()}
    named = named_before | named_after
    report.stored_files, report.referenced_files = len(stored), len(named_after)

    cutoff = now - grace
    report.orphans = [Orphan(key=key, size=info.size, stored_at=info.modified) for key, info in sorted(stored.items())
                      if key not in named and (info.modified is None or info.modified < cutoff)]

    missing = (named_before & named_after) - stored.keys()
    stored_per_owner: dict[int, int] = defaultdict(int)
    derived_fixes: dict[int, int] = {}
    for row in artefacts:
        keys = (row.stored_name, *(getattr(row, column) for column in DERIVATIVES))
        for key in keys:
            if key and key in missing:
                owner = users.get(row.owner_id)
                report.missing.append(MissingFile(key=key, item_id=row.id, owner_id=row.owner_id,
                                                  owner=owner.username if owner else "?", title=row.title))
        if row.stored_name not in named_before:  # uploaded while the store was listed: count what it reserved
            stored_per_owner[row.owner_id] += (row.size_bytes or 0) + (row.derived_bytes or 0)
            continue
        stored_per_owner[row.owner_id] += sum(stored[key].size for key in keys if key and key in stored)
        derived = [getattr(row, column) for column in DERIVATIVES]
        if all(key in stored for key in derived if key):
            measured = sum(stored[key].size for key in derived if key)
            if measured != row.derived_bytes:
                derived_fixes[row.id] = measured
    report.derived_unrecorded = len(derived_fixes)
    report.counts = [CountMismatch(user_id=user.id, username=user.username, counted=user.storage_used_bytes,
                                   stored=stored_per_owner.get(user.id, 0))
                     for user in users.values() if user.storage_used_bytes != stored_per_owner.get(user.id, 0)]

    if repair:
        store.trash(orphan.key for orphan in report.orphans)
        with engine.begin() as connection:
            for artefact_id, measured in derived_fixes.items():
                connection.execute(sa.update(Artefact).where(Artefact.id == artefact_id)
                                   .values(derived_bytes=measured))
            for mismatch in report.counts:
                # By the difference found, never below zero: an upload or deletion since the reading still counts.
                corrected = User.storage_used_bytes + (mismatch.stored - mismatch.counted)
                connection.execute(sa.update(User).where(User.id == mismatch.user_id)
                                   .values(storage_used_bytes=sa.case((corrected > 0, corrected), else_=0)))
    report.missing.sort(key=lambda missing_file: (missing_file.owner_id, missing_file.item_id, missing_file.key))
    return report


def describe(report: CheckReport) -> list[str]:
    """The report as plain lines for the terminal (operators' English, like the other commands)."""
    done = report.repaired
    lines = [f"Checked {report.stored_files:,} stored files against {report.referenced_files:,} named by the database."]
    if report.orphans:
        lines.append(f"Files no row names, stored over {_duration(report.grace)} ago: {len(report.orphans):,}"
                     + (" (moved to the trash)" if done else " (--repair moves them to the trash)"))
        for orphan in report.orphans:
            when = orphan.stored_at.strftime("%Y-%m-%d %H:%M UTC") if orphan.stored_at else "at an unknown time"
            lines.append(f"  {orphan.key}  {orphan.size:,} bytes, stored {when}")
    if report.missing:
        lines.append(f"Files named by a row but missing: {len(report.missing):,} (only a backup can bring them back)")
        for item in report.missing:
            lines.append(f"  {item.key}  item {item.item_id} “{item.title}” of {item.owner} (user {item.owner_id})")
    if report.derived_unrecorded:
        lines.append(f"Photos whose thumbnail sizes were not recorded: {report.derived_unrecorded:,}"
                     + (" (recorded now)" if done else " (--repair records them)"))
    if report.counts:
        lines.append(f"Storage counts that differ from what is stored: {len(report.counts):,}"
                     + (" (corrected)" if done else " (--repair corrects them)"))
        for count in report.counts:
            lines.append(f"  {count.username} (user {count.user_id}): counted {count.counted:,} bytes, "
                         f"stored {count.stored:,} bytes")
    if not report.problems:
        lines.append("Everything matches.")
    elif report.problems_left:
        lines.append(f"Problems left: {report.problems_left:,}.")
    else:
        lines.append("Everything is repaired.")
    return lines


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    return f"{minutes} minutes" if minutes < 120 else f"{minutes / 60:.1f} hours"
