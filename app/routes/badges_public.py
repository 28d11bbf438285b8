"""Published, with no sign-in: each school's issuer document, its status lists, each credential and its verification."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.access.errors import not_found
from app.db import SessionDep
from app.models import School
from app.routes.ids import PathId
from app.services.badges import credentials, keys, verification
from app.services.badges.issuer import issuer_document
from app.services.badges.status import status_list_credential
from app.services.badges.urls import STATUS_LIST_BITS
from app.templating import render

router = APIRouter()

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LD_JSON = "application/ld+json"
VC_LD_JSON = "application/vc+ld+json"
# Anyone may fetch these from anywhere (a verifier in a browser, a wallet): they are public by design.
_CORS = {"Access-Control-Allow-Origin": "*"}


def _json(document: dict | str, media_type: str) -> Response:
    body = document if isinstance(document, str) else json.dumps(document, ensure_ascii=False, indent=2)
    return Response(body, media_type=media_type, headers=_CORS)


def _school_with_keys(session, school_id: int) -> School:
    school = session.get(School, school_id)
    # A school that never issued a credential publishes nothing (so school ids are not listed for strangers).
    if school is None or not keys.published_keys(session=session, school_id=school_id):
        raise not_found()
    return school


@router.get("/badges/issuers/{school_id}")
def show_issuer(request: Request, school_id: PathId, session: SessionDep) -> Response:
    """The school's issuer Profile with every key it signed with."""
    school = _school_with_keys(session, school_id)
    return _json(issuer_document(session=session, settings=request.app.state.settings, school=school), LD_JSON)


@router.get("/badges/issuers/{school_id}/status/{list_number}")
def show_status_list(request: Request, school_id: PathId, list_number: int, session: SessionDep) -> Response:
    """One of the school's revocation lists, as a signed BitstringStatusListCredential."""
    _school_with_keys(session, school_id)
    if not 0 <= list_number <= 2**31 // STATUS_LIST_BITS:
        raise not_found()
    document = status_list_credential(session=session, settings=request.app.state.settings, school_id=school_id,
                                      list_number=list_number)
    session.commit()  # a key sealed under an earlier secret was replaced while signing
    response = _json(document, VC_LD_JSON)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _issued(session, public_id: str):
    found = credentials.by_public_id(session=session, public_id=public_id) if _UUID.fullmatch(public_id) else None
    if found is None:
        raise not_found()
    return found


@router.get("/badges/credentials/{public_id}")
def show_credential_json(public_id: str, session: SessionDep) -> Response:
    """The credential's signed JSON, exactly as issued."""
    credential, _school_name = _issued(session, public_id)
    return _json(credential.document, VC_LD_JSON)


@router.get("/badges/credentials/{public_id}/verify")
def verify_issued(request: Request, public_id: str, session: SessionDep) -> Response:
    """The public verification page of one credential: every check, said plainly."""
    credential, school_name = _issued(session, public_id)
    settings = request.app.state.settings
    view = credentials.credential_view(settings=settings, credential=credential, issuer_name=school_name)
    result = verification.verify_credential(session=session, settings=settings, document=view.document)
    return render(request, "credentials/verify.html", {"view": view, "result": result, "pasted": None})


@router.get("/badges/verify")
def verify_form(request: Request) -> Response:
    """Paste or upload a credential to verify it."""
    return render(request, "credentials/verify_form.html", {"errors": {}, "text": ""})


@router.post("/badges/verify")
def verify_pasted(request: Request, session: SessionDep,
                  text: Annotated[str, Form(max_length=verification.MAX_PASTED_BYTES)] = "",
                  file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Verify a pasted or uploaded credential (nothing is kept)."""
    if file is not None and file.filename:
        raw = file.file.read(verification.MAX_PASTED_BYTES + 1)
        text = raw.decode("utf-8", errors="replace") if len(raw) <= verification.MAX_PASTED_BYTES else "x" * len(raw)
    pasted = verification.parse_pasted(text=text)
    if not pasted.ok:
        return render(request, "credentials/verify_form.html", {"errors": pasted.errors, "text": text[:20_000]},
                      status_code=422)
    result = verification.verify_credential(session=session, settings=request.app.state.settings,
                                            document=pasted.document)
    return render(request, "credentials/verify.html", {"view": None, "result": result, "pasted": pasted.document})
