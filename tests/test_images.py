"""Photos are kept upright, without any metadata, with WebP thumbnails; bombs and broken files are refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from app.services.portfolio.images import (
    LARGE_THUMB_PX, MAX_PIXELS, SMALL_THUMB_PX, ImageRejected, check_dimensions, process_image, stored_type,
)

GPS_IFD = 0x8825
MAKE, MODEL, ORIENTATION = 0x010F, 0x0110, 0x0112
RED, BLUE = (220, 30, 30), (30, 30, 220)
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description dc:creator="Maya"/></rdf:RDF></x:xmpmeta>'


# --- builders (also used by test_uploads) ---------------------------------------------------------


def jpeg_with_gps_exif(width: int = 200, height: int = 100, orientation: int = 6) -> bytes:
    """A JPEG (left half red, right half blue) whose EXIF holds a camera, an orientation, GPS, plus XMP and a comment."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    exif = image.getexif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Pocket 12"
    exif[ORIENTATION] = orientation
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (49.0, 15.0, 30.0), 3: "W", 4: (123.0, 7.0, 12.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=XMP, comment=b"Maya's phone", quality=92)
    data = buffer.getvalue()
    reopened = Image.open(io.BytesIO(data))
    saved = reopened.getexif()
    assert saved.get_ifd(GPS_IFD)[2] == (49.0, 15.0, 30.0) and saved[MAKE] == "PhoneMaker"
    assert saved[ORIENTATION] == orientation and "xmp" in reopened.info and reopened.info["comment"]
    return data


def png_with_text(width: int = 120, height: int = 80) -> bytes:
    """A PNG carrying tEXt/iTXt chunks (author, XMP) and an eXIf chunk."""
    image = Image.new("RGBA", (width, height), (30, 140, 90, 200))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Maya Example")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif)
    data = buffer.getvalue()
    reopened = Image.open(io.BytesIO(data))
    assert reopened.text["Author"] == "Maya Example" and reopened.getexif()[MAKE] == "PhoneMaker"
    return data


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be width x height: a decompression bomb as far as the header goes."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _process(tmp_path: Path, data: bytes, suffix: str = "jpg"):
    source = tmp_path / "incoming" / "upload.part"
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    destination = tmp_path / "store" / f"abc.{suffix}"
    return process_image(source=source, destination=destination, thumbs_dir=tmp_path / "store", stem="abc"), destination


def _assert_no_metadata(path: Path) -> Image.Image:
    image = Image.open(path)
    assert not image.getexif(), f"{path.name} still has EXIF"
    for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "Author", "Raw profile type exif"):
        assert key not in image.info, f"{path.name} still has {key}"
    assert b"PhoneMaker" not in path.read_bytes() and b"Maya" not in path.read_bytes()
    return image


# --- tests ---------------------------------------------------------------------------------------------


def test_gps_exif_xmp_and_comment_are_gone_from_the_image_and_both_thumbnails(tmp_path):
    processed, stored = _process(tmp_path, jpeg_with_gps_exif())

    for path in (stored, processed.thumb_small, processed.thumb_large):
        _assert_no_metadata(path)
    assert Image.open(stored).format == "JPEG"
    assert Image.open(processed.thumb_small).format == Image.open(processed.thumb_large).format == "WEBP"
    assert processed.thumb_small.name == "abc-s.webp" and processed.thumb_large.name == "abc-l.webp"


def test_exif_orientation_is_applied(tmp_path):
    processed, stored = _process(tmp_path, jpeg_with_gps_exif(200, 100, orientation=6))

    assert (processed.width, processed.height) == (100, 200)
    for path in (stored, processed.thumb_large):
        upright = Image.open(path).convert("RGB")
        assert upright.size == (100, 200)
        # Orientation 6 means "rotate 90° clockwise to view": the red left half ends up on top.
        top, bottom = upright.getpixel((50, 20)), upright.getpixel((50, 180))
        assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]


