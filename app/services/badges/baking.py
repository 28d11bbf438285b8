"""Badges baked into images (Open Badges "baking"): reading and writing the assertion a PNG or SVG carries.

Open Badges 3.0: a PNG `iTXt` chunk with the keyword `openbadgecredential`, or an SVG `<openbadges:credential>`
element (namespace https://purl.imsglobal.org/ob/v3p0), holding the credential as JSON or a compact JWS.
Open Badges 2.0: a PNG `iTXt` chunk `openbadges`, or an SVG `<openbadges:assertion verify="…">` (namespace
http://openbadges.org), holding the assertion JSON, a JWS or the hosted assertion's URL. Open Badges 1.x wrote a
`tEXt` chunk `openbadges` with the hosted assertion's URL, which is read too.

PNGs are read and written a chunk at a time from file objects (only a badge's own text is held in memory); an SVG is
parsed whole, with DOCTYPE entity declarations refused before anything is expanded and nothing ever fetched.
"""

from __future__ import annotations

import base64
import io
import json
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.parsers import expat

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB3_KEYWORD = b"openbadgecredential"
OB2_KEYWORD = b"openbadges"
OB3_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
OB2_NAMESPACE = "http://openbadges.org"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
# A credential with its achievement's image as a data: URL is tens of kilobytes; a badge's text beyond this isn't one.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
MAX_SVG_BYTES = 8 * 1024 * 1024
_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
_BADGE_KEYWORDS = (OB3_KEYWORD, OB2_KEYWORD)
_OB3_CONTEXT = re.compile(r"purl\.imsglobal\.org/spec/ob/v3p0")
_OB2_CONTEXT = re.compile(r"w3id\.org/openbadges/v2|openbadgespec\.org/v2")
_OB1_CONTEXT = re.compile(r"w3id\.org/openbadges/v1")


class MalformedBakedBadge(ValueError):
    """The image says it carries a badge, but its text can't be read (bad compression, not UTF-8, too large)."""


@dataclass(frozen=True)
class BakedBadge:
    version: str  # "3.0", "2.0" or "1.0"
    payload: str  # the credential or assertion as baked: JSON, a compact JWS, or a URL
    verify_url: str = ""  # an SVG assertion's `verify` attribute (Open Badges 2.0), when it has one


# --- PNG -----------------------------------------------------------------------------------------------


def _chunks(handle: BinaryIO) -> Iterator[tuple[bytes, int, int]]:
    """(type, data length, offset of its data) for each chunk, IEND last; ValueError for a broken PNG."""
    if handle.read(len(PNG_SIGNATURE)) != PNG_SIGNATURE:
        raise ValueError("PNG: no signature")
    position = len(PNG_SIGNATURE)
    while True:
        header = handle.read(8)
        if len(header) < 8:
            raise ValueError("PNG: truncated")
        length, kind = struct.unpack(">I4s", header)
        yield kind, length, position + 8
        position += 12 + length
        handle.seek(position)
        if kind == b"IEND":
            return


