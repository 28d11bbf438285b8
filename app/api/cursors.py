"""Opaque cursors for the API's lists: the client passes back the `next` address it was given, never builds one.

The lists are the HTML pages' own (app.pagination's pages, so the same filters, ordering and search ranking): a cursor
carries the page it points at and the page size it was made with."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from fastapi import Request

from app.api.problems import ApiProblem
from app.i18n import _

LARGEST_PAGE = 10_000


def encode(*, number: int, size: int) -> str:
    raw = json.dumps({"p": number, "s": size}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None, *, size: int) -> tuple[int, int]:
    """(page number, page size) from a cursor (none: the first page at `size`); 400 for one this API didn't make."""
    if not cursor:
        return 1, size
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        number, size = data["p"], data["s"]
        if not all(type(v) is int for v in (number, size)) or not (1 <= number <= LARGEST_PAGE and 1 <= size <= 100):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ApiProblem(400, _("That cursor was not made by this API: use the \"next\" address as given.")) from None
    return number, size


def next_address(request: Request, page) -> str | None:
    """The address of the page after `page` (same filters), or None on the last page."""
    if not page.has_next or page.number >= LARGEST_PAGE:
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "limit")]
    query.append(("cursor", encode(number=page.number + 1, size=page.size)))
    return f"{request.url.path}?{urlencode(query)}"
