"""Uploads received as a stream: multipart parts written to scratch in chunks, whole files passed to stored_files."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import (
    MultipartParser,
    MultipartState,
    parse_options_header,
)
from starlette.requests import Request

from app.faults import is_disk_full
from app.i18n import _
from app.services.portfolio import filetypes
from app.services.portfolio.stored_files import FileRefused, StoredFile, discard, keep_file
from app.services.portfolio.upload_messages import refusal_message
from app.storage import Storage

INCOMING_DIR = ".incoming"  # under upload_dir: files still arriving or being checked, never served
WRITE_BUFFER_BYTES = 1024 * 1024  # one disk write (in a worker thread) per MiB received
FORM_OVERHEAD_BYTES = 1024 * 1024  # room for the text fields and part headers of a full form


class UploadTooLarge(Exception):
    """The request is bigger than any acceptable form (answer 413); nothing was kept."""


class MalformedUpload(ValueError):
    """Not a well-formed multipart/form-data body, or one cut short (answer 400); nothing was kept."""


@dataclass
class FileError:
    field: str
    filename: str
    message: str
    unexpected: bool = False  # sent under a field name the form doesn't have: the whole form is refused
    # Why: size, quota, type, field, count, disk or empty (the JSON API answers each with its own status).
    reason: str = "type"


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    files: list[StoredFile] = dataclasses.field(default_factory=list)
    errors: list[FileError] = dataclasses.field(default_factory=list)
    # A file couldn't be written for lack of disk space (it is among `errors`; the text fields after it still came).
    disk_full: bool = False

    def first(self, name: str, default: str = "") -> str:
        """The first value sent for `name` (like form.get)."""
        values = self.fields.get(name)
        return values[0] if values else default

    def all(self, name: str) -> list[str]:
        """Every value sent for `name` (checkbox groups, multi-selects)."""
        return list(self.fields.get(name, []))

    @property
    def has_unexpected_file(self) -> bool:
        """True when a file came under a field the form doesn't have; such a form is refused whole."""
        return any(error.unexpected for error in self.errors)


async def receive_multipart(
    request: Request, *, store: Storage, owner_id: int, max_file_bytes: int, quota_remaining: int,
    file_fields: frozenset[str], max_files: int = 20, max_field_bytes: int = 1_000_000,
) -> ReceivedForm:
    """Parse a multipart form from the request stream, keeping each acceptable file in `store`.

    Refused files become `errors` (and leave nothing on disk); a file under a name not in `file_fields` is never
    written, and marks the form as one to refuse whole. Raises UploadTooLarge, MalformedUpload (a NUL character in a
    text field included), or the stream's
    ClientDisconnect; whatever is raised, nothing from this request is left on disk or in the store.
    `max_field_bytes` bounds all text fields together. `quota_remaining` only refuses early what can't fit:
    the owner's quota is reserved when the rows are written (app.services.portfolio.storage).
    """
    body_limit = max_files * max_file_bytes + FORM_OVERHEAD_BYTES
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise MalformedUpload("Content-Length is not a number")
        if int(declared) > body_limit:
            raise UploadTooLarge(f"Content-Length {declared} is over {body_limit}")
    receiver = MultipartReceiver(
        store=store, owner_id=owner_id, max_file_bytes=max_file_bytes,
        quota_remaining=quota_remaining, max_files=max_files, max_field_bytes=max_field_bytes, file_fields=file_fields,
    )
    await receive_into(request, receiver, body_limit=body_limit)
    return receiver.form


async def receive_into(request: Request, receiver: "MultipartReceiver", *, body_limit: int) -> None:
    """Stream the request's multipart body through `receiver`; on any failure, nothing it wrote is left."""
    try:
        async with aclosing(request.stream()) as stream:
            await receiver.run(stream, boundary=multipart_boundary(request), body_limit=body_limit)
    except BaseException:
        receiver.remove_everything()
        raise


# --- the receiver ----------------------------------------------------------------------------------


@dataclass
class FilePart:
    field: str
    filename: str
    size: int = 0
    head: bytearray = dataclasses.field(default_factory=bytearray)
    temp: Path | None = None
    handle: BinaryIO | None = None
    buffer: bytearray = dataclasses.field(default_factory=bytearray)
    refusal: str | None = None  # why the rest of the part is drained instead of written
    space_left: int = 0  # for the quota message


@dataclass
class _FieldPart:
    name: str
    value: bytearray = dataclasses.field(default_factory=bytearray)


