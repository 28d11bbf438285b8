"""Uploaded photos made safe to keep: upright, stripped of every piece of metadata, with WebP thumbnails."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.i18n import _

# 60 megapixels: 24 MP phone or camera photos and 48-50 MP sensors pass. Memory grows with pixels
# (bench/uploads.py: a 24 MP JPEG peaks at ~95 MB, ~185 MB when it must be turned upright), so one
# 60 MP upload stays under ~500 MB. Pillow's own default (warning at 89 MP, error at 179 MP) is looser.
MAX_PIXELS = 60_000_000
SMALL_THUMB_PX = 400  # lists and cards
LARGE_THUMB_PX = 1600  # the viewer
JPEG_QUALITY = 90
WEBP_QUALITY = 90
THUMB_QUALITY = 80

# What a stored upload becomes: the same format family, except GIF (only its first frame is kept, as PNG).
_STORED_TYPES = {
    "image/jpeg": ("image/jpeg", "jpg"),
    "image/png": ("image/png", "png"),
    "image/gif": ("image/png", "png"),
    "image/webp": ("image/webp", "webp"),
}
_FORMAT_BY_SUFFIX = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
# Only these decoders ever see an upload (the JPEG one also opens phones' multi-picture "MPO" JPEGs).
_DECODERS = ("JPEG", "PNG", "GIF", "WEBP")
_COLOUR_FAMILY = {"1": "grey", "L": "grey", "LA": "grey", "I": "grey", "I;16": "grey",
                  "P": "rgb", "PA": "rgb", "RGB": "rgb", "RGBA": "rgb", "CMYK": "cmyk"}


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
    """Write `source` cleaned and upright to `destination` (format from its suffix) plus two WebP thumbnails.

    Outputs are written beside `source` first and renamed into place together, so `source`'s folder
    must be on the same filesystem; on any failure nothing is left behind (ImageRejected for bad images).
    """
    output_format = _FORMAT_BY_SUFFIX[destination.suffix.lower()]
    thumb_small = thumbs_dir / f"{stem}-s.webp"
    thumb_large = thumbs_dir / f"{stem}-l.webp"
    finals = (destination, thumb_small, thumb_large)
    partials = tuple(source.with_name(f"{source.name}.{index}.part") for index in range(len(finals)))
    try:
        try:
            width, height = _write_all(source, output_format, *partials)
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
    return ProcessedImage(width=width, height=height, thumb_small=thumb_small, thumb_large=thumb_large)


def _write_all(source: Path, output_format: str, full: Path, small: Path, large: Path) -> tuple[int, int]:
    """The cleaned full image (a full decode), then thumbnails (JPEGs decoded again at reduced scale)."""
    with _open_checked(source) as image:
        is_jpeg = image.format in ("JPEG", "MPO")
        icc = image.info.get("icc_profile")
        ImageOps.exif_transpose(image, in_place=True)  # decodes every pixel: the stored copy needs them all
        width, height = image.size
        if not is_jpeg:
            _save_thumbnails(image, small, large, icc=icc)
        _save_clean(image, full, output_format, icc=icc)
    if is_jpeg:
        with _open_checked(source) as image:
            # DCT scaling: libjpeg decodes at 1/2, 1/4 or 1/8 size (never below the large thumbnail),
            # much faster than a full decode followed by a resize.
            image.draft("RGB", (LARGE_THUMB_PX, LARGE_THUMB_PX))
            ImageOps.exif_transpose(image, in_place=True)
            _save_thumbnails(image, small, large, icc=icc)
    return width, height


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


def _save_clean(image: Image.Image, path: Path, output_format: str, *, icc: bytes | None) -> None:
    """Save with no EXIF, XMP, IPTC, comments or text chunks: only pixels, transparency and colour profile."""
    clean = _saveable(image, output_format)
    options: dict = {"exif": b""}
    if profile := _matching_icc(image.mode, clean.mode, icc):
        options["icc_profile"] = profile
    if output_format == "JPEG":
        options["quality"] = JPEG_QUALITY
    elif output_format == "WEBP":
        options.update(quality=WEBP_QUALITY, method=4, xmp=b"")
    clean.save(path, output_format, **options)


def _save_thumbnails(image: Image.Image, small: Path, large: Path, *, icc: bytes | None) -> None:
    # Resize in RGB(A): Pillow resizes palette images with nearest-neighbour only, which looks ragged.
    thumb = _saveable(image.copy() if image.mode in ("RGB", "RGBA") else image, "WEBP")
    thumb.thumbnail((LARGE_THUMB_PX, LARGE_THUMB_PX), Image.Resampling.LANCZOS)
    _save_webp_thumb(thumb, large, image.mode, icc)
    thumb.thumbnail((SMALL_THUMB_PX, SMALL_THUMB_PX), Image.Resampling.LANCZOS)
    _save_webp_thumb(thumb, small, image.mode, icc)


def _save_webp_thumb(thumb: Image.Image, path: Path, source_mode: str, icc: bytes | None) -> None:
    clean = _saveable(thumb, "WEBP")
    options: dict = {"quality": THUMB_QUALITY, "method": 4, "exif": b"", "xmp": b""}
    if profile := _matching_icc(source_mode, clean.mode, icc):
        options["icc_profile"] = profile
    clean.save(path, "WEBP", **options)


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
