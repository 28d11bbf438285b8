"""The offline website's files beside its pages: stylesheet, copied originals and pictures, credentials."""

from __future__ import annotations

import re
import shutil
import time
import zipfile

from app import storage as file_storage
from app.config import PROJECT_ROOT, Settings
from app.models import ArtefactKind, MediaKind
from app.services.badges.credentials import CredentialView
from app.services.exports import export_credentials
from app.services.exports.offline_views import ArtefactView
from app.storage import Storage
from app.storage.base import READ_CHUNK_BYTES

STYLESHEET = PROJECT_ROOT / "static" / "css" / "offline.css"


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return cleaned[:80] or "file"


def _stored(settings: Settings, stored_name: str | None) -> str | None:
    """The stored file's key, or None when it is missing (or its name would leave the file store)."""
    if not stored_name:
        return None
    try:
        return stored_name if file_storage.uploads(settings).exists(stored_name) else None
    except ValueError:
        return None


def write_stored_file(archive: zipfile.ZipFile, *, store: Storage, key: str, name: str,
                      compress_type: int = zipfile.ZIP_DEFLATED, size: int = 0) -> None:
    """Stream a stored file into the archive as `name` (never whole in memory, wherever the store is)."""
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type = compress_type
    entry.external_attr = 0o644 << 16
    # A streamed entry must be declared ZIP64 up front if it may pass 4 GiB.
    with store.open(key) as source, archive.open(entry, "w", force_zip64=size > 2**31 - 1) as target:
        shutil.copyfileobj(source, target, READ_CHUNK_BYTES)


def plan_copies(*, settings: Settings, views: list[ArtefactView], prefix: str,
                file_paths: dict[int, str] | None) -> dict[str, str]:
    """Point each file artefact's view at its original and picture, and say which stored files the site copies to
    make them (archive-relative destination → stored key).

    With `file_paths` (artefact id → archive path of its original) the pages link to those; without, the site
    copies the originals it needs into `<prefix>files/`. Pictures are the large thumbnails, copied into
    `<prefix>images/`, or else the original."""
    copies: dict[str, str] = {}
    for view in views:
        artefact = view.artefact
        if artefact.kind is not ArtefactKind.file:
            continue
        if file_paths is not None:
            view.original = file_paths.get(artefact.id)
        elif (source := _stored(settings, artefact.stored_name)) is not None:
            view.original = f"{prefix}files/{artefact.id}-{_safe_name(artefact.original_name or 'file')}"
            copies[view.original] = source
        if artefact.media_kind is MediaKind.image:
            if (thumb := _stored(settings, artefact.thumb_large)) is not None:
                view.image = f"{prefix}images/{artefact.id}.webp"
                copies[view.image] = thumb
            else:
                view.image = view.original
    return copies


def write_assets(archive: zipfile.ZipFile, *, settings: Settings, prefix: str, copies: dict[str, str]) -> None:
    """Write the stylesheet and the copied files into the archive."""
    archive.write(STYLESHEET, prefix + "style.css")
    store = file_storage.uploads(settings)
    for destination, source in copies.items():
        write_stored_file(archive, store=store, key=source, name=destination)


def write_credential_files(archive: zipfile.ZipFile, *, credentials: list[CredentialView], prefix: str,
                           written: bool) -> dict[int, str]:
    """Credential id → the archive path of its signed JSON. With `written`, the caller put each at its archive path
    (export_credentials.archive_path); without, they are written here, under `prefix`."""
    credential_files = {}
    for view in credentials:
        path = export_credentials.archive_path(view)
        if not written:
            path = prefix + path
            archive.writestr(path, export_credentials.file_bytes(view))
        credential_files[view.credential.id] = path
    return credential_files
