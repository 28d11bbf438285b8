"""/api/v1/credentials: the token owner's Open Badges credentials (the My credentials pages' services), each with its
signed document as issued."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from app.api import cursors
from app.api.auth import ApiCaller, require_role
from app.api.items import READ_ERRORS, Cursor, Limit
from app.db import SessionDep
from app.models import Role
from app.services.badges import credentials as service
from app.services.badges.credentials import CredentialView

router = APIRouter(tags=["credentials"])

PublicId = Annotated[str, Path(max_length=36, description="The credential's public id (the last part of its URL).")]


_EXAMPLE = {
    "id": "0b6c7c1e-5d1a-4f57-9a0e-2f4d8e1c3b21", "achievement": "Read 10 books", "issuer": "Maple School",
    "issued_at": "2026-11-24T10:00:00Z", "revoked": False, "revoked_at": None,
    "credential_url": "https://folio.example/credentials/0b6c7c1e-5d1a-4f57-9a0e-2f4d8e1c3b21",
    "verify_url": "https://folio.example/credentials/0b6c7c1e-5d1a-4f57-9a0e-2f4d8e1c3b21/verify",
    "api_url": "/api/v1/credentials/0b6c7c1e-5d1a-4f57-9a0e-2f4d8e1c3b21",
}


class CredentialSummary(BaseModel):
    """One credential: what it was awarded for, by whom, when, whether it is revoked, and where it is published."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str = Field(description="The credential's public id.")
    achievement: str
    issuer: str = Field(description="The issuing school's name.")
    issued_at: datetime
    revoked: bool
    revoked_at: datetime | None
    credential_url: str = Field(description="The credential's own URL (its `id`), serving its signed JSON.")
    verify_url: str = Field(description="The public page that verifies it.")
    api_url: str


class CredentialDetail(CredentialSummary):
    """One credential with its signed Open Badges 3.0 document, exactly as issued."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE | {"document": {
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "id": _EXAMPLE["credential_url"],
        "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"}}}]})

    document: dict = Field(description="The signed OpenBadgeCredential (JSON-LD) as issued; its proof verifies.")


class CredentialList(BaseModel):
    """A page of credentials, newest first; `next` is the address of the following page (null: the last one)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"credentials": [], "total": 0, "next": None}]})

    credentials: list[CredentialSummary]
    total: int = Field(description="How many credentials there are, over all pages.")
    next: str | None


def _fields(view: CredentialView) -> dict:
    return {"id": view.public_id, "achievement": view.name, "issuer": view.issuer_name, "issued_at": view.issued_at,
            "revoked": view.revoked, "revoked_at": view.credential.revoked_at, "credential_url": view.json_url,
            "verify_url": view.verify_url, "api_url": f"/api/v1/credentials/{view.public_id}"}


@router.get("/credentials", response_model=CredentialList, responses=READ_ERRORS, summary="List my credentials")
def list_credentials(request: Request, caller: ApiCaller, session: SessionDep, cursor: Cursor = None,
                     limit: Limit = 20) -> CredentialList:
    """The student's own credentials, newest first, revoked ones too (as My credentials lists them)."""
    require_role(caller, Role.student)
    number, size = cursors.decode(cursor, size=limit)
    page = service.student_credentials(session=session, settings=request.app.state.settings, student=caller.user,
                                       page=number, size=size)
    return CredentialList(credentials=[CredentialSummary(**_fields(view)) for view in page.items], total=page.total,
                          next=cursors.next_address(request, page))


@router.get("/credentials/{public_id}", response_model=CredentialDetail, responses=READ_ERRORS,
            summary="Read one credential")
def read_credential(request: Request, public_id: PublicId, caller: ApiCaller, session: SessionDep) -> CredentialDetail:
    """A credential with its signed document, for whoever its page lets in (the student, their teachers, its issuer,
    the school's admins); else 404."""
    view = service.visible_credential(session=session, settings=request.app.state.settings, viewer=caller.user,
                                      public_id=public_id)
    return CredentialDetail(**_fields(view), document=view.document)
