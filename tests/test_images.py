"""Photos are kept upright, without any metadata, with WebP thumbnails; bombs and broken files are refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageCms, ImageOps, ImageStat, PngImagePlugin

from app.services.portfolio import images
from app.services.portfolio.images import (
    LARGE_THUMB_PX, MAX_PIXELS, SMALL_THUMB_PX, ImageRejected, check_dimensions, process_image, stored_type,
)
from tests.conftest import unavailable

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


def test_gif_stays_an_animated_gif_without_its_comment(tmp_path):
    frames = [Image.new("RGB", (60, 40), colour).convert("P") for colour in (RED, BLUE)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], comment=b"Maya", loop=0)
    assert b"Maya" in buffer.getvalue() and Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2
    assert stored_type("image/gif") == ("image/gif", "gif")

    processed, stored = _process(tmp_path, buffer.getvalue(), suffix="gif")

    image = _assert_no_metadata(stored)
    assert image.format == "GIF" and image.size == (60, 40) and image.n_frames == 2
    assert image.info.get("loop") == 0  # the NETSCAPE looping extension is kept
    assert_same_pixels(buffer.getvalue(), stored)


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


# --- files of the kind users bring: kept as uploaded, minus their metadata --------------------------------


def assert_same_pixels(original: bytes | Image.Image, stored: Path, *, frames: bool = True) -> None:
    """Every decoded pixel (of every frame) of `stored` equals `original`'s."""
    before = Image.open(io.BytesIO(original)) if isinstance(original, bytes) else original
    after = Image.open(stored)
    count = getattr(before, "n_frames", 1) if frames else 1
    assert getattr(after, "n_frames", 1) == count
    for index in range(count):
        before.seek(index)
        after.seek(index)
        assert after.mode == before.mode and after.size == before.size
        assert after.tobytes() == before.tobytes(), f"frame {index} differs"


def assert_no_exif(path: Path) -> None:
    data = path.read_bytes()
    image = Image.open(path)
    assert not image.getexif() and not image.getexif().get_ifd(GPS_IFD)
    assert b"Exif\x00\x00" not in data and b"PhoneMaker" not in data and b"xmpmeta" not in data


