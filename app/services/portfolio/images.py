"""Uploaded photos kept as uploaded, minus their metadata: upright, with WebP thumbnails and a print-size JPEG.

The stored image is the uploaded data with its metadata segments or chunks removed (image_metadata.py), so its
pixels are the ones the student uploaded. A JPEG with an EXIF orientation is turned upright losslessly by
libjpeg-turbo's `jpegtran -perfect` (Debian's libjpeg-turbo-progs); when that is impossible (dimensions that aren't
a multiple of the block size, or no jpegtran on the machine) it is decoded, turned and re-encoded at quality 95
with the same chroma subsampling, and ProcessedImage.reencoded says so (and a warning is logged).
"""

from __future__ import annotations

import io
import logging
import mmap
import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from app.i18n import _
from app.services.portfolio import image_metadata

log = logging.getLogger(__name__)

# 60 megapixels: 24 MP phone or camera photos and 48-50 MP sensors pass. Memory grows with pixels
# (bench/uploads.py: a 24 MP JPEG peaks at ~95 MB, ~185 MB when it must be turned upright), so one
# 60 MP upload stays under ~500 MB. Pillow's own default (warning at 89 MP, error at 179 MP) is looser.
MAX_PIXELS = 60_000_000
SMALL_THUMB_PX = 400  # lists and cards
LARGE_THUMB_PX = 1600  # the viewer
PRINT_PX = 1200  # PDF exports: a photo across an A4 page at ~175 dpi
REENCODE_QUALITY = 95  # only when a JPEG can't be turned upright losslessly
THUMB_QUALITY = 80
THUMB_METHOD = 1  # libwebp's effort 0..6: 1 is about 3x faster than 4 at a barely larger size
PRINT_QUALITY = 85
PRINT_SUFFIX = "-p.jpg"
ORIENTATION = 0x0112
JPEGTRAN = shutil.which("jpegtran")
JPEGTRAN_TIMEOUT_S = 120

# What a stored upload is: its own format.
_STORED_TYPES = {
    "image/jpeg": ("image/jpeg", "jpg"),
    "image/png": ("image/png", "png"),
    "image/gif": ("image/gif", "gif"),
    "image/webp": ("image/webp", "webp"),
}
# Only these decoders ever see an upload (the JPEG one also opens phones' multi-picture "MPO" JPEGs).
_DECODERS = ("JPEG", "PNG", "GIF", "WEBP")
_COLOUR_FAMILY = {"1": "grey", "L": "grey", "LA": "grey", "I": "grey", "I;16": "grey",
                  "P": "rgb", "PA": "rgb", "RGB": "rgb", "RGBA": "rgb", "CMYK": "cmyk"}
# EXIF orientation → jpegtran's lossless transform (and Pillow's, for the fallback).
_JPEGTRAN_TRANSFORM = {
    2: ["-flip", "horizontal"], 3: ["-rotate", "180"], 4: ["-flip", "vertical"], 5: ["-transpose"],
    6: ["-rotate", "90"], 7: ["-transverse"], 8: ["-rotate", "270"],
}


