"""What an upload really is, from its first bytes (never its name or the browser's word): the allow-list."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from app.i18n import _
from app.models import MediaKind

# Enough for every signature below, and for the codec and track headers of WebM and MP4 recordings.
HEAD_BYTES = 8192

# Opens the whole upload for a seekable read. ZIP and OLE2 keep their table of contents at the end
# (or anywhere), so office documents are decided from the complete file, not from the head.
TailReader = Callable[[], BinaryIO]


@dataclass(frozen=True)
class SniffedType:
    content_type: str
    media_kind: MediaKind
    extension: str


def allowed_description() -> str:
    """The allow-list in words, for error messages (translated at call time)."""
    return _("photos, audio, video, PDF, office documents and plain text")


def is_inline(media_kind: MediaKind) -> bool:
    """True for kinds a browser shows in the page; everything else is offered as a download."""
    return media_kind in (MediaKind.image, MediaKind.audio, MediaKind.video, MediaKind.pdf)


def download_name(original_name: str, sniffed_extension: str) -> str:
    """The original name with the extension Folio decided, so "setup.exe" can't come back as a program."""
    stem = original_name.rsplit(".", 1)[0] if "." in original_name.lstrip(".") else original_name
    return f"{stem or 'file'}.{sniffed_extension}"


def is_container(head: bytes) -> bool:
    """True for ZIP and OLE2 files, whose type is only certain once the whole file is there."""
    return head.startswith((_ZIP, _OLE2))


def may_be_svg(head: bytes) -> bool:
    """True when the head looks like the start of an SVG document (which Folio keeps only as a baked badge)."""
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:4096].lower()
    return start.startswith(b"<") and b"<svg" in start


def sniff(head: bytes, *, tail_reader: TailReader | None = None) -> SniffedType | None:
    """The allowed type `head` (the first HEAD_BYTES of a file) belongs to, or None if it isn't allowed.

    `tail_reader` is only used for ZIP and OLE2 containers; without it they are judged from the
    head alone, which may refuse a genuine document whose table of contents lies further in.
    """
    for check in (_image, _pdf, _audio_video):
        if found := check(head):
            return found
    if head.startswith(_ZIP):
        return _office_zip(head, tail_reader)
    if head.startswith(_OLE2):
        return _office_ole2(head, tail_reader)
    if head.startswith(b"{\\rtf"):
        return SniffedType("application/rtf", MediaKind.document, "rtf")
    if _is_program(head) or _is_markup(head):
        return None
    if _is_utf8_text(head):
        return SniffedType("text/plain", MediaKind.text, "txt")
    return None


def refusal_reason(head: bytes, *, tail_reader: TailReader | None = None) -> str:
    """Why a refused file was refused, in words that fit "… isn't a file type Folio keeps: <reason>"."""
    if _is_program(head):
        return _("it looks like a program")
    if _is_markup(head):
        return _("it looks like a web page or drawing, which could run scripts")
    if is_container(head) and _has_macros(head, tail_reader):
        return _("it contains macros, which are programs")
    if head.startswith(_ARCHIVES) or head[257:262] == b"ustar":
        return _("it looks like an archive of other files")
    return _("Folio can't tell what kind of file it is")


