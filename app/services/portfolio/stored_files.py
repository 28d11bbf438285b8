"""Files in the file store: checked by content (images cleaned) and put there, or removed when no row names them."""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.i18n import _
from app.models import MediaKind
from app.services.portfolio import filetypes
from app.services.portfolio import images
from app.services.portfolio.upload_badges import png_badge_fields, svg_badge_fields
from app.services.portfolio.upload_messages import type_message
from app.storage import Storage

# At most two images decode at once: a 60 MP photo can need ~460 MB while it's being cleaned.
_IMAGE_SLOTS = threading.BoundedSemaphore(2)


class FileRefused(Exception):
    """A file Folio won't keep (from store_path); `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class StoredFile:
    field: str
    original_name: str
    stored_name: str  # its key in the file store, e.g. "u42/3f9c...e1.jpg"
    content_type: str
    media_kind: MediaKind
    size_bytes: int
    width: int | None = None
    height: int | None = None
    thumb_small: str | None = None  # a key, like stored_name
    thumb_large: str | None = None
    thumb_print: str | None = None  # a 1200 px JPEG for PDF exports
    reencoded: bool = False
    derived_bytes: int = 0  # the thumbnails and print copy together
    # An Open Badge baked into the image, taken out before its metadata was stripped (app.services.badges):
    badge_version: str = ""  # "3.0", "2.0", "1.0"; "" for no badge
    badge_payload: str = ""  # the credential or assertion as baked
    badge_unreadable: bool = False  # it carried a badge whose text couldn't be read

    @property
    def stored_bytes(self) -> int:
        """Everything this upload takes in the store, as the quota counts it."""
        return self.size_bytes + self.derived_bytes


def store_path(*, path: Path, store: Storage, owner_id: int, original_name: str, field: str = "file") -> StoredFile:
    """Keep a copy of a file already on disk (demo data, imports), checked like an upload; raises FileRefused."""
    temp = store.new_scratch_path()
    try:
        shutil.copyfile(path, temp)
        with open(temp, "rb") as handle:
            head = handle.read(filetypes.HEAD_BYTES)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return keep_file(temp=temp, head=head, token=secrets.token_hex(16), store=store, owner_id=owner_id,
                     field=field, original_name=original_name, size=temp.stat().st_size)


def discard(*, store: Storage, files: list[StoredFile]) -> None:
    """Delete at once stored files and their thumbnails that no committed row ever named (the caller's database
    write failed, or the form was refused)."""
    store.delete([n for f in files for n in (f.stored_name, f.thumb_small, f.thumb_large, f.thumb_print) if n])


def discard_names(*, store: Storage, names: list[str]) -> None:
    """Move to the trash files that committed rows named, once those rows are deleted: a backup taken before the
    deletion still finds them there for FOLIO_TRASH_HOURS. Missing or unsafe names are skipped."""
    store.trash([name for name in names if name])


def keep_file(*, temp: Path, head: bytes, token: str, store: Storage, owner_id: int, field: str,
              original_name: str, size: int) -> StoredFile:
    """Sniff the complete temp file and put it in the store (images cleaned first); FileRefused leaves nothing.
    Runs in a worker thread for uploads; `temp` is removed whatever happens."""
    try:
        def tail_reader() -> BinaryIO:
            return open(temp, "rb")

        sniffed = filetypes.sniff(head, tail_reader=tail_reader)
        if sniffed is None and filetypes.may_be_svg(head):
            return _keep_svg_badge(temp=temp, head=head, token=token, store=store, owner_id=owner_id, field=field,
                                   original_name=original_name)
        if sniffed is None:
            raise FileRefused(type_message(original_name, filetypes.refusal_reason(head, tail_reader=tail_reader)))
        if sniffed.media_kind is MediaKind.image:
            badge = png_badge_fields(temp) if sniffed.content_type == "image/png" else {}
            stored = _keep_image(temp=temp, sniffed=sniffed, token=token, store=store, owner_id=owner_id,
                                 field=field, original_name=original_name)
            return dataclasses.replace(stored, **badge)
        key = f"u{owner_id}/{token}.{sniffed.extension}"
        store.put_file(key, temp, content_type=sniffed.content_type)
        return StoredFile(field=field, original_name=original_name, stored_name=key,
                          content_type=sniffed.content_type, media_kind=sniffed.media_kind, size_bytes=size)
    finally:
        temp.unlink(missing_ok=True)


def _keep_svg_badge(*, temp: Path, head: bytes, token: str, store: Storage, owner_id: int, field: str,
                    original_name: str) -> StoredFile:
    """An SVG is kept only as a badge (app.services.portfolio.upload_badges); any other SVG, or one Folio can't read
    safely, is refused like other web pages."""
    refused = FileRefused(type_message(original_name, filetypes.refusal_reason(head)))
    fields = svg_badge_fields(temp)
    if not fields:
        raise refused
    png = filetypes.SniffedType("image/png", MediaKind.image, "png")
    stored = _keep_image(temp=temp, sniffed=png, token=token, store=store, owner_id=owner_id, field=field,
                         original_name=original_name)
    return dataclasses.replace(stored, **fields)


def _keep_image(*, temp: Path, sniffed: filetypes.SniffedType, token: str, store: Storage, owner_id: int,
                field: str, original_name: str) -> StoredFile:
    content_type, extension = images.stored_type(sniffed.content_type)
    # Made beside the upload in the scratch folder, then put in the store together once all four exist.
    destination = temp.with_name(f"{token}.{extension}")
    with _IMAGE_SLOTS:
        try:
            processed = images.process_image(source=temp, destination=destination, thumbs_dir=temp.parent, stem=token)
        except images.ImageRejected as rejected:
            raise FileRefused(_("“%(name)s”: %(problem)s", name=original_name, problem=rejected.message)) from None
    made = [(destination, content_type), (processed.thumb_small, "image/webp"), (processed.thumb_large, "image/webp"),
            (processed.print_copy, "image/jpeg")]
    size = destination.stat().st_size
    derived = sum(path.stat().st_size for path, _type in made[1:])
    keys = [f"u{owner_id}/{path.name}" for path, _type in made]
    try:
        for (path, made_type), key in zip(made, keys):
            store.put_file(key, path, content_type=made_type)
    except BaseException:
        store.delete(keys)
        raise
    finally:
        for path, _type in made:
            path.unlink(missing_ok=True)
    return StoredFile(
        field=field, original_name=original_name, stored_name=keys[0],
        content_type=content_type, media_kind=MediaKind.image, size_bytes=size,
        width=processed.width, height=processed.height,
        thumb_small=keys[1], thumb_large=keys[2], thumb_print=keys[3], reencoded=processed.reencoded,
        derived_bytes=derived,
    )
