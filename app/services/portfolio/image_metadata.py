"""Lossless metadata removal for uploaded photos: segments and chunks are dropped, image data is copied unchanged.

JPEG: APP1 (EXIF, XMP), APP13 (IPTC/Photoshop), every other APPn and COM go; APP0 JFIF, APP14 Adobe (colour
transform, needed to decode) and a standard ICC profile (APP2) stay; the scans are copied byte for byte up to the
first image's EOI (what follows, e.g. an MPO's second picture with its own EXIF or a phone's trailer, goes).
PNG: only chunks that describe the pixels stay (text, eXIf, tIME and private chunks go; a baked Open Badge is read
out before, by app.services.badges.baking, and kept beside the image). WebP: EXIF, XMP and unknown chunks go, VP8X flags and
the RIFF size follow. GIF: comments and application extensions go, except the looping one (NETSCAPE2.0/ANIMEXTS1.0).

ICC profiles: kept only when their description names a standard colour space (sRGB, Display P3, Adobe RGB...);
any other profile (a calibrated monitor's or a camera's, whose description or copyright may name its owner) is
dropped, at the cost of a possible slight colour shift. Every parser takes bytes or an mmap (only what is kept is copied) and raises ValueError on a malformed file.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

# Descriptions of published colour spaces; a profile whose description isn't one of these is treated as personal.
_STANDARD_ICC = re.compile(
    r"^\s*(sRGB|Display P3|DCI[- ]?P3|P3|Adobe RGB|ProPhoto|ROMM|Rec\.? ?(2020|709|601)|ITU-R BT\.?(2020|709)|"
    r"Generic (Gray|RGB|CMYK)|Gray Gamma|Dot Gain|Linear (RGB|Gray)|eciRGB|Apple RGB|ColorMatch RGB|scRGB|"
    r"(U\.S\.|US) (Web|Sheetfed)|(Coated|Uncoated|ISO Coated|ISO Uncoated|PSO) .*|.*FOGRA\d+.*|GRACoL.*|SWOP.*|"
    r"Japan (Color|Web)|Euroscale|Web Coated|Black & White|Gray)\b",
    re.IGNORECASE,
)


def icc_is_standard(icc: bytes) -> bool:
    """True when the profile describes a published colour space (sRGB, Display P3...), not a person's own device."""
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile)
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        return False
    return bool(_STANDARD_ICC.match(description or ""))


# --- JPEG ----------------------------------------------------------------------------------------------

_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
_APP0, _APP2, _APP14, _COM = 0xE0, 0xE2, 0xEE, 0xFE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7: markers without a length
_ICC_ID = b"ICC_PROFILE\x00"


def _jpeg_segments(data: bytes, start: int) -> tuple[int, int, int]:
    """(marker, segment start, segment end) of the marker segment at `start` (fill bytes skipped)."""
    if data[start] != 0xFF:
        raise ValueError("JPEG: expected a marker")
    position = start
    while position < len(data) and data[position] == 0xFF:
        position += 1
    if position >= len(data):
        raise ValueError("JPEG: truncated")
    marker = data[position]
    if marker in _STANDALONE or marker in (_SOI, _EOI):
        return marker, start, position + 1
    if position + 3 > len(data):
        raise ValueError("JPEG: truncated")
    (length,) = struct.unpack_from(">H", data, position + 1)
    end = position + 1 + length
    if length < 2 or end > len(data):
        raise ValueError("JPEG: bad segment length")
    return marker, start, end


def _keep_jpeg_segment(marker: int, payload: bytes, *, keep_icc: bool) -> bool:
    if marker == _COM:
        return False
    if 0xE0 <= marker <= 0xEF:
        if marker == _APP0:
            return payload.startswith(b"JFIF\x00")  # not JFXX (an embedded thumbnail)
        if marker == _APP14:
            return payload.startswith(b"Adobe")
        if marker == _APP2:
            return keep_icc and payload.startswith(_ICC_ID)
        return False
    return True


