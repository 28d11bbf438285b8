"""`folio restore`: check a backup against its manifest, then put it into an empty Folio (database, files, key)."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app import storage as file_storage
from app.config import Settings
from app.db import make_engine
from app.services.operations.backup import (
    FORMAT, MANIFEST, PG_FILE, SECRET_FILE, SQLITE_FILE, UPLOADS, BackupError, Progress, _checksum,
)
from app.services.operations.pg_tools import libpq_url, pg_tool


@dataclass
class RestoreReport:
    files: int = 0
    warnings: list[str] = field(default_factory=list)


def verify(*, source: Path, progress: Progress = lambda _message: None) -> dict:
    """The backup's manifest, once every file it lists is present with its recorded checksum."""
    manifest_path = Path(source) / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} is not a Folio backup (no {MANIFEST}).")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError as exc:
        raise BackupError(f"{manifest_path} is damaged: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source} was made by a different backup format ({manifest.get('format')!r}).")
    problems = []
    for index, (relative, expected) in enumerate(sorted(manifest["files"].items()), start=1):
        path = Path(source) / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif _checksum(path) != expected:
            problems.append(f"changed since the backup: {relative}")
        if index % 500 == 0:
            progress(f"  checked {index:,} of {len(manifest['files']):,} files")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ...and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise BackupError(f"The backup does not match its manifest:\n  {shown}{more}")
    return manifest


def restore(*, settings: Settings, source: Path, progress: Progress = lambda _message: None) -> RestoreReport:
    """Verify the backup, then restore it into this Folio's database and upload folder, which must be empty."""
    source = Path(source)
    manifest = verify(source=source, progress=progress)
    url = make_url(settings.effective_database_url)
    kind = manifest["database"]["kind"]
    if kind != url.get_backend_name():
        raise BackupError(f"This backup holds a {kind} database, but FOLIO_DATABASE_URL points at "
                          f"{url.get_backend_name()}.")
    _require_empty(settings)

    report = RestoreReport()
    if kind == "sqlite":
        target = Path(url.database)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(target.name + ".restoring")
        shutil.copyfile(source / SQLITE_FILE, temporary)
        temporary.rename(target)
    else:
        result = subprocess.run(
            [str(pg_tool("pg_restore")), "--no-owner", "--no-privileges", "--exit-on-error",
             f"--dbname={libpq_url(settings.effective_database_url)}", str(source / PG_FILE)],
            capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    progress("Database restored; copying files...")

    prefix = f"{UPLOADS}/"
    store = file_storage.uploads(settings)
    for relative in manifest["files"]:
        if relative.startswith(prefix):
            # put_file takes its source away: hand it a copy, made in the store's scratch folder.
            scratch = store.new_scratch_path(".restore")
            shutil.copyfile(source / relative, scratch)
            store.put_file(relative[len(prefix):], scratch)
            report.files += 1

    secret = (source / SECRET_FILE).read_text().strip()
    if settings.secret_key and settings.secret_key != secret:
        report.warnings.append(
            "FOLIO_SECRET_KEY differs from the backup's key: sign-in cookies, invitation and reset links made "
            "before the backup will not work. Set FOLIO_SECRET_KEY to the key in the backup's secret_key file "
            "to keep them.")
    elif not settings.secret_key:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        key_path = settings.data_dir / "secret_key"
        key_path.write_text(secret)
        key_path.chmod(0o600)
    if manifest.get("missing"):
        report.warnings.append(f"{len(manifest['missing'])} files were already missing when the backup was made.")
    return report


def _require_empty(settings: Settings) -> None:
    """Restoring over a live school would mix two schools: refuse unless database and uploads are empty."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} already exists: restore into an empty data folder.")
    else:
        engine = make_engine(settings)
        try:
            with engine.connect() as connection:
                tables = sa.inspect(connection).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError("The database in FOLIO_DATABASE_URL is not empty: restore into a new, empty database.")
    if file_storage.uploads(settings).list():
        raise BackupError("The upload store (FOLIO_STORAGE_URL or FOLIO_UPLOAD_DIR) already holds files: restore "
                          "into an empty one.")
