"""Types are sniffed from content: the allow-list accepts media and documents, and refuses programs and markup."""

from __future__ import annotations

import io
import random
import struct
import wave
import zipfile

import pytest
from PIL import Image

from app.models import MediaKind
from app.services.portfolio.filetypes import (
    HEAD_BYTES, allowed_description, download_name, is_container, is_inline, refusal_reason, sniff,
)

# --- builders (also used by test_uploads) ---------------------------------------------------------


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 120, 200)).save(buffer, fmt)
    return buffer.getvalue()


def wav_bytes() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 800)
    return buffer.getvalue()


def office_zip(entries: dict[str, bytes], *, mimetype: bytes | None = None) -> bytes:
    """A ZIP as Office or LibreOffice write them (OpenDocument: a stored "mimetype" entry first)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return office_zip({
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "_rels/.rels": b"<Relationships/>",
        "word/document.xml": b"<w:document><w:body><w:p>My science fair report</w:p></w:body></w:document>",
    })


def ole2_bytes(*stream_names: str) -> bytes:
    """A minimal OLE2 compound file (legacy .doc/.xls/.ppt container): header, one FAT sector, one directory sector."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)  # versions, byte order, 512-byte sectors
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    header[0x4C:0x200] = b"\xff" * (0x200 - 0x4C)
    struct.pack_into("<I", header, 0x4C, 0)  # the FAT lives in sector 0
    fat = struct.pack("<II", 0xFFFFFFFD, 0xFFFFFFFE) + b"\xff" * 504  # sector 0: FAT; sector 1: directory, end of chain
    directory = bytearray(512)
    for index, name in enumerate(("Root Entry", *stream_names)):
        encoded = (name + "\x00").encode("utf-16-le")
        directory[index * 128:index * 128 + len(encoded)] = encoded
        struct.pack_into("<HB", directory, index * 128 + 64, len(encoded), 5 if index == 0 else 2)
    return bytes(header) + fat + bytes(directory)


def webm_head(*codecs: bytes) -> bytes:
    """An EBML header with doctype "webm" and a Tracks element naming `codecs`, like MediaRecorder writes."""
    tracks = b"".join(b"\xae" + b"\x80" + b"\x86" + bytes([0x80 | len(c)]) + c for c in codecs)
    return b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04" + b"\x18\x53\x80\x67" + b"\x16\x54\xae\x6b" + tracks


def mp4_head(brand: bytes, handlers: tuple[bytes, ...] = ()) -> bytes:
    ftyp = b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00isomiso2"
    boxes = b"".join(b"\x00\x00\x00\x21hdlr" + b"\x00" * 8 + handler + b"\x00" * 13 for handler in handlers)
    return ftyp + b"\x00\x00\x00\x08moov" + boxes


# --- accepted types -------------------------------------------------------------------------------------