class MultipartReceiver:
    """One request's parse: the parser's callbacks queue events, which run between stream chunks.

    Another kind of upload (an archive to import) subclasses it and overrides `_on_file_data` (write a file
    part's bytes, via flush_part) and `_finish_file` (decide what to keep); `receive_into` runs it."""

    def __init__(self, *, store: Storage, owner_id: int, max_file_bytes: int, quota_remaining: int,
                 max_files: int, max_field_bytes: int, file_fields: frozenset[str] | None = None):
        self.store = store
        self.file_fields = file_fields  # None: files under any name
        self.owner_id = owner_id
        self.max_file_bytes = max_file_bytes
        self.quota_remaining = quota_remaining
        self.max_files = max_files
        self.max_field_bytes = max_field_bytes
        self.form = ReceivedForm()
        self.events: list[tuple[str, object]] = []
        self.part: FilePart | _FieldPart | None = None
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.files_seen = 0
        self.field_bytes = 0
        self.stored_bytes = 0
        self.tokens: list[str] = []  # every name this request may have stored, for cleanup

    async def run(self, stream: AsyncIterator[bytes], *, boundary: bytes, body_limit: int) -> None:
        parser = MultipartParser(boundary, {
            "on_part_begin": self._on_part_begin,
            "on_header_field": lambda data, start, end: self.header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": lambda: self.events.append(("headers", self.disposition)),
            "on_part_data": lambda data, start, end: self.events.append(("data", data[start:end])),
            "on_part_end": lambda: self.events.append(("end", None)),
        })
        received = 0
        async for chunk in stream:
            received += len(chunk)
            if received > body_limit:
                raise UploadTooLarge(f"body is over {body_limit} bytes")
            try:
                parser.write(chunk)
            except FormParserError as error:
                raise MalformedUpload(str(error)) from error
            await self._handle_events()
        if parser.state != MultipartState.END:
            raise MalformedUpload("the body ended before the closing boundary")

    def remove_everything(self) -> None:
        """Delete this request's partial and stored files (it failed, or the client went away)."""
        if isinstance(self.part, FilePart):
            self._drop_temp(self.part)
        discard(store=self.store, files=self.form.files)
        for token in self.tokens:  # a file (and thumbnails) kept by a worker just as the request failed
            self.store.delete(self.store.list(f"u{self.owner_id}/{token}"))

    # Parser callbacks: synchronous, so they only record what happened.

    def _on_part_begin(self) -> None:
        self.disposition = b""

    def _on_header_end(self) -> None:
        if bytes(self.header_name).strip().lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    # Events, handled between chunks where awaiting is allowed.

    async def _handle_events(self) -> None:
        events, self.events = self.events, []
        for kind, payload in events:
            if kind == "headers":
                self.part = self._start_part(payload)
            elif kind == "data":
                await self._on_data(payload)
            elif kind == "end":
                await self._end_part()

    def _start_part(self, disposition: bytes) -> FilePart | _FieldPart | None:
        _kind, options = parse_options_header(disposition)
        name = _decode(options.get(b"name", b""))
        if b"filename" not in options:
            return _FieldPart(name=name)
        filename = _safe_filename(_decode(options[b"filename"]))
        if not filename:
            return None  # an empty file input: browsers send no name and no bytes
        part = FilePart(field=name, filename=filename)
        if self.file_fields is not None and name not in self.file_fields:
            part.refusal = "field"  # drained unwritten: no row would ever refer to it, nor count it
            return part
        self.files_seen += 1
        if self.files_seen > self.max_files:
            part.refusal = "count"
        return part

    async def _on_data(self, data: bytes) -> None:
        part = self.part
        if isinstance(part, _FieldPart):
            self.field_bytes += len(data)
            if self.field_bytes > self.max_field_bytes:
                raise UploadTooLarge(f"text fields are over {self.max_field_bytes} bytes")
            part.value.extend(data)
        elif isinstance(part, FilePart):
            await self._on_file_data(part, data)

    async def _on_file_data(self, part: FilePart, data: bytes) -> None:
        part.size += len(data)
        if part.refusal:
            return  # drain: count the bytes (for the message), keep none
        space_left = self.quota_remaining - self.stored_bytes
        if part.size > self.max_file_bytes:
            self._refuse(part, "size")
            return
        if part.size > space_left:
            part.space_left = max(0, space_left)
            self._refuse(part, "quota")
            return
        if len(part.head) < filetypes.HEAD_BYTES:
            part.head.extend(data[: filetypes.HEAD_BYTES - len(part.head)])
            if len(part.head) >= filetypes.HEAD_BYTES and not _may_be_allowed(bytes(part.head)):
                self._refuse(part, "type")  # refuse programs early rather than write 100 MB of one
                return
        try:
            if part.handle is None:
                part.temp = _new_temp_path(self.store)
                part.handle = open(part.temp, "xb")
            part.buffer.extend(data)
            if len(part.buffer) >= WRITE_BUFFER_BYTES:
                await flush_part(part)
        except OSError as error:
            self._refuse_if_disk_full(part, error)

    async def _end_part(self) -> None:
        part, self.part = self.part, None
        if isinstance(part, _FieldPart):
            value = _decode(bytes(part.value))
            if "\x00" in value or "\x00" in part.name:
                # PostgreSQL can't store U+0000 (SQLite can): refused alike on both, as app.auth refuses read forms.
                raise MalformedUpload("a text field holds a NUL character")
            self.form.fields.setdefault(part.name, []).append(value)
        elif isinstance(part, FilePart):
            await self._finish_file(part)

    async def _finish_file(self, part: FilePart) -> None:
        if part.refusal:
            self._record_error(part, self._refusal_message(part))
            return
        if part.size == 0 or part.handle is None or part.temp is None:
            part.refusal = "empty"
            self._record_error(part, _("“%(name)s” is empty.", name=part.filename))
            return
        try:
            await flush_part(part)
            part.handle.close()
        except OSError as error:
            self._refuse_if_disk_full(part, error)
            self._record_error(part, self._refusal_message(part))
            return
        part.handle = None
        token = secrets.token_hex(16)
        self.tokens.append(token)
        temp, part.temp = part.temp, None  # keep_file owns it now, and removes it whatever happens
        keep = partial(keep_file, temp=temp, head=bytes(part.head), token=token, store=self.store,
                       owner_id=self.owner_id, field=part.field, original_name=part.filename, size=part.size)
        try:
            stored = await anyio.to_thread.run_sync(keep)
        except FileRefused as refused:
            self._record_error(part, refused.message)
            return
        except OSError as error:  # the copy or a thumbnail didn't fit: nothing of this file stays
            # keep_file put nothing in the store (or took it out again); derivatives half-made in scratch go too.
            for leftover in self.store.scratch_dir.glob(f"{token}*"):
                leftover.unlink(missing_ok=True)
            self._refuse_if_disk_full(part, error)
            self._record_error(part, self._refusal_message(part))
            return
        self.form.files.append(stored)
        self.stored_bytes += stored.stored_bytes

    def _refuse_if_disk_full(self, part: FilePart, error: OSError) -> None:
        """A full disk refuses this file (and the rest of the body is still read, for the typed text); any other
        write error is a fault of its own."""
        if not is_disk_full(error):
            raise error
        self.form.disk_full = True
        self._refuse(part, "disk")

    def _refuse(self, part: FilePart, reason: str) -> None:
        part.refusal = reason
        self._drop_temp(part)

    def _drop_temp(self, part: FilePart) -> None:
        if part.handle is not None:
            try:
                part.handle.close()
            except OSError:  # its last bytes didn't fit on the disk: they were being thrown away anyway
                pass
            part.handle = None
        if part.temp is not None:
            part.temp.unlink(missing_ok=True)
            part.temp = None
        part.buffer = bytearray()

    def _record_error(self, part: FilePart, message: str) -> None:
        self.form.errors.append(FileError(field=part.field, filename=part.filename, message=message,
                                          unexpected=part.refusal == "field", reason=part.refusal or "type"))

    def _refusal_message(self, part: FilePart) -> str:
        return refusal_message(reason=part.refusal, name=part.filename, size=part.size, space_left=part.space_left,
                               field=_safe_filename(part.field), head=bytes(part.head),
                               max_file_bytes=self.max_file_bytes, max_files=self.max_files)


