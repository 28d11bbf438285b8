"""`folio backup`: a consistent copy of a running Folio — database snapshot, the files it references (from the upload
store, a folder or a bucket), the secret key and a manifest of checksums — that `folio restore` can verify and put
back."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import storage as file_storage
from app.config import Settings
from app.db import make_engine
from app.storage import Storage
from app.services.operations.file_references import referenced_names
from app.services.operations.pg_tools import libpq_url, pg_tool

MANIFEST = "manifest.json"
FORMAT = "folio-backup/1"
SQLITE_FILE = "database/folio.db"
PG_FILE = "database/folio.dump"
SECRET_FILE = "secret_key"
UPLOADS = "uploads"
CHUNK = 1024 * 1024

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore that cannot go on, with the reason in plain words."""


@dataclass
class BackupReport:
    path: Path
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    seconds: float = 0.0


def backup(*, settings: Settings, dest: Path, progress: Progress = lambda _message: None) -> BackupReport:
    """Back up the database and the files its rows reference into dest (new or empty), while Folio runs."""
    started = time.monotonic()
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new folder.")
    # Written beside dest and renamed at the end, so a folder named dest is always a finished backup.
    partial = dest.with_name(dest.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "database").mkdir(parents=True)
    report = BackupReport(path=dest)
    entries: dict[str, dict] = {}

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        database_file = SQLITE_FILE
        names, revision = _snapshot_sqlite(Path(url.database), partial / SQLITE_FILE)
    else:
        database_file = PG_FILE
        names, revision = _snapshot_postgres(settings, partial / PG_FILE)
    entries[database_file] = _checksum(partial / database_file)
    progress(f"Database copied ({entries[database_file]['size']:,} bytes); copying {len(names):,} files...")

    store = file_storage.uploads(settings)
    for index, name in enumerate(sorted(names), start=1):
        try:
            entries[f"{UPLOADS}/{name}"] = _copy_kept_or_trashed(store, name, partial / UPLOADS / name)
        except (FileNotFoundError, ValueError):  # ValueError: a name that isn't a safe key is never read
            # Tolerated, but reported: the file was missing before the snapshot (`folio check` says more).
            report.missing.append(name)
            continue
        report.files += 1
        report.bytes += entries[f"{UPLOADS}/{name}"]["size"]
        if index % 500 == 0:
            progress(f"  {index:,} of {len(names):,} files")

    secret = settings.resolved_secret_key()
    secret_path = partial / SECRET_FILE
    secret_path.write_text(secret)
    secret_path.chmod(0o600)
    entries[SECRET_FILE] = _checksum(secret_path)

    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "database": {"kind": url.get_backend_name(), "file": database_file, "schema_revision": revision},
        "files": entries,
        "missing": report.missing,
    }
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    _fsync_tree(partial)
    if dest.exists():
        dest.rmdir()
    partial.rename(dest)
    report.seconds = time.monotonic() - started
    return report


def _snapshot_sqlite(source: Path, target: Path) -> tuple[set[str], str | None]:
    """SQLite's online backup API: one read transaction, so the copy is a consistent point in time, and in WAL
    mode writers carry on meanwhile."""
    if not source.exists():
        raise BackupError(f"There is no database at {source}.")
    with sqlite3.connect(source, timeout=30) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    engine = sa.create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as connection:
            return referenced_names(connection), _revision(connection)
    finally:
        engine.dispose()


def _snapshot_postgres(settings: Settings, target: Path) -> tuple[set[str], str | None]:
    """pg_dump of an exported snapshot, and the file list read in that same snapshot."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            names, revision = referenced_names(connection), _revision(connection)
            # The snapshot lives as long as this transaction, so pg_dump runs while it is open.
            result = subprocess.run(
                [str(pg_tool("pg_dump")), "--format=custom", "--no-owner", "--no-privileges",
                 f"--snapshot={snapshot}", f"--file={target}", libpq_url(settings.effective_database_url)],
                capture_output=True, text=True,
            )
            connection.exec_driver_sql("COMMIT")
    finally:
        engine.dispose()
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return names, revision


def _revision(connection) -> str | None:
    try:
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None


def _copy_kept_or_trashed(store: Storage, key: str, target: Path) -> dict:
    """Copy a file the snapshot references; one whose row was deleted since is in the trash (for
    FOLIO_TRASH_HOURS, far longer than a backup takes)."""
    try:
        return _copy(store.open(key), target)
    except FileNotFoundError:
        return _copy(store.open_trashed(key), target)


def _copy(source: BinaryIO, target: Path) -> dict:
    """Copy a stored file in chunks, hashing on the way (never the whole file in memory)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source as reader, open(target, "wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _checksum(path: Path) -> dict:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _fsync_tree(root: Path) -> None:
    # A backup that sits in the page cache when the power goes is no backup.
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as handle:
                os.fsync(handle.fileno())