ACCEPTED = {
    "jpeg": (image_bytes("JPEG"), "image/jpeg", MediaKind.image, "jpg"),
    "png": (image_bytes("PNG"), "image/png", MediaKind.image, "png"),
    "gif": (image_bytes("GIF"), "image/gif", MediaKind.image, "gif"),
    "webp": (image_bytes("WEBP"), "image/webp", MediaKind.image, "webp"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "application/pdf", MediaKind.pdf, "pdf"),
    "mp3 with ID3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400, "audio/mpeg", MediaKind.audio, "mp3"),
    "mp3 frame": (b"\xff\xfb\x90\x64" + b"\x00" * 400, "audio/mpeg", MediaKind.audio, "mp3"),
    "wav": (wav_bytes(), "audio/wav", MediaKind.audio, "wav"),
    "ogg vorbis": (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis" + b"\x00" * 40, "audio/ogg", MediaKind.audio, "ogg"),
    "ogg theora": (b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora" + b"\x00" * 40, "video/ogg", MediaKind.video, "ogv"),
    "flac": (b"fLaC\x00\x00\x00\x22" + b"\x00" * 34, "audio/flac", MediaKind.audio, "flac"),
    "webm recorded audio": (webm_head(b"A_OPUS"), "audio/webm", MediaKind.audio, "weba"),
    "webm video": (webm_head(b"V_VP8", b"A_OPUS"), "video/webm", MediaKind.video, "webm"),
    "webm vp9": (webm_head(b"V_VP9"), "video/webm", MediaKind.video, "webm"),
    "webm without codecs in the head": (webm_head(), "video/webm", MediaKind.video, "webm"),
    "mp4": (mp4_head(b"isom"), "video/mp4", MediaKind.video, "mp4"),
    "m4a brand": (mp4_head(b"M4A "), "audio/mp4", MediaKind.audio, "m4a"),
    "mp4 with only a sound track": (mp4_head(b"mp42", (b"soun",)), "audio/mp4", MediaKind.audio, "m4a"),
    "mp4 with video and sound": (mp4_head(b"mp42", (b"vide", b"soun")), "video/mp4", MediaKind.video, "mp4"),
    "mov": (mp4_head(b"qt  "), "video/quicktime", MediaKind.video, "mov"),
    "rtf": (b"{\\rtf1\\ansi My story}", "application/rtf", MediaKind.document, "rtf"),
    "plain text": ("Notes on fractions: ½ + ¼ = ¾\n".encode(), "text/plain", MediaKind.text, "txt"),
    "csv": (b"name,score\nMaya,4\n", "text/plain", MediaKind.text, "txt"),
    "legacy word": (ole2_bytes("WordDocument", "1Table"), "application/msword", MediaKind.document, "doc"),
    "legacy excel": (ole2_bytes("Workbook"), "application/vnd.ms-excel", MediaKind.document, "xls"),
    "legacy powerpoint": (ole2_bytes("PowerPoint Document"), "application/vnd.ms-powerpoint", MediaKind.document, "ppt"),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_allowed_types_are_recognised_from_their_content(name):
    data, content_type, media_kind, extension = ACCEPTED[name]

    sniffed = sniff(data[:HEAD_BYTES])

    assert sniffed is not None, name
    assert (sniffed.content_type, sniffed.media_kind, sniffed.extension) == (content_type, media_kind, extension)


OFFICE = {
    "docx": (docx_bytes(), "docx"),
    "xlsx": (office_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}), "xlsx"),
    "pptx": (office_zip({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}), "pptx"),
    "odt": (office_zip({"content.xml": b"<office/>"}, mimetype=b"application/vnd.oasis.opendocument.text"), "odt"),
    "ods": (office_zip({"content.xml": b"<o/>"}, mimetype=b"application/vnd.oasis.opendocument.spreadsheet"), "ods"),
    "odp": (office_zip({"content.xml": b"<o/>"}, mimetype=b"application/vnd.oasis.opendocument.presentation"), "odp"),
}


@pytest.mark.parametrize("name", OFFICE)
@pytest.mark.parametrize("whole_file", [False, True], ids=["head only", "central directory"])
def test_office_documents_are_documents(name, whole_file):
    data, extension = OFFICE[name]
    assert is_container(data[:HEAD_BYTES])

    sniffed = sniff(data[:HEAD_BYTES], tail_reader=(lambda: io.BytesIO(data)) if whole_file else None)

    assert sniffed is not None and sniffed.media_kind is MediaKind.document and sniffed.extension == extension


def test_a_docx_whose_word_folder_is_past_the_head_needs_the_whole_file():
    noise = random.Random(7)
    filler = {f"customXml/item{i}.xml": noise.randbytes(3000) for i in range(4)}  # incompressible
    data = office_zip({"[Content_Types].xml": b"<Types/>", **filler, "word/document.xml": b"<w:document/>"})
    assert b"word/" not in data[:HEAD_BYTES]

    assert sniff(data[:HEAD_BYTES]) is None
    assert sniff(data[:HEAD_BYTES], tail_reader=lambda: io.BytesIO(data)).extension == "docx"


# --- refused types ----------------------------------------------------------------------------------------

PROGRAMS = {
    "windows exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100,
    "linux elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    "script": b"#!/bin/sh\nrm -rf ~\n",
    "mach-o": b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 100,
    "java class or universal binary": b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + b"\x00" * 100,
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_programs_are_refused(name):
    head = PROGRAMS[name]

    assert sniff(head) is None
    assert refusal_reason(head) == "it looks like a program"


@pytest.mark.parametrize("markup", [
    b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    b"\n  <html><body onload=alert(1)>",
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    b"\xef\xbb\xbf<!-- a comment --><html></html>",
])
def test_html_svg_and_xml_are_refused_as_scriptable(markup):
    assert sniff(markup) is None
    assert "could run scripts" in refusal_reason(markup)


@pytest.mark.parametrize(("data", "reason"), [
    (office_zip({"notes.txt": b"hello"}), "archive"),
    (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 40, "archive"),
    (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, "archive"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "archive"),
    (office_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w/>", "word/vbaProject.bin": b"\x00"}),
     "macros"),
    (ole2_bytes("WordDocument", "Macros"), "macros"),
    (ole2_bytes("\x05SummaryInformation", "Binary"), "can't tell"),  # an installer or an Outlook message
    (mp4_head(b"heic"), "can't tell"),  # HEIF stills: Folio can't strip their metadata
    (bytes(range(256)) * 4, "can't tell"),
    ("café".encode("latin-1") + b" au lait", "can't tell"),  # not UTF-8
    (b"text with a NUL\x00 inside", "can't tell"),
])
def test_archives_macros_and_unknown_files_are_refused(data, reason):
    assert sniff(data[:HEAD_BYTES], tail_reader=lambda: io.BytesIO(data)) is None
    assert reason in refusal_reason(data[:HEAD_BYTES], tail_reader=lambda: io.BytesIO(data))


def test_text_cut_in_the_middle_of_a_character_at_the_end_of_the_head_is_still_text():
    head = ("é" * HEAD_BYTES).encode()[: HEAD_BYTES - 1]  # ends with half of "é"

    assert sniff(head).content_type == "text/plain"


def test_the_browser_s_name_and_type_play_no_part():
    # sniff() only ever sees bytes; a ".jpg" name on an executable changes nothing.
    assert sniff(PROGRAMS["windows exe"]) is None


# --- helpers ------------------------------------------------------------------------------------------------


def test_only_images_audio_video_and_pdf_are_shown_inline():
    assert {kind for kind in MediaKind if is_inline(kind)} == {
        MediaKind.image, MediaKind.audio, MediaKind.video, MediaKind.pdf}


def test_allowed_description_names_the_allow_list():
    assert allowed_description() == "photos, audio, video, PDF, office documents and plain text"


@pytest.mark.parametrize(("original", "extension", "expected"), [
    ("setup.exe", "txt", "setup.txt"),
    ("report.final.DOCX", "docx", "report.final.docx"),
    ("README", "txt", "README.txt"),
    (".bashrc", "txt", ".bashrc.txt"),
    ("", "pdf", "file.pdf"),
])
def test_download_name_carries_the_sniffed_extension(original, extension, expected):
    assert download_name(original, extension) == expected
