"""Serving stored files safely: the one place that builds those responses.

Used by /files/... (signed-in viewers), by a secret link's /s/{token}/files/..., and by job downloads; the callers
decide who may see the file, this decides how its bytes go out. A file in a local folder is sent by Starlette's
FileResponse; one in an S3 bucket is streamed as it arrives, and a Range request becomes a ranged GET of just those
bytes (audio and video seek without the whole file passing through)."""

from __future__ import annotations

import re
from datetime import timezone
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from app.access import not_found
from app.models import Artefact, ArtefactKind, MediaKind
from app.services.portfolio.artefacts import is_viewable_inline
from app.services.portfolio.filetypes import download_name
from app.storage import Storage

FILE_VARIANTS = ("original", "small", "large")
_SINGLE_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


def signed_in_file_url(artefact_id: int, variant: str) -> str:
    """Where a signed-in viewer's browser fetches an artefact's file (the /files route checks who may see it).
    A secret link uses its own: f"/s/{token}/files/{artefact_id}/{variant}"."""
    return f"/files/{artefact_id}/{variant}"


def artefact_file_response(*, request: Request, artefact: Artefact, variant: str, store: Storage,
                           cache_control: str) -> Response:
    """The artefact's original file or an image preview ("small", "large"); 404 for anything else.
    Range requests are answered, so audio and video can seek."""
    if artefact.kind is not ArtefactKind.file or variant not in FILE_VARIANTS:
        raise not_found()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": cache_control}
    if variant == "original":
        key = artefact.stored_name
        inline = is_viewable_inline(artefact)
        # The name keeps the sniffed type's extension: "evil.bat" that is really text downloads as "evil.txt".
        suffix = Path(key or "").suffix
        name = download_name(artefact.original_name or Path(key or "file").name, suffix.lstrip("."))
        return stored_file_response(request=request, store=store, key=key, media_type=artefact.content_type,
                                    filename=name, disposition="inline" if inline else "attachment", headers=headers)
    key = artefact.thumb_small if variant == "small" else artefact.thumb_large
    if artefact.media_kind is not MediaKind.image or not key:
        raise not_found()
    return stored_file_response(request=request, store=store, key=key, media_type="image/webp",
                                filename=f"{Path(artefact.original_name or 'image').stem}.webp", disposition="inline",
                                headers=headers)


def stored_file_response(*, request: Request, store: Storage, key: str | None, media_type: str | None,
                         filename: str, disposition: str, headers: dict[str, str]) -> Response:
    """A stored file as a response (404 when it isn't there), honouring a single-range Range request."""
    try:
        path = store.local_path(key) if key else None
        info = None if path is not None or not key else store.info(key)
    except ValueError:
        raise not_found() from None
    if path is not None:
        response = FileResponse(path, media_type=media_type, filename=filename, content_disposition_type=disposition,
                                headers=headers, stat_result=path.stat())
        if response.headers.get("etag") in _etags(request.headers.get("if-none-match", "")):
            return _not_modified(response.headers)
        return response
    if info is None:
        raise not_found()
    headers = dict(headers)
    headers["Content-Disposition"] = _content_disposition(disposition, filename)
    headers["Accept-Ranges"] = "bytes"
    if info.etag:
        headers["ETag"] = info.etag
    if info.modified is not None:
        headers["Last-Modified"] = format_datetime(info.modified.astimezone(timezone.utc), usegmt=True)
    if info.etag and info.etag in _etags(request.headers.get("if-none-match", "")):
        return _not_modified(headers)
    wanted = _wanted_range(request, info.size, info.etag, headers.get("Last-Modified"))
    if wanted == "unsatisfiable":
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{info.size}"})
    if wanted is None:
        headers["Content-Length"] = str(info.size)
        return StreamingResponse(store.iter_range(key), media_type=media_type, headers=headers)
    start, end = wanted
    headers["Content-Length"] = str(end - start + 1)
    headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    return StreamingResponse(store.iter_range(key, start, end), status_code=206, media_type=media_type,
                             headers=headers)


def _wanted_range(request: Request, size: int, etag: str | None,
                  modified: str | None) -> tuple[int, int] | str | None:
    """(start, end) of a single satisfiable range, "unsatisfiable", or None to send the whole file (no Range, a
    stale If-Range, or several ranges, which a server may answer whole)."""
    header = request.headers.get("range")
    if not header:
        return None
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range not in (etag, modified):
        return None
    match = _SINGLE_RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # not a valid range: ignored, the whole file is sent
    if start >= size:
        return "unsatisfiable"
    return start, end


def _not_modified(headers) -> Response:
    """304: the browser's copy is current (only the validators and caching rules are repeated)."""
    return Response(status_code=304, headers={name: value for name, value in headers.items()
                                              if name.lower() in ("cache-control", "etag", "last-modified")})


def _etags(header: str) -> set[str]:
    """The entity tags an If-None-Match header names (weak ones compare equal, as RFC 9110 says for GET)."""
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _content_disposition(disposition: str, filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"{disposition}; filename*=utf-8''{quoted}"
    return f'{disposition}; filename="{filename}"'
