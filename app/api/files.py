"""/api/v1/files: a stored file or its preview, for whoever may fetch it on Folio's pages (the /files route's rule)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import storage as file_storage
from app.api.auth import ApiCaller
from app.api.items import READ_ERRORS
from app.api.schemas import Id
from app.db import SessionDep
from app.file_responses import artefact_file_response
from app.services.portfolio import artefacts as artefact_service

router = APIRouter(tags=["files"])
BINARY = {200: {"description": "The file's bytes.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}}


@router.get("/files/{file_id}/{variant}", response_class=Response, responses={**BINARY, **READ_ERRORS},
            summary="Fetch a file")
def fetch_file(request: Request, file_id: Id, variant: Literal["original", "small", "large"], caller: ApiCaller,
               session: SessionDep) -> Response:
    """A file item's file, or a picture's preview: also a picture shown in the text of an item the token's owner may
    read (an item's `pictures`), which is seen with it and no wider."""
    artefact = artefact_service.file_visible_to(session=session, viewer=caller.user, artefact_id=file_id)
    return artefact_file_response(request=request, artefact=artefact, variant=variant,
                                  store=file_storage.uploads(request.app.state.settings), cache_control="private, no-store")
