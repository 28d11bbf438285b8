"""What Folio asks of a place to keep files: uploads (originals and their derivatives) and job results.

Two implementations: LocalStorage (a folder; the default) and S3Storage (an S3-compatible object store, so several
app processes on several hosts share one set of files). Keys are relative POSIX paths ("u42/3f9c...e1.jpg");
nothing outside the store is ever named by a key (check_key).

Files are always made on local disk first (received, sniffed, cleaned, thumbnailed in `scratch_dir`) and only then
handed to the store whole with `put_file`, so a key never names a half-written or unchecked file.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

READ_CHUNK_BYTES = 256 * 1024  # what one streamed read hands on (downloads, archive copies)
TRASH = ".trash"  # deleted files wait here for FOLIO_TRASH_HOURS (a backup running meanwhile still finds them)


class StorageError(Exception):
    """The store could not be reached or refused an operation (not a missing key: that is FileNotFoundError)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What a download needs to know about a stored file before sending it."""

    size: int
    modified: datetime | None = None
    etag: str | None = None  # quoted, as HTTP sends it


def check_key(key: str) -> str:
    """`key` if it names a file inside a store; ValueError for anything that could leave it or reach scratch files
    (absolute paths, "..", backslashes, NUL, empty parts, a first part starting with a dot such as ".incoming")."""
    if not isinstance(key, str) or not key or "\x00" in key or "\\" in key or key.startswith("/"):
        raise ValueError(f"Unsafe stored name: {key!r}")
    parts = PurePosixPath(key).parts
    if not parts or key.endswith("/") or any(part in ("", ".", "..") for part in key.split("/")) \
            or parts[0].startswith("."):
        raise ValueError(f"Unsafe stored name: {key!r}")
    return key


def parse_storage_url(url: str) -> tuple[str, str, str]:
    """("file", "", "/srv/folio/uploads") or ("s3", "bucket", "prefix/" or ""); ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError(f"FOLIO_STORAGE_URL {url!r}: a file URL names a local folder, like file:///srv/folio/uploads")
        return "file", "", unquote(parts.path)
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"FOLIO_STORAGE_URL {url!r}: name the bucket, like s3://folio-files/school")
        prefix = parts.path.strip("/")
        return "s3", parts.netloc, f"{prefix}/" if prefix else ""
    raise ValueError(f"FOLIO_STORAGE_URL {url!r} must start with file:// or s3://")


class Storage(abc.ABC):
    """A place to keep files by key. Implementations are thread-safe and cheap to share across requests."""

    #: Local folder for files being received and checked before they are put (never served, cleaned when stale).
    scratch_dir: Path

    @abc.abstractmethod
    def put_file(self, key: str, source: Path, *, content_type: str | None = None) -> None:
        """Move the complete local file `source` into the store under `key` (replacing any file there);
        `source` is gone afterwards. On failure nothing is left under `key`."""

    @abc.abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A reader streaming the file's bytes (FileNotFoundError when missing); close it when done."""

    @abc.abstractmethod
    def info(self, key: str) -> ObjectInfo | None:
        """Size and validators of the stored file, or None when there is none."""

    @abc.abstractmethod
    def iter_range(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The file's bytes start..end (inclusive; None: to the end) in chunks, read as they are sent."""

    @abc.abstractmethod
    def delete(self, keys: Iterable[str]) -> None:
        """Delete these files; missing ones are skipped, unsafe names are never touched."""

    @abc.abstractmethod
    def trash(self, keys: Iterable[str]) -> None:
        """Move these files into the trash, stamped with the time of deletion (purge_trash removes them later);
        missing ones are skipped (another process may have moved them first), unsafe names are never touched."""

    @abc.abstractmethod
    def open_trashed(self, key: str) -> BinaryIO:
        """A reader of the file `key` as it was when moved to the trash (FileNotFoundError when not there)."""

    @abc.abstractmethod
    def purge_trash(self, *, deleted_before: datetime) -> int:
        """Delete for good what went into the trash before `deleted_before`; how many files. Safe to run in
        several processes at once."""

    @abc.abstractmethod
    def scan(self, prefix: str = "") -> dict[str, ObjectInfo]:
        """Every key starting with `prefix` with its size and time stored (housekeeping: one listing, no HEADs)."""

    @abc.abstractmethod
    def copy(self, source_key: str, destination_key: str) -> None:
        """Copy a stored file to another key inside the store (server-side: the bytes don't pass through Folio)."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Every key starting with `prefix` (housekeeping and tests; never on a request's path)."""

    @abc.abstractmethod
    def local_copy(self, key: str) -> AbstractContextManager[Path]:
        """A local file with the stored bytes, for readers that need to seek (image decoders, ZIP readers);
        removed on exit when it was downloaded. FileNotFoundError when missing."""

    def local_path(self, key: str) -> Path | None:
        """The file's own path when the store is a local folder (served with sendfile), else None."""
        return None

    def exists(self, key: str) -> bool:
        """True when a file is stored under `key`."""
        return self.info(key) is not None

    def read_bytes(self, key: str) -> bytes:
        """A small file's bytes (print copies, thumbnails: never originals, which are streamed)."""
        with self.open(key) as handle:
            return handle.read()

    def remove_stale_scratch(self, *, older_than: datetime) -> int:
        """Delete scratch files last written before `older_than` (left by a crashed or killed process); how many."""
        cutoff = utc_timestamp(older_than)
        removed = 0
        for path in self.scratch_dir.glob("*") if self.scratch_dir.is_dir() else ():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                continue
        return removed

    def new_scratch_path(self, suffix: str = ".part") -> Path:
        """A fresh, unused path in scratch_dir (the folder exists)."""
        import secrets

        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        return self.scratch_dir / f"{secrets.token_hex(16)}{suffix}"


def utc_timestamp(moment: datetime) -> float:
    """Seconds since the epoch of an aware datetime (naive ones are taken as UTC)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()