def strip_jpeg(data: bytes) -> tuple[bytes, bool]:
    """The JPEG without metadata segments, its scans unchanged, ending at the first image's EOI; and whether an
    ICC profile was dropped as non-standard."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("JPEG: no SOI")
    # The ICC profile may be split over several APP2 segments: judge it whole, keep all or none.
    icc_parts: list[tuple[int, bytes]] = []
    position = 2
    header: list[tuple[int, int, int]] = []
    while True:
        marker, start, end = _jpeg_segments(data, position)
        header.append((marker, start, end))
        if marker == _APP2 and data[start + 4:start + 4 + len(_ICC_ID)] == _ICC_ID:
            icc_parts.append((data[start + 4 + len(_ICC_ID)], data[start + 6 + len(_ICC_ID):end]))
        if marker == _SOS:
            break
        if marker == _EOI:
            raise ValueError("JPEG: no image data")
        position = end
    icc = b"".join(part for _seq, part in sorted(icc_parts))
    keep_icc = bool(icc) and icc_is_standard(icc)
    out = bytearray(b"\xff\xd8")
    for marker, start, end in header:
        if _keep_jpeg_segment(marker, data[start + 4:end], keep_icc=keep_icc):
            out += data[start:end]
    # After the first SOS: entropy-coded data copied byte for byte; between scans (progressive), tables and SOS
    # segments are copied too, APPn/COM are not; stop at EOI.
    position = header[-1][2]
    while True:
        found = data.find(b"\xff", position)
        # FF 00 is a stuffed byte and FF D0-D7 a restart marker: both are scan data.
        while found != -1 and found + 1 < len(data) and (data[found + 1] == 0 or 0xD0 <= data[found + 1] <= 0xD7):
            found = data.find(b"\xff", found + 2)
        if found == -1 or found + 1 >= len(data):
            raise ValueError("JPEG: truncated (no EOI)")
        out += data[position:found]
        marker, start, end = _jpeg_segments(data, found)
        if marker == _EOI:
            out += b"\xff\xd9"
            return bytes(out), bool(icc) and not keep_icc
        if _keep_jpeg_segment(marker, data[start + 4:end], keep_icc=keep_icc):
            out += data[start:end]
        position = end


# --- PNG -----------------------------------------------------------------------------------------------

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that describe how to show the pixels (and APNG's frames); everything else is dropped.
_PNG_KEEP = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"sBIT", b"sRGB", b"cICP", b"mDCv",
             b"cLLi", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL", b"fcTL", b"fdAT"}


def strip_png(data: bytes) -> tuple[bytes, bool]:
    """The PNG with only pixel-describing chunks; and whether an ICC profile was dropped as non-standard."""
    if data[:len(_PNG_SIGNATURE)] != _PNG_SIGNATURE:
        raise ValueError("PNG: no signature")
    out = bytearray(_PNG_SIGNATURE)
    position, dropped_icc = len(_PNG_SIGNATURE), False
    while True:
        if position + 12 > len(data):
            raise ValueError("PNG: truncated")
        length, kind = struct.unpack_from(">I4s", data, position)
        end = position + 12 + length
        if end > len(data):
            raise ValueError("PNG: truncated chunk")
        payload = data[position + 8:end - 4]
        keep = kind in _PNG_KEEP
        if kind == b"iCCP":
            _name, _sep, rest = payload.partition(b"\x00")
            try:
                keep = icc_is_standard(zlib.decompress(rest[1:]))
            except zlib.error:
                keep = False
            dropped_icc = not keep
        if keep:
            out += data[position:end]
        if kind == b"IEND":
            return bytes(out), dropped_icc
        position = end


# --- WebP ----------------------------------------------------------------------------------------------

_WEBP_KEEP = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
_VP8X_ICC, _VP8X_EXIF, _VP8X_XMP = 0x20, 0x08, 0x04


def strip_webp(data: bytes) -> tuple[bytes, bool]:
    """The WebP without EXIF, XMP or unknown chunks (VP8X flags and RIFF size updated); and whether an ICC
    profile was dropped as non-standard."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("WebP: not a RIFF WEBP file")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    limit = min(len(data), riff_size + 8)
    chunks: list[bytes] = []
    position, dropped_icc, has_icc = 12, False, False
    while position + 8 <= limit:
        kind, size = struct.unpack_from("<4sI", data, position)
        end = position + 8 + size + (size & 1)
        if position + 8 + size > limit:
            raise ValueError("WebP: truncated chunk")
        keep = kind in _WEBP_KEEP
        if kind == b"ICCP":
            keep = icc_is_standard(data[position + 8:position + 8 + size])
            dropped_icc, has_icc = not keep, keep
        if keep:
            chunks.append(data[position:min(end, limit)].ljust(end - position, b"\x00"))
        position = end
    if not chunks:
        raise ValueError("WebP: no image data")
    if chunks[0][:4] == b"VP8X":
        flags = chunks[0][8] & ~(_VP8X_EXIF | _VP8X_XMP)
        if not has_icc:
            flags &= ~_VP8X_ICC
        chunks[0] = chunks[0][:8] + bytes([flags]) + chunks[0][9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, dropped_icc


# --- GIF -----------------------------------------------------------------------------------------------

_LOOPING_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0")


def _gif_sub_blocks_end(data: bytes, position: int) -> int:
    while True:
        if position >= len(data):
            raise ValueError("GIF: truncated")
        size = data[position]
        position += 1 + size
        if size == 0:
            return position


def strip_gif(data: bytes) -> bytes:
    """The GIF without comment or application extensions (except looping), frames copied byte for byte."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise ValueError("GIF: no header")
    flags = data[10]
    position = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = bytearray(data[:position])
    while True:
        if position >= len(data):
            raise ValueError("GIF: truncated (no trailer)")
        introducer = data[position]
        if introducer == 0x3B:
            out += b"\x3b"
            return bytes(out)
        if introducer == 0x21:
            label = data[position + 1]
            end = _gif_sub_blocks_end(data, position + 2)
            keep = label in (0xF9, 0x01)  # graphic control (delays, transparency), plain text (drawn)
            if label == 0xFF:
                keep = data[position + 3:position + 14] in _LOOPING_APPS
            if keep:
                out += data[position:end]
            position = end
        elif introducer == 0x2C:
            if position + 10 > len(data):
                raise ValueError("GIF: truncated frame")
            local = data[position + 9]
            start_data = position + 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            end = _gif_sub_blocks_end(data, start_data + 1)  # after the LZW minimum code size
            out += data[position:end]
            position = end
        else:
            raise ValueError("GIF: unexpected block")