def _read_chunk_data(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    data = handle.read(length)
    if len(data) < length:
        raise ValueError("PNG: truncated chunk")
    return data


def _keyword(handle: BinaryIO, offset: int, length: int) -> bytes:
    handle.seek(offset)
    return handle.read(min(length, 80)).split(b"\x00", 1)[0]


def _decode_text_chunk(kind: bytes, data: bytes) -> str:
    """The text of a tEXt, zTXt or iTXt chunk (after its keyword)."""
    _keyword_bytes, _sep, rest = data.partition(b"\x00")
    try:
        if kind == b"tEXt":
            return rest.decode("latin-1")
        if kind == b"zTXt":
            return _inflate(rest[1:]).decode("latin-1")
        flag, _method, rest = rest[0], rest[1], rest[2:]
        _language, _sep, rest = rest.partition(b"\x00")
        _translated, _sep, text = rest.partition(b"\x00")
        return (_inflate(text) if flag else text).decode("utf-8")
    except (IndexError, zlib.error, UnicodeDecodeError) as error:
        raise MalformedBakedBadge(f"PNG {kind.decode()} chunk: {error}") from error


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
    if len(text) > MAX_PAYLOAD_BYTES:
        raise MalformedBakedBadge("baked text is too large")
    return text


def extract_png(handle: BinaryIO) -> BakedBadge | None:
    """The badge baked into a PNG (read chunk by chunk), None when it has none; MalformedBakedBadge when its text
    can't be read, ValueError when the PNG itself is broken."""
    found: BakedBadge | None = None
    for kind, length, offset in _chunks(handle):
        if kind not in _TEXT_CHUNKS:
            continue
        keyword = _keyword(handle, offset, length)
        if keyword not in _BADGE_KEYWORDS:
            continue
        if length > MAX_PAYLOAD_BYTES:
            raise MalformedBakedBadge("baked text is too large")
        text = _decode_text_chunk(kind, _read_chunk_data(handle, offset, length)).strip()
        version = payload_version(text, keyword=keyword.decode(), legacy=kind == b"tEXt")
        # A 3.0 credential wins over an older assertion left in the same image.
        if found is None or version > found.version:
            found = BakedBadge(version=version, payload=text)
    return found


def extract_png_bytes(data: bytes) -> BakedBadge | None:
    """extract_png for a PNG already in memory."""
    return extract_png(io.BytesIO(data))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bake_png(*, source: BinaryIO, target: BinaryIO, payload: str, version: str) -> None:
    """Copy a PNG from `source` to `target` chunk by chunk with `payload` baked in an iTXt chunk before IEND
    (any badge already baked is left out); ValueError for a broken PNG."""
    keyword = OB3_KEYWORD if version == "3.0" else OB2_KEYWORD
    text = payload.encode("utf-8")
    if len(text) > MAX_PAYLOAD_BYTES:
        raise ValueError("payload is too large to bake")
    target.write(PNG_SIGNATURE)
    for kind, length, offset in _chunks(source):
        if kind in _TEXT_CHUNKS and _keyword(source, offset, length) in _BADGE_KEYWORDS:
            continue
        if kind == b"IEND":
            target.write(_chunk(b"iTXt", keyword + b"\x00\x00\x00\x00\x00" + text))
        source.seek(offset - 8)
        remaining = length + 12
        while remaining:
            block = source.read(min(remaining, 1024 * 1024))
            if not block:
                raise ValueError("PNG: truncated chunk")
            target.write(block)
            remaining -= len(block)


def bake_png_bytes(data: bytes, *, payload: str, version: str) -> bytes:
    """bake_png for a PNG in memory."""
    target = io.BytesIO()
    bake_png(source=io.BytesIO(data), target=target, payload=payload, version=version)
    return target.getvalue()


# --- SVG -----------------------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _refuse(*_args) -> None:
    raise _Refused()


@dataclass
class _SvgScan:
    root: str = ""
    root_start: int = -1
    # (namespace, local name, start, end tag's start, verify) of each Open Badges child of the root
    badges: list[tuple[str, str, int, int, str]] = field(default_factory=list)
    texts: dict[int, list[str]] = field(default_factory=dict)  # by the badge element's start


def _scan_svg(data: bytes) -> _SvgScan:
    """Where the root and its Open Badges children are, by byte offset; ValueError for anything but a well-formed
    document without entity declarations (no bombs, no external entities: nothing is expanded or fetched)."""
    if len(data) > MAX_SVG_BYTES:
        raise ValueError("SVG: too large")
    scan = _SvgScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SkippedEntityHandler = _refuse
    depth = 0
    open_badge: list[tuple[str, str, int, str]] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth == 1:
            scan.root, scan.root_start = name, parser.CurrentByteIndex
        elif depth == 2:
            namespace, _sep, local = name.rpartition(" ")
            if (namespace, local) in ((OB3_NAMESPACE, "credential"), (OB2_NAMESPACE, "assertion")):
                open_badge.append((namespace, local, parser.CurrentByteIndex, attributes.get("verify", "")))
                scan.texts[parser.CurrentByteIndex] = []

    def end(_name: str) -> None:
        nonlocal depth
        if depth == 2 and open_badge:
            namespace, local, begun, verify = open_badge.pop()
            scan.badges.append((namespace, local, begun, parser.CurrentByteIndex, verify))
        depth -= 1

    def text(value: str) -> None:
        if open_badge:
            scan.texts[open_badge[-1][2]].append(value)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except (_Refused, expat.ExpatError) as error:
        raise ValueError(f"SVG: not a plain, well-formed document ({error})") from None
    if scan.root != f"{SVG_NAMESPACE} svg":
        raise ValueError("SVG: the root isn't <svg>")
    return scan


def is_svg(data: bytes) -> bool:
    """True when `data` is a well-formed SVG document Folio can read safely."""
    try:
        _scan_svg(data)
    except ValueError:
        return False
    return True


def extract_svg(data: bytes) -> BakedBadge | None:
    """The badge baked into an SVG, None when it has none; ValueError when the SVG can't be read safely."""
    scan = _scan_svg(data)
    found: BakedBadge | None = None
    for namespace, _local, start, _end, verify in scan.badges:
        text = "".join(scan.texts.get(start, [])).strip()
        if len(text.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            raise MalformedBakedBadge("baked text is too large")
        if namespace == OB3_NAMESPACE:
            badge = BakedBadge(version="3.0", payload=text)
        else:
            badge = BakedBadge(version=payload_version(text or verify, keyword="openbadges"), payload=text or verify,
                               verify_url=verify)
        if found is None or badge.version > found.version:
            found = badge
    return found


def _tag_end(data: bytes, start: int) -> int:
    """The offset just after the tag starting at `start` (a `>` inside a quoted attribute value doesn't end it)."""
    quote = 0
    for position in range(start, len(data)):
        byte = data[position]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return position + 1
    raise ValueError("SVG: unterminated tag")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def bake_svg(data: bytes, *, payload: str, version: str, verify_url: str = "") -> bytes:
    """The SVG with `payload` baked as the first child of <svg> (any badge already baked is left out), the rest of
    the document byte for byte; ValueError when the SVG can't be read safely."""
    scan = _scan_svg(data)
    if version == "3.0":
        element = (f'<openbadges:credential xmlns:openbadges="{OB3_NAMESPACE}">{_cdata(payload)}'
                   "</openbadges:credential>")
    else:
        verify = f' verify="{_attribute(verify_url)}"' if verify_url else ""
        body = _cdata(payload) if payload and payload != verify_url else ""
        element = f'<openbadges:assertion xmlns:openbadges="{OB2_NAMESPACE}"{verify}>{body}</openbadges:assertion>'
    root_end = _tag_end(data, scan.root_start)
    removed = []
    for _namespace, _local, start, end_tag, _verify in scan.badges:
        start_tag_end = _tag_end(data, start)
        # An empty element (<x/>) ends with its start tag (expat reports its end where the next token begins).
        empty = data[start_tag_end - 2:start_tag_end] == b"/>"
        removed.append((start, start_tag_end if empty else _tag_end(data, end_tag)))
    out = bytearray(data[:root_end])
    out += element.encode("utf-8")
    position = root_end
    for start, end in sorted(removed):
        out += data[position:start]
        position = end
    out += data[position:]
    return bytes(out)


def _attribute(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# --- which version ---------------------------------------------------------------------------------


def payload_version(text: str, *, keyword: str, legacy: bool = False) -> str:
    """The Open Badges version a baked text is, from its JSON-LD context when it has one, else from where it was
    baked (an `openbadgecredential` chunk is 3.0; a tEXt `openbadges` chunk is 1.x's)."""
    context = ""
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        if isinstance(document, dict):
            context = json.dumps(document.get("@context", ""))
    elif text.count(".") == 2 and not text.startswith(("http://", "https://")):
        context = _jws_context(text)
    if _OB3_CONTEXT.search(context):
        return "3.0"
    if _OB2_CONTEXT.search(context):
        return "2.0"
    if _OB1_CONTEXT.search(context):
        return "1.0"
    if keyword == OB3_KEYWORD.decode():
        return "3.0"
    return "1.0" if legacy else "2.0"


def _jws_context(token: str) -> str:
    """The @context named in a compact JWS's payload (a VC-JWT's `vc` claim or the credential itself), or ""."""
    try:
        segment = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, IndexError):
        return ""
    if not isinstance(claims, dict):
        return ""
    credential = claims.get("vc") if isinstance(claims.get("vc"), dict) else claims
    return json.dumps(credential.get("@context", ""))
