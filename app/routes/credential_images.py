"""A credential as a badge picture to take anywhere: the signed credential, exactly as issued, baked into a PNG or an
SVG Folio draws (app.services.badges.baked_images)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth import CurrentUser, require_user
from app.db import SessionDep
from app.services.badges import baked_images, credentials

router = APIRouter(dependencies=[Depends(require_user)])


def _picture(request: Request, public_id: str, user, session, kind: str) -> Response:
    view = credentials.visible_credential(session=session, settings=request.app.state.settings, viewer=user,
                                          public_id=public_id)
    bake = baked_images.credential_png if kind == "png" else baked_images.credential_svg
    body = bake(credential=view.json_text, title=view.name)
    filename = view.filename.removesuffix(".json") + f".{kind}"
    # The SVG is Folio's own drawing, but it is a download, never a page: nothing in it is run on this site.
    return Response(body, media_type="image/png" if kind == "png" else "image/svg+xml",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox"})


@router.get("/credentials/{public_id}/image.png")
def credential_png(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The credential baked into a PNG badge picture (Open Badges 3.0 baking)."""
    return _picture(request, public_id, user, session, "png")


@router.get("/credentials/{public_id}/image.svg")
def credential_svg(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The credential baked into an SVG badge picture."""
    return _picture(request, public_id, user, session, "svg")
