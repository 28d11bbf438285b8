"""The streaming receiver: files are checked as they arrive, and a refused or aborted upload leaves nothing."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import anyio
import pytest
from PIL import Image
from starlette.requests import ClientDisconnect, Request

from app.storage.local import LocalStorage
from app.models import MediaKind
from app.services.portfolio import uploads
from app.services.portfolio.stored_files import FileRefused, discard, store_path
from app.services.portfolio.upload_messages import human_size
from app.services.portfolio.uploads import INCOMING_DIR, MalformedUpload, UploadTooLarge, receive_multipart
from tests.test_filetypes import docx_bytes, image_bytes
from tests.test_images import files_under, jpeg_with_gps_exif, png_header_only

BOUNDARY = "----FolioTestBoundary7MA4YWxkTrZu0gW"
MB = 1024 * 1024
OWNER = 7
STORED_NAME = re.compile(r"^u7/[0-9a-f]{32}\.[a-z0-9]+$")


# --- building requests ----------------------------------------------------------------------------


def text_part(name: str, value: str) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()


def file_part(name: str, filename: str, data: bytes, content_type: str = "application/octet-stream") -> bytes:
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n")
    return head.encode() + data + b"\r\n"


def multipart(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def make_request(body: bytes, *, chunk_size: int = 64 * 1024, cut_after: int | None = None,
                 content_length: int | None = None, content_type: str | None = None) -> Request:
    """A Starlette request whose body arrives in chunks; with cut_after, the client disconnects after that many bytes."""
    sent = body if cut_after is None else body[:cut_after]
    chunks = [sent[i:i + chunk_size] for i in range(0, len(sent), chunk_size)]
    headers = [
        (b"content-type", (content_type or f"multipart/form-data; boundary={BOUNDARY}").encode()),
        (b"content-length", str(len(body) if content_length is None else content_length).encode()),
    ]

    async def receive() -> dict:
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks) or cut_after is not None}
        return {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "path": "/upload", "query_string": b"", "headers": headers},
                   receive)


def receive(request: Request, upload_dir: Path, **limits) -> uploads.ReceivedForm:
    options = dict(store=LocalStorage(upload_dir), owner_id=OWNER, max_file_bytes=10 * MB, quota_remaining=100 * MB,
                   file_fields=frozenset({"files"}))
    options.update(limits)
    return anyio.run(partial(receive_multipart, request, **options))


def assert_nothing_stored(upload_dir: Path) -> None:
    assert files_under(upload_dir) == [], "no file may be left behind"
    incoming = upload_dir / INCOMING_DIR
    assert not incoming.exists() or not any(incoming.iterdir())


# --- accepted uploads --------------------------------------------------------------------------------------


def test_a_photo_is_stored_clean_with_thumbnails_and_fields_are_collected(tmp_path):
    body = multipart(
        text_part("title", "Bridge model"),
        text_part("tags", "science"),
        text_part("tags", "fair"),
        file_part("files", "IMG_0042.jpg", jpeg_with_gps_exif(200, 100, orientation=6), "image/jpeg"),
    )

    form = receive(make_request(body), tmp_path)

    assert form.errors == []
    assert form.first("title") == "Bridge model" and form.all("tags") == ["science", "fair"]
    assert form.first("missing", "none") == "none" and form.all("missing") == []
    [photo] = form.files
    assert STORED_NAME.match(photo.stored_name) and photo.stored_name.endswith(".jpg")
    assert (photo.field, photo.original_name, photo.content_type) == ("files", "IMG_0042.jpg", "image/jpeg")
    assert photo.media_kind is MediaKind.image and (photo.width, photo.height) == (100, 200)
    stored = tmp_path / photo.stored_name
    assert photo.size_bytes == stored.stat().st_size
    for name in (photo.stored_name, photo.thumb_small, photo.thumb_large, photo.thumb_print):
        image = Image.open(tmp_path / name)
        assert not image.getexif() and "exif" not in image.info and "xmp" not in image.info
    assert photo.thumb_small.endswith("-s.webp") and photo.thumb_large.endswith("-l.webp")
    assert photo.thumb_print.endswith("-p.jpg")
    # 200 x 100 isn't a multiple of the 16 px block: turning it upright needed a re-encode, and that is recorded.
    assert photo.reencoded
    assert not any((tmp_path / INCOMING_DIR).iterdir())


def test_several_files_in_one_request(tmp_path):
    text = "Lab notes: the bridge held 3 kg.\n".encode() * 1000  # bigger than the sniffed head
    body = multipart(
        file_part("files", "bridge.png", image_bytes("PNG"), "image/png"),
        file_part("files", "report.docx", docx_bytes()),
        file_part("files", "notes.txt", text, "text/plain"),
        file_part("files", "paper.pdf", b"%PDF-1.7\n" + b"0" * 5000, "application/pdf"),
    )

    form = receive(make_request(body, chunk_size=1000), tmp_path)

    assert form.errors == []
    kinds = [(f.original_name, f.media_kind, f.content_type) for f in form.files]
    assert kinds == [
        ("bridge.png", MediaKind.image, "image/png"),
        ("report.docx", MediaKind.document,
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("notes.txt", MediaKind.text, "text/plain"),
        ("paper.pdf", MediaKind.pdf, "application/pdf"),
    ]
    notes = form.files[2]
    assert (tmp_path / notes.stored_name).read_bytes() == text and notes.size_bytes == len(text)
    assert notes.stored_name.endswith(".txt") and notes.thumb_small is None and notes.width is None
    assert len({f.stored_name for f in form.files}) == 4


def test_an_empty_file_input_is_ignored(tmp_path):
    body = multipart(text_part("title", "Just a note"), file_part("files", "", b""))

    form = receive(make_request(body), tmp_path)

    assert form.files == [] and form.errors == [] and form.first("title") == "Just a note"
    assert_nothing_stored(tmp_path)


def test_the_name_shown_drops_any_folder_the_browser_sent(tmp_path):
    body = multipart(file_part("files", "C:\\Users\\maya\\Desktop\\poem.txt", b"Roses are red\n"))

    [stored] = receive(make_request(body), tmp_path).files

    assert stored.original_name == "poem.txt"


# --- refused files ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 20_000,  # bigger than the head: refused while streaming
    b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100,  # smaller than the head: refused at the end of the part
])
def test_a_program_named_jpg_is_refused_and_leaves_nothing(tmp_path, content):
    body = multipart(file_part("files", "virus.jpg", content, "image/jpeg"))

    form = receive(make_request(body, chunk_size=4096), tmp_path)

    assert form.files == []
    [error] = form.errors
    assert (error.field, error.filename) == ("files", "virus.jpg")
    assert error.message == ("“virus.jpg” isn't a file type Folio keeps: it looks like a program. "
                             "Allowed: photos, audio, video, PDF, office documents and plain text.")
    assert_nothing_stored(tmp_path)


@pytest.mark.parametrize(("filename", "content"), [
    ("page.html", b"<!DOCTYPE html><html><body><script>steal()</script></body></html>"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="steal()"></svg>'),
])
def test_html_and_svg_are_refused(tmp_path, filename, content):
    form = receive(make_request(multipart(file_part("files", filename, content, "text/plain"))), tmp_path)

    assert form.files == [] and "could run scripts" in form.errors[0].message
    assert_nothing_stored(tmp_path)


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit(tmp_path):
    big = b"a line of text\n" * (int(2.5 * MB) // 15)
    body = multipart(file_part("files", "big.txt", big), file_part("files", "small.txt", b"fine\n"))

    form = receive(make_request(body), tmp_path, max_file_bytes=1 * MB)

    assert [e.message for e in form.errors] == ["“big.txt” is 2.5 MB; the limit is 1 MB."]
    assert [f.original_name for f in form.files] == ["small.txt"]  # the rest of the form still counts
    assert files_under(tmp_path) == [tmp_path / form.files[0].stored_name]


def test_a_file_beyond_the_quota_is_refused_and_earlier_files_count_against_it(tmp_path):
    body = multipart(
        file_part("files", "first.txt", b"1" * 600_000),
        file_part("files", "second.txt", b"2" * 600_000),
    )

    form = receive(make_request(body), tmp_path, quota_remaining=1 * MB)

    assert [f.original_name for f in form.files] == ["first.txt"]
    assert [e.message for e in form.errors] == [
        "“second.txt” is 586 KB, but only 438 KB of your storage space is left."]
    assert files_under(tmp_path) == [tmp_path / form.files[0].stored_name]


def test_a_decompression_bomb_is_refused_and_leaves_nothing(tmp_path):
    body = multipart(file_part("files", "bomb.png", png_header_only(20_000, 20_000), "image/png"))

    form = receive(make_request(body), tmp_path)

    assert form.files == []
    assert form.errors[0].message == (
        "“bomb.png”: This image is more than 178 megapixels; the limit is 60 megapixels.")
    assert_nothing_stored(tmp_path)


def test_files_beyond_max_files_are_refused(tmp_path):
    body = multipart(*(file_part("files", f"note{i}.txt", b"note\n") for i in range(3)))

    form = receive(make_request(body), tmp_path, max_files=2)

    assert [f.original_name for f in form.files] == ["note0.txt", "note1.txt"]
    assert [e.message for e in form.errors] == ["“note2.txt” wasn't added: only 2 files can be sent at once."]


def test_a_file_under_a_name_the_form_does_not_have_is_never_written(tmp_path, monkeypatch):
    opened: list[Path] = []
    monkeypatch.setattr(uploads, "_new_temp_path", lambda upload_dir: opened.append(upload_dir) or Path("/nonexistent"))
    body = multipart(text_part("title", "Hidden"), file_part("hidden", "../secret.png", image_bytes("PNG") * 50, "image/png"))

    form = receive(make_request(body, chunk_size=1000), tmp_path)

    assert form.files == [] and opened == [], "not even a temporary file"
    assert form.has_unexpected_file and form.first("title") == "Hidden"
    assert [e.message for e in form.errors] == [
        "“secret.png” was sent as “hidden”, a field this form doesn't have, so nothing was saved."]
    assert_nothing_stored(tmp_path)


def test_an_empty_named_file_is_refused(tmp_path):
    form = receive(make_request(multipart(file_part("files", "blank.txt", b""))), tmp_path)

    assert [e.message for e in form.errors] == ["“blank.txt” is empty."]
    assert_nothing_stored(tmp_path)


# --- aborted and oversized requests ------------------------------------------------------------------------


def test_a_client_disconnect_midway_removes_every_file_of_the_request(tmp_path):
    body = multipart(
        file_part("files", "photo.jpg", jpeg_with_gps_exif()),  # stored completely before the cut
        file_part("files", "video.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x42" * 3 * MB),
    )

    with pytest.raises(ClientDisconnect):
        receive(make_request(body, cut_after=len(body) // 2), tmp_path)

    assert_nothing_stored(tmp_path)


def test_a_body_that_ends_without_its_closing_boundary_is_malformed_and_leaves_nothing(tmp_path):
    body = multipart(file_part("files", "notes.txt", b"x" * 200_000))
    truncated = body[: len(body) // 2]

    with pytest.raises(MalformedUpload):
        receive(make_request(truncated), tmp_path)

    assert_nothing_stored(tmp_path)


def test_a_declared_length_over_the_limit_is_refused_before_reading(tmp_path):
    async def must_not_be_read() -> dict:
        raise AssertionError("the body must not be read")

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": [
        (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
        (b"content-length", str(2 * 10 * MB + 1 * MB + 1).encode()),
    ]}

    with pytest.raises(UploadTooLarge):
        receive(Request(scope, must_not_be_read), tmp_path, max_files=2)
    assert not tmp_path.joinpath(INCOMING_DIR).exists()


def test_text_fields_are_limited_too(tmp_path):
    body = multipart(file_part("files", "a.txt", b"a\n"), text_part("description", "x" * 2000))

    with pytest.raises(UploadTooLarge):
        receive(make_request(body), tmp_path, max_field_bytes=1000)

    assert_nothing_stored(tmp_path)


def test_a_body_that_is_not_multipart_is_malformed(tmp_path):
    with pytest.raises(MalformedUpload):
        receive(make_request(b"title=x", content_type="application/x-www-form-urlencoded"), tmp_path)


# --- stored names, deleting, sizes -----------------------------------------------------------------------------


def test_discard_deletes_the_files_and_their_thumbnails(tmp_path):
    body = multipart(file_part("files", "a.jpg", jpeg_with_gps_exif()), file_part("files", "b.txt", b"b\n"))
    form = receive(make_request(body), tmp_path)
    assert len(files_under(tmp_path)) == 5  # photo, two thumbnails, print copy, text

    discard(store=LocalStorage(tmp_path), files=form.files)

    assert files_under(tmp_path) == []


@pytest.mark.parametrize("name", ["../secret.txt", "u7/../../secret.txt", "/etc/passwd", "", ".", "u7/\x00.jpg",
                                  f"{INCOMING_DIR}/abc.part"])
def test_file_path_refuses_names_outside_the_stored_files(tmp_path, name):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path / "uploads").path(name)


def test_file_path_resolves_a_stored_name(tmp_path):
    assert LocalStorage(tmp_path).path("u7/abc.jpg") == (tmp_path / "u7" / "abc.jpg").resolve()


def test_store_path_keeps_a_file_from_disk_and_refuses_programs(tmp_path):
    picture = tmp_path / "picture.png"
    picture.write_bytes(image_bytes("PNG"))
    program = tmp_path / "tool.png"
    program.write_bytes(b"MZ" + b"\x00" * 100)
    upload_dir = tmp_path / "uploads"

    stored = store_path(path=picture, store=LocalStorage(upload_dir), owner_id=OWNER, original_name="picture.png")
    with pytest.raises(FileRefused, match="looks like a program"):
        store_path(path=program, store=LocalStorage(upload_dir), owner_id=OWNER, original_name="tool.png")

    assert picture.exists() and stored.media_kind is MediaKind.image and stored.thumb_small
    assert sorted(files_under(upload_dir)) == sorted(
        upload_dir / n for n in (stored.stored_name, stored.thumb_small, stored.thumb_large, stored.thumb_print))


@pytest.mark.parametrize(("size", "expected"), [
    (500, "500 bytes"), (1, "1 byte"), (2048, "2 KB"), (int(1.5 * MB), "1.5 MB"), (240 * MB, "240 MB"),
    (100 * MB + 60_000, "100 MB"), (2048 * MB, "2 GB"),
])
def test_human_size(size, expected):
    assert human_size(size) == expected
