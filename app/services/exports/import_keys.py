"""An import's ledger: which archive entries it has already created (the import_keys table), and its batches.

An import commits in short batches, so no save elsewhere waits on it for long and its progress can be seen; every
item created is recorded under the import's scope (the uploaded file's fingerprint) in the same batch, so an import
run again after its runner died skips what was committed and carries on. The last batch is left for the caller to
commit with the outcome (a job commits it together with "done"). Used by archive_import and leap2a_import.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from app import storage as file_storage
from app.config import Settings
from app.models import Artefact, ImportKey, Item, Job, JobStatus, User
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import timeline
from app.services.portfolio import stored_files

BATCH_ITEMS = 50  # rows-only items (notes, links) committed together; a stored file always ends its batch
DONE_KEY = ""  # the key of the row that says the import finished


def fingerprint(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stored_key(key: str) -> str:
    # Archive refs and Leap2A ids are the archive's own words: a long one is kept as its hash.
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def imported_on(*, session: Session, student: User, scope: str) -> datetime | None:
    """When an import of this scope (a file's fingerprint) into `student` finished, or None."""
    return session.exec(select(ImportKey.created_at).where(
        ImportKey.student_id == student.id, ImportKey.scope == scope, ImportKey.item_key == DONE_KEY)).first()


def import_under_way(*, session: Session, student: User, scope: str) -> Job | None:
    """A queued or running import of this scope into `student`, if there is one."""
    active = session.exec(select(Job).where(Job.kind == "import", Job.status.in_((JobStatus.queued, JobStatus.running)))
                          .order_by(Job.id)).all()
    return next((job for job in active if (job.params or {}).get("student_id") == student.id
                 and (job.params or {}).get("scope") == scope), None)


def scope_for(*, fingerprint: str, again: bool) -> str:
    """The scope of a new import of a file: its fingerprint, or (importing it again as copies) a new one."""
    return f"{fingerprint}:{secrets.token_hex(8)}" if again else fingerprint


class Ledger:
    """The keys one import has recorded, and its batches.

    `commit` commits a batch (a job's commit_batch, which also checks the job is still this runner's); a file being
    stored starts a new batch first (`before_slow_work`), so no write transaction is open while photos are
    processed."""

    def __init__(self, *, session: Session, settings: Settings, student: User, scope: str,
                 commit: Callable[[], None], skip_earlier: bool = True) -> None:
        self.session = session
        # What earlier imports of the same source brought in is skipped (Leap2A), unless copies were asked for.
        self.skip_earlier = skip_earlier
        self.settings = settings
        self.student_id = student.id
        self.scope = scope[:100]
        self.commit = commit
        self.pending = 0
        self.uncommitted_files: list[stored_files.StoredFile] = []  # removed if the batch they belong to is rolled back
        rows = session.exec(select(ImportKey.item_key, ImportKey.item_id).where(
            ImportKey.student_id == student.id, ImportKey.scope == self.scope, ImportKey.item_id.is_not(None))).all()
        self.known: dict[str, int] = dict(rows)

    def existing(self, key: str) -> int | None:
        """The id of the item this import already created for `key`, if it was committed."""
        return self.known.get(_stored_key(key))

    def earlier(self, keys: list[str]) -> dict[str, int | None]:
        """The keys other imports into this student recorded, with their item (None for a showcase): still here,
        since deleting an item deletes its key. Empty when the person asked for copies."""
        if not self.skip_earlier or not keys:
            return {}
        by_stored = {_stored_key(key): key for key in keys}
        found: dict[str, int | None] = {}
        stored = list(by_stored)
        for start in range(0, len(stored), 500):
            for item_key, item_id in self.session.exec(select(ImportKey.item_key, ImportKey.item_id).where(
                    ImportKey.student_id == self.student_id, ImportKey.scope != self.scope,
                    ImportKey.item_key.in_(stored[start:start + 500]))).all():
                key = by_stored[item_key]
                found[key] = found.get(key) or item_id
        return found

    def record(self, key: str, item_id: int | None, *, files: list[stored_files.StoredFile] = ()) -> None:
        """Remember that `key` became item `item_id` (saved with the batch)."""
        stored = _stored_key(key)
        self.session.add(ImportKey(student_id=self.student_id, scope=self.scope, item_key=stored, item_id=item_id))
        self.known[stored] = item_id
        self.uncommitted_files.extend(files)
        self.pending += 1
        if self.pending >= BATCH_ITEMS:
            self.end_batch()

    def before_slow_work(self) -> None:
        """Commit what is pending, so nothing holds the write lock while a file is stored."""
        if self.pending:
            self.end_batch()

    def end_batch(self) -> None:
        self.session.flush()
        self.commit()
        self.pending = 0
        self.uncommitted_files.clear()

    def finish(self) -> None:
        """Record that the import finished; committed by the caller with the last batch."""
        self.session.add(ImportKey(student_id=self.student_id, scope=self.scope, item_key=DONE_KEY))
        self.session.flush()

    def discard_uncommitted_files(self) -> None:
        """After a rollback: remove the files stored for the batch that was lost."""
        stored_files.discard(store=file_storage.uploads(self.settings), files=self.uncommitted_files)
        self.uncommitted_files.clear()


def undo(*, session: Session, settings: Settings, student: User, scope: str) -> int:
    """Delete what earlier batches of a refused or failed import committed (items, their files and the storage
    they took), so a failed import leaves nothing behind; commits; how many items were removed. An import of
    the same scope that finished (another run of it) is left alone."""
    session.rollback()
    if imported_on(session=session, student=student, scope=scope[:100]) is not None:
        return 0
    item_ids = list(session.exec(select(ImportKey.item_id).where(
        ImportKey.student_id == student.id, ImportKey.scope == scope[:100], ImportKey.item_id.is_not(None))).all())
    names: list[str] = []
    if item_ids:
        for artefact in session.exec(select(Artefact).where(Artefact.id.in_(item_ids))).all():
            names += artefact_service.delete_artefact(session=session, artefact=artefact)
        others = session.exec(select(Item.id).where(Item.id.in_(item_ids))).all()
        for item_id in others:
            timeline.delete_item(session=session, item_id=item_id)
    session.execute(sa.delete(ImportKey).where(ImportKey.student_id == student.id, ImportKey.scope == scope[:100]))
    session.commit()
    stored_files.discard_names(store=file_storage.uploads(settings), names=names)
    return len(item_ids)
