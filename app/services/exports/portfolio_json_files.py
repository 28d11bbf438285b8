"""The original files a portfolio.json export carries: their names in the archive, their sizes and checksums."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.models import Artefact
from app.storage import Storage

FILES_PREFIX = "files/"


@dataclass
class ExportedFile:
    """One original file to put in the archive."""

    artefact_id: int
    archive_path: str  # e.g. "files/artefact-3-poster.jpg"
    key: str  # its stored name in the file store
    size: int = 0


def safe_file_name(name: str) -> str:
    """A name safe in any ZIP and file system: ASCII letters, digits, dot, dash, underscore; ≤ 100 characters."""
    base = unicodedata.normalize("NFKD", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base.encode("ascii", "ignore").decode()).strip("-.")
    return (cleaned or "file")[-100:]


def archive_file_name(artefact: Artefact) -> str:
    """The original's name in the archive: its safe stem with the extension Folio decided from its content."""
    name = artefact.original_name or artefact.title or "file"
    extension = PurePosixPath(artefact.stored_name or "").suffix.lower()
    if extension:
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        name = f"{stem or 'file'}{extension}"
    return safe_file_name(name)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return _sha256_of_stream(handle)


def _sha256_of_stream(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def stored_size(store: Storage | None, stored_name: str | None) -> int | None:
    """The stored file's size, or None when there is no store, no file, or a name that would leave the store."""
    if store is None or not stored_name:
        return None
    try:
        info = store.info(stored_name)
    except ValueError:
        return None
    return info.size if info is not None else None


def stored_sha256(store: Storage, stored_name: str) -> str:
    with store.open(stored_name) as handle:
        return _sha256_of_stream(handle)
