"""POST /api/v1/items/files: a file streamed into the student's evidence through the Add evidence form's own path
(app.services.portfolio.uploads): written to disk in chunks as it arrives, its type sniffed, images re-encoded without
their metadata (GPS included), the size cap and the student's quota checked; whatever is refused or fails leaves no
file and no row."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field
from sqlmodel import Session

from app import storage as file_storage
from app.api.auth import WritingCaller, require_role
from app.api.items import item_detail
from app.api.problems import ApiProblem, created, problem_responses
from app.api.schemas import ItemDetail
from app.db import SessionDep
from app.faults import FULL_STATUS
from app.i18n import _
from app.models import Artefact, ArtefactKind, Item, Role, User
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import storage, uploads

router = APIRouter(tags=["items"])

FILE_FIELD = "file"
# Each refusal of the streaming receiver answered with the status that says it.
REFUSAL_STATUS = {"size": 413, "quota": 413, "type": 415, "disk": FULL_STATUS, "empty": 422, "field": 400, "count": 400}


class FileDetail(ItemDetail):
    """A file saved as evidence: the item, and the file as Folio kept it (images re-encoded without metadata)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 43, "type": "artefact", "kind": "file", "title": "Volcano photo", "audience": "class",
        "occurred_on": "2026-11-23", "updated_at": "2026-11-23T14:05:00Z", "owner_id": 7, "page_url": "/artefacts/43",
        "api_url": "/api/v1/items/43", "description": "", "body": "", "url": None, "tags": ["science"],
        "target_date": None, "original_name": "volcano.jpg", "content_type": "image/jpeg", "size_bytes": 482113,
        "width": 1600, "height": 1200}]})

    original_name: str = Field(examples=["volcano.jpg"])
    content_type: str = Field(examples=["image/jpeg"])
    size_bytes: int
    width: int | None = None
    height: int | None = None


MULTIPART_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FILE_FIELD],
    "properties": {
        FILE_FIELD: {"type": "string", "format": "binary",
                     "description": "One file: a photo, document, sound or video Folio keeps (its type is checked "
                                    "from its bytes; a photo loses its location and camera metadata)."},
        "title": {"type": "string", "maxLength": 200, "description": "Default: the file's name."},
        "description": {"type": "string", "maxLength": 5000},
        "occurred_on": {"type": "string", "format": "date", "description": "When it happened (default: today)."},
        "audience": {"type": "string", "enum": ["private", "class", "family"], "default": "private"},
        "tags": {"type": "string", "description": "Comma-separated, e.g. \"science, group work\"."},
        "competency_ids": {"type": "array", "items": {"type": "integer"},
                           "description": "Repeat the field for each competency."},
    }},
    "encoding": {FILE_FIELD: {"contentType": "application/octet-stream"}}}}}}

def _file_fields(artefact: Artefact) -> dict:
    return {"original_name": artefact.original_name or "", "content_type": artefact.content_type or "",
            "size_bytes": artefact.size_bytes or 0, "width": artefact.width, "height": artefact.height}


async def receive_one_file(request: Request, *, settings, store, user: User) -> uploads.ReceivedForm:
    """Stream the one file of a multipart body (part "file") through the Add evidence receiver, within the owner's
    quota; 400 for a body that isn't multipart, 413 past the size limit."""
    try:
        return await uploads.receive_multipart(
            request, store=store, owner_id=user.id, max_file_bytes=settings.max_upload_bytes,
            quota_remaining=max(0, settings.student_quota_bytes - user.storage_used_bytes),
            file_fields=frozenset({FILE_FIELD}), max_files=1)
    except uploads.MalformedUpload:
        raise ApiProblem(400, _("Send a multipart/form-data body with the file in a part named \"file\".")) from None
    except uploads.UploadTooLarge:
        raise ApiProblem(413, _("That upload is larger than Folio accepts (%(limit)s MB per file).",
                                limit=settings.max_upload_mb)) from None


def received_refusal(form: uploads.ReceivedForm, *, missing: str) -> ApiProblem | None:
    """The problem for a file the receiver refused (the first one), a full disk, or a form with no file (`missing`
    says what to send)."""
    if form.errors:
        error = form.errors[0]
        return ApiProblem(REFUSAL_STATUS.get(error.reason, 400), error.message, errors={FILE_FIELD: error.message})
    if form.disk_full:
        return ApiProblem(FULL_STATUS, _("The school's server is out of space. Tell your teacher."))
    if not form.files:
        return ApiProblem(422, missing, errors={FILE_FIELD: missing})
    return None


def _refusal(form: uploads.ReceivedForm) -> ApiProblem | None:
    return received_refusal(form, missing=_("Choose at least one file to add."))


def _save(session: Session, user: User, settings, store, form: uploads.ReceivedForm) -> ItemDetail:
    """Check the details like the form, then save the artefact counted against the quota; on any refusal or failure
    the stored file is removed and nothing is written."""
    try:
        if problem := _refusal(form):
            raise problem
        groups = available_competencies(session=session, student=user)
        data = artefact_service.parse_input(form.first, form.all, kind=ArtefactKind.file,
                                            allowed_competencies=allowed_ids(groups))
        if data.errors:
            raise ApiProblem(422, _("Some of what was sent can't be used."), errors=data.errors)
        try:
            artefact = artefact_service.create_file_artefacts(session=session, owner=user, files=form.files, data=data,
                                                              quota_bytes=settings.student_quota_bytes)[0]
            session.commit()
        except storage.QuotaExceeded as full:  # another upload took the space while this one was arriving
            raise ApiProblem(413, full.message, errors={FILE_FIELD: full.message}) from None
    except BaseException:
        session.rollback()
        uploads.discard(store=store, files=form.files)
        raise
    detail = item_detail(session, user, session.get(Item, artefact.id, populate_existing=True))
    return FileDetail(**detail.model_dump(), **_file_fields(artefact))


@router.post("/items/files", response_model=FileDetail, status_code=201, summary="Upload a file",
             responses={**problem_responses(400, 401, 403, 413, 415, 422, 429, 507),
                        **created("The file's item (`GET /items/{item_id}`).")},
             openapi_extra=MULTIPART_BODY)
async def upload_file(request: Request, response: Response, caller: WritingCaller, session: SessionDep) -> FileDetail:
    """Add one file to the student's evidence, streamed and checked exactly like the Add evidence form's uploads:
    413 over the size limit or the student's storage quota, 415 for a type Folio doesn't keep."""
    require_role(caller, Role.student)
    settings = request.app.state.settings
    store = file_storage.uploads(settings)
    user = caller.user
    form = await receive_one_file(request, settings=settings, store=store, user=user)
    saved = await run_in_threadpool(_save, session, user, settings, store, form)
    response.headers["Location"] = saved.api_url
    return saved
