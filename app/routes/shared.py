"""A showcase's secret link: public (listed in PUBLIC_PATHS), read-only, and showing that showcase alone.

Expired, revoked, unknown, or turned-off links all answer the same 404, so nothing about them leaks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import storage as file_storage
from app.db import SessionDep
from app.file_responses import artefact_file_response
from app.services.showcases import share_links
from app.services.showcases.showcase_items import resolve_items
from app.templating import render
from app.routes.ids import PathId

router = APIRouter()

# Nothing keeps a copy, search engines stay away, and the address never leaves in a Referer header.
SHARED_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


@router.get("/s/{token}")
def shared_showcase(request: Request, token: str, session: SessionDep) -> Response:
    """The showcase the link opens, read-only, without signing in; each visit is counted."""
    link, showcase = share_links.showcase_for_token(session=session, token=token)
    items = resolve_items(session=session, settings=request.app.state.settings, showcase=showcase, viewer=None,
                          via_link=True)
    share_links.log_view(session=session, link=link)
    session.commit()

    def file_url(artefact_id: int, variant: str) -> str:
        return f"/s/{token}/files/{artefact_id}/{variant}"

    context = {"showcase": showcase, "items": items, "file_url": file_url}
    return render(request, "shared/showcase.html", context, headers=SHARED_HEADERS)


@router.get("/s/{token}/files/{artefact_id}/{variant}")
def shared_file(request: Request, token: str, artefact_id: PathId, variant: str, session: SessionDep) -> Response:
    """A file of an item in the linked showcase (anything else: 404)."""
    _link, showcase = share_links.showcase_for_token(session=session, token=token)
    artefact = share_links.artefact_via_link(session=session, showcase=showcase, artefact_id=artefact_id)
    response = artefact_file_response(request=request, artefact=artefact, variant=variant,
                                      store=file_storage.uploads(request.app.state.settings), cache_control="no-store")
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
