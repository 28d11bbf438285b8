"""Files in a folder on this machine (the default: FOLIO_UPLOAD_DIR)."""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO

from app.storage.base import READ_CHUNK_BYTES, TRASH, ObjectInfo, Storage, check_key, utc_timestamp

SCRATCH = ".incoming"  # files still arriving or being checked; on the same filesystem, so keeping one is a rename


def _copy_then_rename(source: Path, destination: Path) -> None:
    """Copy `source` to a hidden file beside `destination`, then rename it into place: a reader never sees half a
    file."""
    partial = destination.with_name(f".{destination.name}.part")
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)


class LocalStorage(Storage):
    """Keys are paths under `root`; scratch files live in `root/.incoming` unless told otherwise."""

    def __init__(self, root: Path, *, scratch_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.scratch_dir = scratch_dir or self.root / SCRATCH

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def path(self, key: str) -> Path:
        """The file `key` names; ValueError for a key that escapes the folder (symlinks included)."""
        check_key(key)
        root = self.root.resolve()
        path = (root / key).resolve()
        if path == root or not path.is_relative_to(root) or path.relative_to(root).parts[0].startswith("."):
            raise ValueError(f"Unsafe stored name: {key!r}")
        return path

    def local_path(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def put_file(self, key: str, source: Path, *, content_type: str | None = None) -> None:
        destination = self.path(key)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, destination)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            # Another filesystem (a scratch folder elsewhere): copy beside the destination, then rename.
            _copy_then_rename(Path(source), destination)
            Path(source).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def info(self, key: str) -> ObjectInfo | None:
        try:
            stat = self.path(key).stat()
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None
        if not S_ISREG(stat.st_mode):
            return None
        return ObjectInfo(size=stat.st_size, modified=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc))

    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        with self.open(key) as handle:
            handle.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = handle.read(READ_CHUNK_BYTES if remaining is None else min(READ_CHUNK_BYTES, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def delete(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                self.path(key).unlink(missing_ok=True)
            except ValueError:
                continue  # never a path outside the folder, whatever the database says
            except IsADirectoryError:
                continue

    def trash(self, keys: Iterable[str]) -> None:
        for key in keys:
            try:
                source = self.path(key)
            except ValueError:
                continue
            target = self.root / TRASH / key
            target.parent.mkdir(parents=True, exist_ok=True)
            now = time.time()
            try:
                # Stamped before the move (a rename keeps mtime), so a sweep never sees it in the trash with its
                # upload time and purges it at once: the grace period starts now.
                os.utime(source, (now, now))
                os.replace(source, target)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                continue  # gone already (another process moved it first), or not a file

    def open_trashed(self, key: str) -> BinaryIO:
        check_key(key)
        return open(self.root / TRASH / key, "rb")

    def purge_trash(self, *, deleted_before: datetime) -> int:
        folder = self.root / TRASH
        cutoff = utc_timestamp(deleted_before)
        removed = 0
        # Empty folders stay: removing one could race with trash() moving a file into it.
        for path in folder.rglob("*") if folder.is_dir() else ():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another sweep got there first
                continue
        return removed

    def scan(self, prefix: str = "") -> dict[str, ObjectInfo]:
        found = {}
        for key in self.list(prefix):
            info = self.info(key)
            if info is not None:
                found[key] = info
        return found

    def copy(self, source_key: str, destination_key: str) -> None:
        source = self.path(source_key)
        destination = self.path(destination_key)
        destination.parent.mkdir(parents=True, exist_ok=True)
        _copy_then_rename(source, destination)

    def list(self, prefix: str = "") -> list[str]:
        folder = self.root / prefix.rpartition("/")[0] if "/" in prefix else self.root
        if ".." in prefix.split("/") or not folder.is_dir():
            return []
        keys = []
        for path in folder.rglob("*"):
            relative = path.relative_to(self.root)
            if any(part.startswith(".") for part in relative.parts) or not path.is_file():
                continue
            key = relative.as_posix()
            if key.startswith(prefix):
                keys.append(key)
        return sorted(keys)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        yield path
