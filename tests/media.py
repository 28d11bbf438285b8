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


# --- recordings in the shapes browsers record them (MediaRecorder: Chrome/Firefox WebM or Ogg with Opus, Safari MP4
# with AAC); structurally whole containers with silent frames, built here byte by byte ------------------------------


def _ebml(element_id: bytes, payload: bytes) -> bytes:
    """One EBML element: its id, its size as a vint (one byte when it fits, as MediaRecorder writes), its payload."""
    size = bytes([0x80 | len(payload)]) if len(payload) < 127 else bytes([0x01]) + len(payload).to_bytes(7, "big")
    return element_id + size + payload


def _opus_head(channels: int = 1, rate: int = 48_000) -> bytes:
    import struct
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 312, rate, 0, 0)


def webm_opus(frames: int = 50) -> bytes:
    """A WebM file as Chrome's MediaRecorder writes a microphone recording: EBML header (doctype webm), a Segment of
    unknown size with Info, one Opus audio track and a Cluster of 20 ms SimpleBlocks."""
    import struct
    header = _ebml(b"\x1a\x45\xdf\xa3", _ebml(b"\x42\x86", b"\x01") + _ebml(b"\x42\xf7", b"\x01")
                   + _ebml(b"\x42\xf2", b"\x04") + _ebml(b"\x42\xf3", b"\x08") + _ebml(b"\x42\x82", b"webm")
                   + _ebml(b"\x42\x87", b"\x04") + _ebml(b"\x42\x85", b"\x02"))
    info = _ebml(b"\x15\x49\xa9\x66", _ebml(b"\x2a\xd7\xb1", (1_000_000).to_bytes(3, "big"))
                 + _ebml(b"\x4d\x80", b"Chrome") + _ebml(b"\x57\x41", b"Chrome"))
    track = (_ebml(b"\xd7", b"\x01") + _ebml(b"\x73\xc5", b"\x01") + _ebml(b"\x83", b"\x02")
             + b"\x86\x86A_OPUS"  # CodecID with a one-byte size, as MediaRecorder writes it
             + _ebml(b"\x63\xa2", _opus_head())
             + _ebml(b"\xe1", _ebml(b"\xb5", struct.pack(">d", 48_000.0))
                     + _ebml(b"\x9f", b"\x01")))
    tracks = _ebml(b"\x16\x54\xae\x6b", _ebml(b"\xae", track))
    silent_frame = b"\xf8\xff\xfe"  # an Opus TOC byte for 20 ms CELT and a silent payload
    blocks = b"".join(_ebml(b"\xa3", b"\x81" + (i * 20).to_bytes(2, "big") + b"\x80" + silent_frame)
                      for i in range(frames))
    cluster = _ebml(b"\x1f\x43\xb6\x75", _ebml(b"\xe7", b"\x00") + blocks)
    segment = b"\x18\x53\x80\x67" + b"\x01\xff\xff\xff\xff\xff\xff\xff" + info + tracks + cluster
    return header + segment


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packets: list[bytes], *, sequence: int, granule: int, flags: int) -> bytes:
    import struct
    lacing = b""
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    page = (b"OggS" + struct.pack("<BBqIIIB", 0, flags, granule, 0x464F4C49, sequence, 0, len(lacing)) + lacing
            + b"".join(packets))
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_opus(frames: int = 50) -> bytes:
    """An Ogg Opus file as Firefox's MediaRecorder writes one: OpusHead and OpusTags pages, then 20 ms audio packets
    on a last page (every page with its CRC)."""
    tags = b"OpusTags" + (7).to_bytes(4, "little") + b"Mozilla" + (0).to_bytes(4, "little")
    return (_ogg_page([_opus_head()], sequence=0, granule=0, flags=0x02)
            + _ogg_page([tags], sequence=1, granule=0, flags=0)
            + _ogg_page([b"\xf8\xff\xfe"] * frames, sequence=2, granule=312 + frames * 960, flags=0x04))


def _box(kind: bytes, payload: bytes) -> bytes:
    return (8 + len(payload)).to_bytes(4, "big") + kind + payload


def m4a_aac(frames: int = 50, brand: bytes = b"M4A ") -> bytes:
    """An MP4 audio file as Safari's MediaRecorder writes one (audio/mp4, AAC): ftyp, a moov whose one track's handler
    is "soun" (mvhd, tkhd, mdia with mdhd and hdlr), and an mdat of AAC frames."""
    import struct
    ftyp = _box(b"ftyp", brand + b"\x00\x00\x02\x00" + b"isomiso2mp41")
    mvhd = _box(b"mvhd", b"\x00" * 4 + struct.pack(">IIII", 0, 0, 1000, frames * 21) + b"\x00\x01\x00\x00\x01\x00"
                + b"\x00" * 70 + struct.pack(">I", 2))
    tkhd = _box(b"tkhd", b"\x00\x00\x00\x07" + struct.pack(">IIIII", 0, 0, 1, 0, frames * 21) + b"\x00" * 60)
    mdhd = _box(b"mdhd", b"\x00" * 4 + struct.pack(">IIII", 0, 0, 44_100, frames * 1024) + b"\x55\xc4\x00\x00")
    hdlr = _box(b"hdlr", b"\x00" * 8 + b"soun" + b"\x00" * 12 + b"SoundHandler\x00")
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr)))
    mdat = _box(b"mdat", b"\x21\x10\x04\x60\x8c\x1c" * frames)  # silent AAC-LC frames
    return ftyp + moov + mdat


BROWSER_RECORDINGS = {  # name sent, bytes, the type Folio keeps it as
    "webm/opus": ("recording.webm", webm_opus, "audio/webm"),
    "ogg/opus": ("recording.ogg", ogg_opus, "audio/ogg"),
    "m4a/aac": ("recording.m4a", m4a_aac, "audio/mp4"),
}
