"""What /healthz reports: the database answers and accepts writes, and the folders Folio writes to have room."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Health:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_dict(self, *, verbose: bool) -> dict:
        """The JSON body: a status for everyone, and which check failed only for those allowed to know."""
        body: dict = {"status": "ok" if self.ok else "unavailable"}
        if verbose:
            body["checks"] = {check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks}
        return body


def check_health(*, engine: Engine, settings: Settings) -> Health:
    """Database writable and enough free space where uploads and data go (a server that can't save isn't up)."""
    checks = [_database(engine)]
    folders = {"uploads": settings.upload_dir, "data": settings.data_dir}
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folders["database"] = Path(url.database).parent
    minimum = settings.health_min_free_mb * 1024 * 1024
    for name, folder in folders.items():
        checks.append(_free_space(name, folder, minimum))
    return Health(checks=tuple(checks))


def _database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                path = engine.url.database
                read_only = connection.execute(text("PRAGMA query_only")).scalar() == 1
                if path not in (None, "", ":memory:"):
                    # SQLite writes the file and, in WAL mode, new files beside it.
                    read_only = read_only or not os.access(path, os.W_OK) or not os.access(
                        os.path.dirname(os.path.abspath(path)), os.W_OK)
            else:
                read_only = bool(connection.execute(text(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'")).scalar())
    except Exception as exc:  # any driver error means the database can't be used
        return Check("database", False, f"unreachable: {type(exc).__name__}")
    if read_only:
        return Check("database", False, "answers but refuses writes")
    return Check("database", True, "writable")


def _free_space(name: str, folder: Path, minimum: int) -> Check:
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # a folder not made yet is on the filesystem of its nearest parent
    try:
        free = shutil.disk_usage(probe).free
    except OSError as exc:
        return Check(f"{name} space", False, f"cannot be read: {exc.strerror}")
    detail = f"{free // (1024 * 1024):,} MB free (at least {minimum // (1024 * 1024):,} MB needed)"
    return Check(f"{name} space", free >= minimum, detail)