def test_png_text_chunks_and_exif_are_stripped_and_png_stays_png(tmp_path):
    processed, stored = _process(tmp_path, png_with_text(), suffix="png")

    image = _assert_no_metadata(stored)
    assert image.format == "PNG" and image.mode == "RGBA" and image.text == {}
    _assert_no_metadata(processed.thumb_small)


def test_webp_metadata_is_stripped_and_webp_stays_webp(tmp_path):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    Image.new("RGB", (300, 200), RED).save(buffer, "WEBP", exif=exif, xmp=XMP)
    assert "exif" in Image.open(io.BytesIO(buffer.getvalue())).info

    processed, stored = _process(tmp_path, buffer.getvalue(), suffix="webp")

    assert _assert_no_metadata(stored).format == "WEBP"


def test_gif_keeps_its_first_frame_as_png(tmp_path):
    frames = [Image.new("P", (60, 40), index) for index in (1, 2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], comment=b"Maya")
    assert stored_type("image/gif") == ("image/png", "png")

    processed, stored = _process(tmp_path, buffer.getvalue(), suffix="png")

    image = _assert_no_metadata(stored)
    assert image.format == "PNG" and image.size == (60, 40) and not getattr(image, "is_animated", False)


def test_icc_profile_is_kept_so_colours_stay_true(tmp_path):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), RED).save(buffer, "JPEG", icc_profile=icc)

    processed, stored = _process(tmp_path, buffer.getvalue())

    assert Image.open(stored).info.get("icc_profile") == icc
    assert Image.open(processed.thumb_large).info.get("icc_profile") == icc


def test_cmyk_jpeg_stays_cmyk_and_its_thumbnails_are_rgb(tmp_path):
    buffer = io.BytesIO()
    Image.new("CMYK", (80, 60), (0, 200, 200, 0)).save(buffer, "JPEG")

    processed, stored = _process(tmp_path, buffer.getvalue())

    assert Image.open(stored).mode == "CMYK"
    assert Image.open(processed.thumb_small).mode == "RGB"


def test_large_jpeg_thumbnails_have_the_expected_sizes(tmp_path):
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGB").save(buffer, "JPEG", quality=80)

    processed, stored = _process(tmp_path, buffer.getvalue())

    assert (processed.width, processed.height) == Image.open(stored).size == (4000, 3000)
    assert Image.open(processed.thumb_large).size == (LARGE_THUMB_PX, 1200)
    assert Image.open(processed.thumb_small).size == (SMALL_THUMB_PX, 300)


def test_a_24_megapixel_photo_is_within_the_limit_and_100_megapixels_is_not():
    check_dimensions(6000, 4000)
    check_dimensions(8000, 6000)  # 48 MP phone sensors
    with pytest.raises(ImageRejected, match="100 megapixels; the limit is 60 megapixels"):
        check_dimensions(10_000, 10_000)


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (9_000, 8_000, "This image is 72 megapixels; the limit is 60 megapixels."),  # our own limit
        (12_000, 9_000, "more than 89 megapixels"),  # Pillow's warning, turned into a refusal
        (20_000, 20_000, "more than 178 megapixels"),  # Pillow's own error (twice its warning limit)
    ],
)
def test_decompression_bombs_are_refused_before_decoding_and_leave_nothing(tmp_path, width, height, expected):
    assert width * height > MAX_PIXELS

    with pytest.raises(ImageRejected) as refused:
        _process(tmp_path, png_header_only(width, height), suffix="png")

    assert expected in refused.value.message
    assert files_under(tmp_path) == [tmp_path / "incoming" / "upload.part"]  # only the caller's own temp file


def test_a_broken_image_is_refused_with_a_message_and_leaves_nothing(tmp_path):
    data = jpeg_with_gps_exif()
    with pytest.raises(ImageRejected, match="couldn't be read"):
        _process(tmp_path, data[: len(data) // 2])

    assert files_under(tmp_path) == [tmp_path / "incoming" / "upload.part"]