def noisy_picture(width: int, height: int) -> Image.Image:
    """A photo-like picture (noise over colour gradients) whose halves differ, so turning it shows."""
    noise = Image.effect_noise((width, height), 30)
    across = Image.linear_gradient("L").resize((width, height))
    image = Image.merge("RGB", (Image.blend(across, noise, 0.3), noise, across.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    image.paste(RED, (0, 0, width // 4, height))
    return image


def personal_icc() -> bytes:
    """An sRGB profile whose description names its owner, as a calibrated monitor's profile may."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    data = bytearray(profile.tobytes())
    # Swap the description text for a personal one of the same length (the tag's length stays valid).
    description = ImageCms.getProfileDescription(profile).strip().encode("utf-16-be")  # an ICC v4 mluc tag
    at = data.find(description)
    data[at:at + len(description)] = "Maya's iMac".ljust(len(description) // 2).encode("utf-16-be")
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(bytes(data)))).startswith("Maya")
    return bytes(data)


def camera_jpeg(width: int = 640, height: int = 480, *, orientation: int = 6, icc: bytes | None = None,
                subsampling: int = 2) -> bytes:
    """A camera-like JPEG: EXIF with camera, GPS and orientation, XMP, an ICC profile and a COM segment."""
    image = noisy_picture(width, height)
    exif = image.getexif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "PhoneMaker", "Pocket 12", orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (49.0, 15.0, 30.0), 3: "W", 4: (123.0, 7.0, 12.0)})
    icc = icc if icc is not None else ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, xmp=XMP, comment=b"Maya's camera", icc_profile=icc, quality=90,
               subsampling=subsampling)
    data = buffer.getvalue()
    assert b"Exif\x00\x00" in data and b"\xff\xfe" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)
    return data


def _scan_data(data: bytes) -> bytes:
    """Everything from the first SOS marker on (the entropy-coded image data)."""
    return data[data.index(b"\xff\xda"):]


def test_an_upright_camera_jpeg_keeps_its_image_data_byte_for_byte_and_loses_its_metadata(tmp_path):
    original = camera_jpeg(orientation=1)

    processed, stored = _process(tmp_path, original)

    data = stored.read_bytes()
    assert _scan_data(data) == _scan_data(original)  # not re-encoded: the same bytes after SOS
    assert_same_pixels(original, stored)
    assert_no_exif(stored)
    assert b"Maya's camera" not in data and not processed.reencoded
    # The standard profile the camera wrote is kept exactly (compared with the upload's own: lcms stamps a fresh
    # profile with the time it was made, so a second one made now could differ by a second).
    uploaded_icc = Image.open(io.BytesIO(original)).info["icc_profile"]
    assert Image.open(stored).info.get("icc_profile") == uploaded_icc
    for derivative in (processed.thumb_small, processed.thumb_large, processed.print_copy):
        assert_no_exif(derivative)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_sideways_camera_jpeg_is_turned_upright_losslessly(tmp_path, orientation):
    if images.JPEGTRAN is None:  # make test installs it; in CI this fails rather than skips
        unavailable("jpegtran (libjpeg-turbo-progs) is not installed")
    original = camera_jpeg(640, 480, orientation=orientation)  # multiples of the 16 px block: jpegtran -perfect

    processed, stored = _process(tmp_path, original)

    assert not processed.reencoded
    assert_no_exif(stored)
    expected_size = (480, 640) if orientation in (6, 8) else (640, 480)
    assert (processed.width, processed.height) == Image.open(stored).size == expected_size
    # Lossless: the DCT blocks were moved, not re-quantised, so turning it back gives the uploaded pixels exactly.
    back = {3: 3, 6: 8, 8: 6}[orientation]
    restored = tmp_path / "restored.jpg"
    restored.write_bytes(images._jpegtran(stored.read_bytes(), back))
    assert_same_pixels(Image.open(io.BytesIO(original)), restored)
    # And it looks like the upload turned as its EXIF said (the red quarter is the uploaded left edge).
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(original))).convert("RGB")
    difference = ImageChops.difference(expected, Image.open(stored).convert("RGB"))
    assert max(high for _low, high in difference.getextrema()) <= 8


def test_a_sideways_jpeg_that_cannot_be_turned_losslessly_is_re_encoded_at_high_quality_and_says_so(tmp_path, caplog):
    original = camera_jpeg(630, 470, orientation=6)  # not multiples of the 16 px block

    processed, stored = _process(tmp_path, original)

    assert processed.reencoded and "re-encoded" in caplog.text
    assert_no_exif(stored)
    assert Image.open(stored).size == (470, 630)
    from PIL import JpegImagePlugin
    assert JpegImagePlugin.get_sampling(Image.open(stored)) == 2  # same 4:2:0 subsampling as the upload
    expected = ImageOps.exif_transpose(Image.open(io.BytesIO(original))).convert("RGB")
    stat = ImageStat.Stat(ImageChops.difference(expected, Image.open(stored).convert("RGB")))
    assert max(stat.mean) < 4  # quality 95: close to the upload (this noisy picture is a hard case)


def test_a_personal_icc_profile_is_dropped_and_a_standard_one_kept(tmp_path):
    original = camera_jpeg(orientation=1, icc=personal_icc())

    processed, stored = _process(tmp_path, original)

    assert "icc_profile" not in Image.open(stored).info and b"Maya" not in stored.read_bytes()
    assert_same_pixels(original, stored)
    assert "icc_profile" not in Image.open(processed.thumb_large).info


def test_a_png_loses_its_text_and_its_baked_badge_and_keeps_its_pixels(tmp_path):
    # A baked badge is read out before this (app.services.badges, tests/test_badge_import.py) and kept in its own row.
    image = noisy_picture(120, 80).convert("RGBA")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Maya Example")
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    info.add_itxt("openbadges", '{"@context": "https://w3id.org/openbadges/v2", "id": "https://example.org/a/1"}')
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    buffer = io.BytesIO()
    image.save(buffer, "PNG", pnginfo=info, exif=exif)
    original = buffer.getvalue()

    processed, stored = _process(tmp_path, original, suffix="png")

    kept = Image.open(stored)
    assert kept.text == {}
    assert_no_exif(stored)
    assert b"Maya" not in stored.read_bytes()
    assert_same_pixels(original, stored)


def test_a_webp_loses_its_exif_and_xmp_and_keeps_its_pixels(tmp_path):
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (49.0, 15.0, 30.0)})
    buffer = io.BytesIO()
    noisy_picture(300, 200).save(buffer, "WEBP", exif=exif, xmp=XMP, quality=80)
    original = buffer.getvalue()
    assert b"Exif\x00\x00" in original or b"EXIF" in original

    processed, stored = _process(tmp_path, original, suffix="webp")

    data = stored.read_bytes()
    assert b"EXIF" not in data and b"XMP " not in data and data[4:8] == struct.pack("<I", len(data) - 8)
    assert data[20] & 0x0C == 0  # VP8X: the EXIF and XMP flags are cleared
    assert_no_exif(stored)
    assert_same_pixels(original, stored)


def test_the_print_copy_is_a_jpeg_of_at_most_1200_px_flattened_onto_white(tmp_path):
    processed, _stored = _process(tmp_path, png_with_text(2400, 1600), suffix="png")

    printed = Image.open(processed.print_copy)
    assert printed.format == "JPEG" and printed.mode == "RGB" and max(printed.size) == images.PRINT_PX
    assert processed.print_copy.name == "abc-p.jpg"


def test_without_jpegtran_a_sideways_jpeg_is_still_turned_and_flagged_as_re_encoded(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "JPEGTRAN", None)

    processed, stored = _process(tmp_path, camera_jpeg(640, 480, orientation=6))

    assert processed.reencoded and Image.open(stored).size == (480, 640) == (processed.width, processed.height)
    assert_no_exif(stored)


def test_an_mpo_s_second_picture_and_trailing_data_are_dropped(tmp_path):
    # Phones append a second picture (with its own EXIF) or a trailer after the first image's EOI.
    original = camera_jpeg(orientation=1)
    trailer = camera_jpeg(64, 48, orientation=1) + b"SEFT location 49.0N"

    processed, stored = _process(tmp_path, original + trailer)

    assert stored.read_bytes().endswith(b"\xff\xd9") and b"SEFT" not in stored.read_bytes()
    assert_no_exif(stored)
    assert_same_pixels(original, stored)


def test_a_sideways_png_is_turned_losslessly_and_flagged(tmp_path):
    picture = noisy_picture(120, 80)
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE] = 6, "PhoneMaker"
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", exif=exif)

    processed, stored = _process(tmp_path, buffer.getvalue(), suffix="png")

    assert processed.reencoded and (processed.width, processed.height) == (80, 120)
    assert_no_exif(stored)
    assert_same_pixels(picture.transpose(Image.Transpose.ROTATE_270), stored)