# --- small helpers -------------------------------------------------------------------------------------


def multipart_boundary(request: Request) -> bytes:
    """The request's multipart boundary; MalformedUpload when it isn't a multipart form."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise MalformedUpload("expected multipart/form-data with a boundary")
    return boundary


def _may_be_allowed(head: bytes) -> bool:
    """False once the head alone proves a refusal (containers wait for the whole file)."""
    # An SVG waits for its end too: it is kept if it turns out to be a baked badge.
    return filetypes.is_container(head) or filetypes.may_be_svg(head) or filetypes.sniff(head) is not None


async def flush_part(part: FilePart) -> None:
    """Write a file part's buffered bytes to its temporary file."""
    if part.buffer and part.handle is not None:
        # Disk writes can block (a slow or busy disk): keep them off the event loop.
        await anyio.to_thread.run_sync(part.handle.write, part.buffer)
        part.buffer.clear()


def _new_temp_path(store: Storage) -> Path:
    return store.new_scratch_path()


def _decode(raw: bytes) -> str:
    # Browsers send names and values as UTF-8 whatever the header's latin-1 framing says.
    return raw.decode("utf-8", "replace")


def _safe_filename(name: str) -> str:
    """The name to show: no folders (some browsers send a full path), no control characters, ≤ 255 chars."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable()).strip()[:255]
