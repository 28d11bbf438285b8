"""A cap on every request body, enforced as the bytes arrive: nobody can fill the disk or a worker with one request.

The form parser spools files to disk before a route runs, so a route that takes a whole file (FastAPI's UploadFile)
can't refuse a huge one itself: its cap is declared here. Routes that stream uploads check their own, smaller,
limits as they read; the overall cap stays above those so their clearer messages come first.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.classes.roster import MAX_CSV_BYTES
from app.services.competencies.framework_files import MAX_FILE_BYTES as MAX_FRAMEWORK_BYTES

# Room for the form's other fields and the multipart boundaries around the file.
_FORM_ROOM = 64 * 1024

# (path pattern, largest body) for routes that read a whole file through the form parser.
SMALL_BODIES: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"/admin/frameworks/import"), MAX_FRAMEWORK_BYTES + _FORM_ROOM),
    (re.compile(r"/classes/[^/]+/students/bulk"), MAX_CSV_BYTES + 100_000 * 4 + _FORM_ROOM),
    # The JSON API takes notes and links (100,000 characters at most, each up to 6 bytes as a JSON escape); its file
    # upload streams under the upload's own limits, like the Add evidence form's.
    (re.compile(r"/api/(?!v1/items/files$).*"), 1_000_000),
]


class BodyTooLarge(HTTPException):
    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """413 for a body over its route's cap: at once from Content-Length, or as soon as the streamed bytes pass it."""

    def __init__(self, app: ASGIApp, *, largest: int) -> None:
        self.app = app
        self.largest = largest

    def limit_for(self, path: str) -> int:
        for pattern, limit in SMALL_BODIES:
            if pattern.fullmatch(path):
                return limit
        return self.largest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        too_big = declared is not None and declared.isdigit() and int(declared) > limit
        received = 0

        async def limited() -> Message:
            # Raised where the route reads its body, so the app's error page (or the upload's own clean-up) answers.
            nonlocal received
            if too_big:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)
