"""Test media made on the spot with Pillow (nothing downloaded)."""

from __future__ import annotations

import io

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE, MODEL = 0x010F, 0x0110


def jpeg_with_gps(width: int = 320, height: int = 200) -> bytes:
    """A JPEG whose EXIF holds a camera, an orientation and a GPS position (Riverside's playground)."""
    image = Image.new("RGB", (width, height), (200, 120, 40))
    for x in range(0, width, 20):
        for y in range(height):
            image.putpixel((x, y), (20, 90, 160))
    exif = image.getexif()
    exif[MAKE] = "PhoneMaker"
    exif[MODEL] = "Pocket 12"
    exif[ORIENTATION] = 1
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (49.0, 15.0, 30.0)
    gps[3] = "W"
    gps[4] = (123.0, 7.0, 12.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=90)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the fixture must really carry GPS"
    return data


def png(width: int = 64, height: int = 48, colour=(30, 140, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def mp4(size: int = 300_000) -> bytes:
    """Bytes that sniff as MP4 video (an ftyp box), with a recognisable pattern to check ranges against."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    body = bytes(range(256)) * (size // 256 + 1)
    return (head + body)[:size]


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims a huge picture (400 megapixels by default): a decompression bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