class ImageRejected(Exception):
    """An image Folio won't keep; `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ProcessedImage:
    width: int
    height: int
    thumb_small: Path
    thumb_large: Path
    print_copy: Path  # a JPEG of at most PRINT_PX a side, for PDF exports
    reencoded: bool = False  # True when the stored JPEG had to be re-encoded to turn it upright


def stored_type(content_type: str) -> tuple[str, str]:
    """The (content type, extension) the cleaned image is stored as, e.g. GIF → ("image/png", "png")."""
    return _STORED_TYPES[content_type]


def check_dimensions(width: int, height: int) -> None:
    """Refuse images whose pixels would take too much memory to decode (decompression bombs)."""
    if width * height > MAX_PIXELS:
        raise ImageRejected(_(
            "This image is %(pixels)s megapixels; the limit is %(limit)s megapixels.",
            pixels=round(width * height / 1_000_000), limit=MAX_PIXELS // 1_000_000,
        ))


def process_image(*, source: Path, destination: Path, thumbs_dir: Path, stem: str) -> ProcessedImage:
    """Write `source` without metadata and upright to `destination`, plus two WebP thumbnails and a print JPEG.

    Outputs are written beside `source` first and renamed into place together, so `source`'s folder
    must be on the same filesystem; on any failure nothing is left behind (ImageRejected for bad images).
    """
    finals = (destination, thumbs_dir / f"{stem}-s.webp", thumbs_dir / f"{stem}-l.webp", thumbs_dir / f"{stem}{PRINT_SUFFIX}")
    partials = tuple(source.with_name(f"{source.name}.{index}.part") for index in range(len(finals)))
    try:
        try:
            width, height, reencoded = _write_all(source, *partials)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
            if isinstance(error, OSError) and error.errno is not None:
                raise  # a real I/O failure (disk full...), not a bad image
            raise ImageRejected(_("This image couldn't be read; it may be damaged or incomplete.")) from error
        for partial, final in zip(partials, finals):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(partial, final)
    except BaseException:
        for path in (*partials, *finals):
            path.unlink(missing_ok=True)
        raise
    if reencoded:
        log.warning("Photo %s re-encoded at quality %d: it couldn't be turned upright losslessly", destination.name,
                    REENCODE_QUALITY)
    return ProcessedImage(width=width, height=height, thumb_small=finals[1], thumb_large=finals[2],
                          print_copy=finals[3], reencoded=reencoded)


def _write_all(source: Path, full: Path, small: Path, large: Path, printed: Path) -> tuple[int, int, bool]:
    """The stored image (metadata stripped, turned upright), then the derivatives."""
    with _open_checked(source) as image:
        image_format = image.format
        orientation = image.getexif().get(ORIENTATION, 1) if image_format != "GIF" else 1
        orientation = orientation if orientation in range(2, 9) else 1
    # Mapped, not read: a file padded with a large trailer costs no memory, only what is kept is copied.
    with open(source, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if image_format in ("JPEG", "MPO"):
            stripped, _dropped = image_metadata.strip_jpeg(data)
        elif image_format == "PNG":
            stripped, _dropped = image_metadata.strip_png(data)
        elif image_format == "WEBP":
            stripped, _dropped = image_metadata.strip_webp(data)
        else:
            stripped, orientation = image_metadata.strip_gif(data), 1
    if image_format in ("JPEG", "MPO"):
        return _write_jpeg(stripped, orientation, full, small, large, printed)
    full.write_bytes(stripped)
    with _open_checked(full) as image:
        icc = image.info.get("icc_profile")
        if orientation == 1:
            _save_derivatives(image, small, large, printed, icc=icc)
            return *image.size, False
        # A PNG or WebP whose EXIF says it is sideways: its pixels are turned and saved losslessly.
        upright = _transpose(image, orientation)
        upright.info = dict(image.info)
    _save_turned(upright, full, image_format)
    _save_derivatives(upright, small, large, printed, icc=icc)
    return *upright.size, True


def _write_jpeg(stripped: bytes, orientation: int, full: Path, small: Path, large: Path,
                printed: Path) -> tuple[int, int, bool]:
    """A stripped JPEG turned by jpegtran in another process while the thumbnails are made from the unturned
    data (turned after their first resize, which costs little)."""
    unturned = full.with_name(f"{full.name}.in")
    turning: subprocess.Popen | None = None
    try:
        if orientation == 1:
            full.write_bytes(stripped)
        else:
            unturned.write_bytes(stripped)
            turning = _start_jpegtran(unturned, full, orientation)
        with _open_checked(full if orientation == 1 else unturned) as image:
            width, height = image.size
            # DCT scaling: libjpeg decodes at 1/2, 1/4 or 1/8 size (never below the large thumbnail),
            # much faster than a full decode followed by a resize.
            image.draft("RGB", (LARGE_THUMB_PX, LARGE_THUMB_PX))
            _save_derivatives(image, small, large, printed, icc=image.info.get("icc_profile"), orientation=orientation)
        if orientation == 1:
            return width, height, False
        if orientation >= 5:
            width, height = height, width
        # -perfect fails when a dimension isn't a multiple of the block size (the edge blocks can't move).
        if turning is not None and _finished_well(turning) and full.stat().st_size:
            return width, height, False
        full.write_bytes(_reencode_jpeg_upright(stripped, orientation))
        return width, height, True
    finally:
        if turning is not None and turning.poll() is None:
            turning.kill()
            turning.wait()
        unturned.unlink(missing_ok=True)


def _finished_well(process: subprocess.Popen) -> bool:
    try:
        return process.wait(timeout=JPEGTRAN_TIMEOUT_S) == 0
    except subprocess.TimeoutExpired:
        return False  # killed in _write_jpeg's finally; the photo is re-encoded instead


def _start_jpegtran(source: Path, destination: Path, orientation: int) -> subprocess.Popen | None:
    """jpegtran turning `source` upright into `destination` without decoding it (DCT blocks are moved), started."""
    if JPEGTRAN is None:
        return None
    return subprocess.Popen(
        [JPEGTRAN, "-copy", "all", "-perfect", *_JPEGTRAN_TRANSFORM[orientation], "-outfile", str(destination),
         str(source)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _jpegtran(data: bytes, orientation: int) -> bytes | None:
    """`data` turned by jpegtran (tests use it to turn a stored photo back); None when it can't be done exactly."""
    if JPEGTRAN is None:
        return None
    result = subprocess.run([JPEGTRAN, "-copy", "all", "-perfect", *_JPEGTRAN_TRANSFORM[orientation]],
                            input=data, capture_output=True, check=False, timeout=JPEGTRAN_TIMEOUT_S)
    return result.stdout if result.returncode == 0 and result.stdout else None


def _reencode_jpeg_upright(data: bytes, orientation: int) -> bytes:
    """The fallback: decoded, turned, re-encoded at REENCODE_QUALITY with the same subsampling and ICC profile."""
    with Image.open(io.BytesIO(data), formats=("JPEG",)) as image:
        subsampling = JpegImagePlugin.get_sampling(image)
        icc = image.info.get("icc_profile")
        turned = _transpose(image, orientation)
    options: dict = {"quality": REENCODE_QUALITY}
    if subsampling in (0, 1, 2):
        options["subsampling"] = subsampling
    if icc:
        options["icc_profile"] = icc
    buffer = io.BytesIO()
    turned.save(buffer, "JPEG", **options)
    return buffer.getvalue()


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _transpose(image: Image.Image, orientation: int) -> Image.Image:
    return image.transpose(_TRANSPOSE[orientation])


