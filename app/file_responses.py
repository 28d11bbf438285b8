"""Serving an artefact's stored file (or its image preview) safely: the one place that builds those responses.

Used by /files/... (signed-in viewers) and by a secret link's /s/{token}/files/...; the callers decide who may
see the artefact, this decides how its bytes go out."""

from __future__ import annotations

from pathlib import Path

from fastapi.responses import FileResponse, Response

from app.models import Artefact, ArtefactKind, MediaKind
from app.services.portfolio import uploads
from app.access import not_found
from app.services.portfolio.artefacts import is_viewable_inline
from app.services.portfolio.filetypes import download_name

FILE_VARIANTS = ("original", "small", "large")


def signed_in_file_url(artefact_id: int, variant: str) -> str:
    """Where a signed-in viewer's browser fetches an artefact's file (the /files route checks who may see it).
    A secret link uses its own: f"/s/{token}/files/{artefact_id}/{variant}"."""
    return f"/files/{artefact_id}/{variant}"


def artefact_file_response(*, artefact: Artefact, variant: str, upload_dir: Path, cache_control: str) -> Response:
    """The artefact's original file or an image preview ("small", "large"); 404 for anything else.
    Range requests are answered, so audio and video can seek."""
    if artefact.kind is not ArtefactKind.file or variant not in FILE_VARIANTS:
        raise not_found()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": cache_control}
    if variant == "original":
        path = uploads.file_path(upload_dir=upload_dir, stored_name=artefact.stored_name)
        inline = is_viewable_inline(artefact)
        # The name keeps the sniffed type's extension: "evil.bat" that is really text downloads as "evil.txt".
        name = download_name(artefact.original_name or path.name, path.suffix.lstrip("."))
        return FileResponse(path, media_type=artefact.content_type, filename=name,
                            content_disposition_type="inline" if inline else "attachment", headers=headers)
    name = artefact.thumb_small if variant == "small" else artefact.thumb_large
    if artefact.media_kind is not MediaKind.image or not name:
        raise not_found()
    path = uploads.file_path(upload_dir=upload_dir, stored_name=name)
    return FileResponse(path, media_type="image/webp", headers=headers, content_disposition_type="inline",
                        filename=f"{Path(artefact.original_name or 'image').stem}.webp")