# --- signatures ------------------------------------------------------------------------------------

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ARCHIVES = (_ZIP, b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")
_PROGRAMS = (
    b"MZ",  # Windows/DOS
    b"\x7fELF",  # Linux
    b"#!",  # scripts
    b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe",  # Mach-O
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java classes
    b"\x00asm",  # WebAssembly
    b"dex\n",  # Android
)
# Tags that make a browser (or an XML viewer) treat text as a document that can run scripts.
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<svg", b"<?xml", b"<iframe", b"<!--")


def _image(head: bytes) -> SniffedType | None:
    if head.startswith(b"\xff\xd8\xff"):
        return SniffedType("image/jpeg", MediaKind.image, "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return SniffedType("image/png", MediaKind.image, "png")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return SniffedType("image/gif", MediaKind.image, "gif")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return SniffedType("image/webp", MediaKind.image, "webp")
    return None


def _pdf(head: bytes) -> SniffedType | None:
    # Only at offset 0: readers tolerate leading junk, but that junk is how polyglot files hide.
    return SniffedType("application/pdf", MediaKind.pdf, "pdf") if head.startswith(b"%PDF-") else None


def _audio_video(head: bytes) -> SniffedType | None:
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return SniffedType("audio/wav", MediaKind.audio, "wav")
    if head.startswith(b"fLaC"):
        return SniffedType("audio/flac", MediaKind.audio, "flac")
    if head.startswith(b"OggS"):
        if b"\x80theora" in head:
            return SniffedType("video/ogg", MediaKind.video, "ogv")
        return SniffedType("audio/ogg", MediaKind.audio, "ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _matroska(head)
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return SniffedType("audio/mpeg", MediaKind.audio, "mp3")
    return None


# A Matroska CodecID element: ID 0x86, a one-byte size, then "V_VP8", "A_OPUS"...
_MATROSKA_CODEC = re.compile(rb"\x86[\x81-\xbf]([AV])_")


def _matroska(head: bytes) -> SniffedType | None:
    """WebM/Matroska; audio only when the head names audio codecs and no video codec."""
    is_webm = b"webm" in head[:64]
    if not is_webm and b"matroska" not in head[:64]:
        return None
    kinds = {match.group(1) for match in _MATROSKA_CODEC.finditer(head)}
    # MediaRecorder writes its Tracks element within the first few hundred bytes; when the head
    # names no codec at all, video is the safer guess (a video player also plays audio).
    audio_only = kinds == {b"A"}
    if is_webm:
        return (SniffedType("audio/webm", MediaKind.audio, "weba") if audio_only
                else SniffedType("video/webm", MediaKind.video, "webm"))
    return (SniffedType("audio/x-matroska", MediaKind.audio, "mka") if audio_only
            else SniffedType("video/x-matroska", MediaKind.video, "mkv"))


_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
# HEIF/AVIF stills share the ftyp box; Folio can't clean their metadata, so they're not allowed.
_STILL_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis", b"crx "}
# An MP4 track's handler: "hdlr", version/flags, pre_defined, then "vide" or "soun".
_MP4_HANDLER = re.compile(rb"hdlr.{8}(vide|soun)", re.DOTALL)


def _iso_media(head: bytes) -> SniffedType | None:
    """MP4, M4A and MOV, from the ftyp brand (and the track handlers, when moov is in the head)."""
    brand = head[8:12]
    if brand in _STILL_IMAGE_BRANDS:
        return None
    if brand == b"qt  ":
        return SniffedType("video/quicktime", MediaKind.video, "mov")
    handlers = {match.group(1) for match in _MP4_HANDLER.finditer(head)}
    if brand in _AUDIO_BRANDS or handlers == {b"soun"}:
        return SniffedType("audio/mp4", MediaKind.audio, "m4a")
    return SniffedType("video/mp4", MediaKind.video, "mp4")


def _is_mp3_frame(head: bytes) -> bool:
    """An MPEG audio layer III frame header: 11 sync bits and no reserved field values."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    sample_rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 15) and sample_rate != 0b11


# --- office documents --------------------------------------------------------------------------------

_OPENDOCUMENT = {
    b"application/vnd.oasis.opendocument.text": SniffedType(
        "application/vnd.oasis.opendocument.text", MediaKind.document, "odt"),
    b"application/vnd.oasis.opendocument.spreadsheet": SniffedType(
        "application/vnd.oasis.opendocument.spreadsheet", MediaKind.document, "ods"),
    b"application/vnd.oasis.opendocument.presentation": SniffedType(
        "application/vnd.oasis.opendocument.presentation", MediaKind.document, "odp"),
}
_OOXML = {
    "word/": SniffedType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", MediaKind.document, "docx"),
    "xl/": SniffedType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", MediaKind.document, "xlsx"),
    "ppt/": SniffedType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", MediaKind.document, "pptx"),
}
_ZIP_MACRO_MARKERS = ("vbaproject.bin", "basic/", "scripts/")
# More entries than any real document has; a ZIP's central directory is read into memory.
_MAX_ZIP_ENTRIES = 20_000


def _office_zip(head: bytes, tail_reader: TailReader | None) -> SniffedType | None:
    listing = _zip_listing(head, tail_reader)
    if listing is None:
        return None
    names, mimetype = listing
    if any(marker in name.lower() for name in names for marker in _ZIP_MACRO_MARKERS):
        return None
    if mimetype is not None:
        return _OPENDOCUMENT.get(mimetype.strip())
    if "[Content_Types].xml" in names:
        for prefix, sniffed in _OOXML.items():
            if any(name.startswith(prefix) for name in names):
                return sniffed
    return None


def _zip_listing(head: bytes, tail_reader: TailReader | None) -> tuple[list[str], bytes | None] | None:
    """Entry names and OpenDocument's stored first "mimetype" entry, or None for a broken ZIP."""
    if tail_reader is None:
        return _zip_listing_from_head(head)
    with tail_reader() as handle:
        if _zip_entry_count(handle) > _MAX_ZIP_ENTRIES:
            return None
        try:
            with zipfile.ZipFile(handle) as archive:
                entries = archive.infolist()
                mimetype = None
                first = entries[0] if entries else None
                if first and first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED \
                        and first.file_size < 200:
                    mimetype = archive.read(first)
                return [entry.filename for entry in entries], mimetype
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
            return None


def _zip_listing_from_head(head: bytes) -> tuple[list[str], bytes | None]:
    """Walk the local file headers that fit in the head (stops at one whose size comes later)."""
    names: list[str] = []
    mimetype = None
    offset = 0
    while head.startswith(_ZIP, offset) and offset + 30 <= len(head):
        flags = int.from_bytes(head[offset + 6:offset + 8], "little")
        method = int.from_bytes(head[offset + 8:offset + 10], "little")
        compressed = int.from_bytes(head[offset + 18:offset + 22], "little")
        name_length = int.from_bytes(head[offset + 26:offset + 28], "little")
        extra_length = int.from_bytes(head[offset + 28:offset + 30], "little")
        name = head[offset + 30:offset + 30 + name_length].decode("utf-8", "replace")
        data_start = offset + 30 + name_length + extra_length
        if not names and name == "mimetype" and method == 0:
            mimetype = head[data_start:data_start + compressed]
        names.append(name)
        if flags & 0x08:  # sizes follow the data: the next header can't be found from here
            break
        offset = data_start + compressed
    return names, mimetype


def _zip_entry_count(handle: BinaryIO) -> int:
    """The entry count from the end-of-central-directory record (0xFFFF for ZIP64, i.e. huge)."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - 65_557))
    tail = handle.read()
    position = tail.rfind(b"PK\x05\x06")
    if position < 0 or position + 12 > len(tail):
        return 0  # no record: zipfile will call it a bad ZIP
    return int.from_bytes(tail[position + 10:position + 12], "little")


_OLE2_TYPES = {
    "WordDocument": SniffedType("application/msword", MediaKind.document, "doc"),
    "Workbook": SniffedType("application/vnd.ms-excel", MediaKind.document, "xls"),
    "Book": SniffedType("application/vnd.ms-excel", MediaKind.document, "xls"),
    "PowerPoint Document": SniffedType("application/vnd.ms-powerpoint", MediaKind.document, "ppt"),
}
_OLE2_MACRO_STREAMS = {"Macros", "_VBA_PROJECT_CUR", "VBA"}
_OLE2_END_OF_CHAIN = 0xFFFFFFFA
_OLE2_MAX_DIRECTORY_SECTORS = 512


def _office_ole2(head: bytes, tail_reader: TailReader | None) -> SniffedType | None:
    """Legacy .doc/.xls/.ppt by the streams they contain; other OLE2 files (installers, mail) are refused."""
    names = _ole2_names(head, tail_reader)
    if names & _OLE2_MACRO_STREAMS:
        return None
    return next((sniffed for stream, sniffed in _OLE2_TYPES.items() if stream in names), None)


def _ole2_names(head: bytes, tail_reader: TailReader | None) -> set[str]:
    if tail_reader is None:
        return _ole2_directory_names(io.BytesIO(head))
    with tail_reader() as handle:
        return _ole2_directory_names(handle)


def _ole2_directory_names(handle: BinaryIO) -> set[str]:
    """Names in an OLE2 compound file's directory, following its FAT chain (header FAT sectors only)."""
    handle.seek(0)
    header = handle.read(512)
    if len(header) < 512:
        return set()
    sector_size = 1 << int.from_bytes(header[0x1E:0x20], "little")
    if sector_size not in (512, 4096):
        return set()
    fat_sectors = [int.from_bytes(header[0x4C + 4 * i:0x50 + 4 * i], "little") for i in range(109)]
    per_fat_sector = sector_size // 4
    fat_cache: dict[int, bytes] = {}

    def read_sector(number: int) -> bytes:
        handle.seek((number + 1) * sector_size)
        return handle.read(sector_size)

    def next_sector(number: int) -> int:
        index = number // per_fat_sector
        if index >= len(fat_sectors) or fat_sectors[index] >= _OLE2_END_OF_CHAIN:
            return _OLE2_END_OF_CHAIN
        if index not in fat_cache:
            fat_cache[index] = read_sector(fat_sectors[index])
        entry = (number % per_fat_sector) * 4
        fat = fat_cache[index]
        return int.from_bytes(fat[entry:entry + 4], "little") if len(fat) == sector_size else _OLE2_END_OF_CHAIN

    names: set[str] = set()
    sector = int.from_bytes(header[0x30:0x34], "little")
    for _step in range(_OLE2_MAX_DIRECTORY_SECTORS):
        if sector >= _OLE2_END_OF_CHAIN:
            break
        data = read_sector(sector)
        if len(data) < sector_size:
            break
        for offset in range(0, sector_size, 128):
            name_length = int.from_bytes(data[offset + 64:offset + 66], "little")
            if 2 <= name_length <= 64:
                names.add(data[offset:offset + name_length - 2].decode("utf-16-le", "replace"))
        sector = next_sector(sector)
    return names


def _has_macros(head: bytes, tail_reader: TailReader | None) -> bool:
    if head.startswith(_OLE2):
        return bool(_ole2_names(head, tail_reader) & _OLE2_MACRO_STREAMS)
    listing = _zip_listing(head, tail_reader)
    return bool(listing) and any(
        marker in name.lower() for name in listing[0] for marker in _ZIP_MACRO_MARKERS
    )


# --- refusals and text -------------------------------------------------------------------------------


def _is_program(head: bytes) -> bool:
    return head.startswith(_PROGRAMS)


def _is_markup(head: bytes) -> bool:
    """HTML, SVG or XML: text whose first non-blank character opens a tag a browser would render."""
    start = head.removeprefix(codecs.BOM_UTF8).lstrip()[:1024].lower()
    return start.startswith(b"<") and any(tag in start for tag in _MARKUP)


def _is_utf8_text(head: bytes) -> bool:
    """Non-empty UTF-8 without NUL bytes (a character cut off at the end of the head is fine)."""
    if not head or b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True