def _save_turned(image: Image.Image, path: Path, image_format: str) -> None:
    """A sideways PNG or WebP saved upright, losslessly, with no metadata but its colour profile."""
    icc = image.info.get("icc_profile")
    clean = _saveable(image, image_format)
    options: dict = {"exif": b""}
    if icc and image_metadata.icc_is_standard(icc):
        options["icc_profile"] = icc
    if image_format == "WEBP":
        options.update(lossless=True, exact=True, xmp=b"")
    clean.save(path, image_format, **options)


@contextmanager
def _open_checked(source: Path) -> Iterator[Image.Image]:
    """`source` opened from its header only, refusing decompression bombs before any pixel is decoded."""
    with open(source, "rb") as handle:
        try:
            # catch_warnings isn't thread-safe before Python 3.14: a race can at worst leave this "error"
            # filter in place (harmless) or drop it, and check_dimensions below still refuses the image.
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                image = Image.open(handle, formats=_DECODERS)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            # Pillow warns above its MAX_IMAGE_PIXELS and fails above twice that; the message knows no more.
            pillow_limit = (Image.MAX_IMAGE_PIXELS or MAX_PIXELS) * (2 if isinstance(error, Image.DecompressionBombError) else 1)
            raise ImageRejected(_(
                "This image is more than %(pixels)s megapixels; the limit is %(limit)s megapixels.",
                pixels=pillow_limit // 1_000_000, limit=MAX_PIXELS // 1_000_000,
            )) from error
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
            raise ImageRejected(_("This image couldn't be read; it may be damaged or incomplete.")) from error
        with image:
            check_dimensions(*image.size)
            yield image


def _save_derivatives(image: Image.Image, small: Path, large: Path, printed: Path, *, icc: bytes | None,
                      orientation: int = 1) -> None:
    """The 1600 px and 400 px WebP thumbnails and the print JPEG, each resized from the one before (and turned
    upright after the first resize when `image` is a sideways JPEG)."""
    if icc and not image_metadata.icc_is_standard(icc):
        icc = None
    source_mode = image.mode
    # Resize in RGB(A): Pillow resizes palette images with nearest-neighbour only, which looks ragged.
    thumb = _saveable(image.copy() if image.mode in ("RGB", "RGBA") else image, "WEBP")
    thumb.thumbnail((LARGE_THUMB_PX, LARGE_THUMB_PX), Image.Resampling.BICUBIC, reducing_gap=2.0)
    if orientation != 1:
        thumb = _transpose(thumb, orientation)
    _save_webp_thumb(thumb, large, source_mode, icc)
    print_copy = thumb.copy()
    print_copy.thumbnail((PRINT_PX, PRINT_PX), Image.Resampling.BICUBIC)
    _save_print(print_copy, printed, source_mode, icc)
    thumb.thumbnail((SMALL_THUMB_PX, SMALL_THUMB_PX), Image.Resampling.BICUBIC, reducing_gap=2.0)
    _save_webp_thumb(thumb, small, source_mode, icc)


def _save_webp_thumb(thumb: Image.Image, path: Path, source_mode: str, icc: bytes | None) -> None:
    clean = _saveable(thumb, "WEBP")
    options: dict = {"quality": THUMB_QUALITY, "method": THUMB_METHOD, "exif": b"", "xmp": b""}
    if profile := _matching_icc(source_mode, clean.mode, icc):
        options["icc_profile"] = profile
    clean.save(path, "WEBP", **options)


def _save_print(image: Image.Image, path: Path, source_mode: str, icc: bytes | None) -> None:
    """A JPEG that WeasyPrint embeds as it is (transparency flattened onto white)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.info = {}
    options: dict = {"quality": PRINT_QUALITY, "exif": b""}
    if profile := _matching_icc(source_mode, image.mode, icc):
        options["icc_profile"] = profile
    image.save(path, "JPEG", **options)


def _saveable(image: Image.Image, output_format: str) -> Image.Image:
    """`image` in a mode `output_format` can store, its `.info` emptied of metadata (converted or in place)."""
    mode = image.mode
    if output_format == "JPEG" and mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    elif output_format == "WEBP" and mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if image.has_transparency_data else "RGB")
    elif output_format == "PNG" and mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
        image = image.convert("RGBA")
    # Savers fall back to .info for comments, ICC profiles and more: keep only what the pixels need.
    image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    return image


def _matching_icc(source_mode: str, output_mode: str, icc: bytes | None) -> bytes | None:
    """The colour profile, kept while the pixels are still in its colour space (a CMYK profile can't describe RGB)."""
    if icc and _COLOUR_FAMILY.get(source_mode) == _COLOUR_FAMILY.get(output_mode):
        return icc
    return None
