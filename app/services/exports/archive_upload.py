"""Receiving an archive to import: one ZIP or Leap2A .xml file, recognised by its first bytes and streamed to
settings.jobs_dir / "incoming" (never held in memory), then put in the job file store as "incoming/<name>" (the
same folder, or the shared bucket a worker on another host reads). app.services.exports.archive_import imports it."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread
from fastapi import Request

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.services.portfolio import uploads
from app.services.portfolio.upload_messages import human_size

INCOMING = "incoming"


@dataclass
class ArchiveUpload:
    """What was received: the kept file's stored and original names, or why nothing was kept."""

    stored_name: str | None = None
    original_name: str = ""
    fingerprint: str = ""  # SHA-256 of the file: the same archive uploaded again is recognised by it
    # Importing a file imported before: "skip" what is already here (add what is new) or add "copies" of everything.
    again: str = ""
    error: str | None = None
    too_large: bool = False


class ArchiveReceiver(uploads.MultipartReceiver):
    """The upload receiver, keeping one ZIP or XML file (by content) under the jobs folder's incoming/."""

    def __init__(self, *, incoming: Path, max_bytes: int, store: file_storage.Storage) -> None:
        super().__init__(store=store, owner_id=0, max_file_bytes=max_bytes, quota_remaining=max_bytes,
                         max_files=1, max_field_bytes=100_000)
        self.incoming = incoming
        self.kept: tuple[str, str] | None = None  # (stored name, original name)
        self.digest = hashlib.sha256()

    async def _on_file_data(self, part, data: bytes) -> None:
        part.size += len(data)
        if part.refusal:
            return
        if part.size > self.max_file_bytes:
            self._refuse(part, "size")
            return
        if len(part.head) < 1024:
            part.head.extend(data[: 1024 - len(part.head)])
        if part.handle is None:
            self.incoming.mkdir(parents=True, exist_ok=True)
            part.temp = self.incoming / f".{secrets.token_hex(16)}.part"
            part.handle = open(part.temp, "xb")
        part.buffer.extend(data)
        self.digest.update(data)
        if len(part.buffer) >= uploads.WRITE_BUFFER_BYTES:
            await uploads.flush_part(part)

    async def _finish_file(self, part) -> None:
        if part.refusal:
            message = (_("“%(name)s” is %(size)s; the largest archive Folio imports is %(limit)s.", name=part.filename,
                         size=human_size(part.size), limit=human_size(self.max_file_bytes))
                       if part.refusal == "size" else _("Send one file at a time."))
            self._record_error(part, message)
            return
        if part.size == 0 or part.handle is None or part.temp is None:
            self._record_error(part, _("“%(name)s” is empty.", name=part.filename))
            return
        await uploads.flush_part(part)
        part.handle.close()
        part.handle = None
        head = bytes(part.head)
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            suffix = ".zip"
        elif head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<"):
            suffix = ".xml"
        else:
            self._drop_temp(part)
            self._record_error(part, _("“%(name)s” isn't a ZIP archive or a Leap2A .xml file, so Folio can't import it.",
                                       name=part.filename))
            return
        name = f"{secrets.token_hex(16)}{suffix}"
        temp, part.temp = part.temp, None
        self.kept = (name, part.filename)  # before putting: a failure part-way must remove it too
        try:
            await anyio.to_thread.run_sync(self.store.put_file, f"{INCOMING}/{name}", temp)
        finally:
            temp.unlink(missing_ok=True)

    def remove_everything(self) -> None:
        if isinstance(self.part, uploads.FilePart):
            self._drop_temp(self.part)
        if self.kept is not None:
            self.store.delete([f"{INCOMING}/{self.kept[0]}"])
            self.kept = None


def incoming_dir(settings: Settings) -> Path:
    """Where uploaded archives wait for their import job."""
    return settings.jobs_dir / INCOMING


async def receive_archive(request: Request, *, settings: Settings) -> ArchiveUpload:
    """Stream the request's archive to the incoming folder, keeping it only if it is a ZIP or XML file within
    settings.import_max_mb. Raises MalformedUpload (or the client's disconnect), leaving nothing on disk."""
    max_bytes = settings.import_max_mb * 1024 * 1024
    body_limit = max_bytes + uploads.FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > body_limit:
        return ArchiveUpload(too_large=True)
    receiver = ArchiveReceiver(incoming=incoming_dir(settings), max_bytes=max_bytes,
                               store=file_storage.job_files(settings))
    try:
        await uploads.receive_into(request, receiver, body_limit=body_limit)
    except uploads.UploadTooLarge:
        return ArchiveUpload(too_large=True)
    if receiver.kept is None:
        return ArchiveUpload(error=receiver.form.errors[0].message if receiver.form.errors else _("Choose the file to import."))
    stored, original = receiver.kept
    return ArchiveUpload(stored_name=stored, original_name=original, fingerprint=receiver.digest.hexdigest(),
                         again=_again(receiver.form.first("again")))


def _again(value: str | None) -> str:
    # "1" is what the form sent before there was a choice: a second copy.
    return {"skip": "skip", "copies": "copies", "1": "copies"}.get((value or "").strip(), "")


def discard_archive(*, settings: Settings, stored_name: str) -> None:
    """Remove an uploaded archive that no job will import."""
    file_storage.job_files(settings).delete([f"{INCOMING}/{stored_name}"])
