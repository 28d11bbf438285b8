"""/api/v1/reflections/{id}/recording: speak one's own reflection, or take its recording out. The recording streams in
through the reflection form's own receiver (app.services.portfolio.uploads: written in chunks as it arrives, its type
sniffed from its bytes, the size cap and the student's quota checked), is kept only if it is sound, and is saved with
the version the reflection was read at: a stale one is refused (409). Whatever is refused or fails leaves no file and
no row; a recording replaced or taken out goes with its file, as on the reflection form."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from app import storage as file_storage
from app.api.auth import WritingCaller, require_role
from app.api.problems import ApiProblem, problem_responses
from app.api.reflections import detail, stale_version
from app.api.schemas import Id
from app.api.student_schemas import ReflectionDetail
from app.api.uploads import FILE_FIELD, receive_one_file, received_refusal
from app.db import SessionDep, read_in_thread
from app.i18n import _
from app.models import Audience, MediaKind, Reflection, ReflectionStatus, Role, User
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import reflections as service
from app.services.portfolio import storage, stored_files, uploads

router = APIRouter(tags=["reflections"])

VERSION_FIELD = "version"
RECORDING_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [FILE_FIELD, VERSION_FIELD],
    "properties": {
        FILE_FIELD: {"type": "string", "format": "binary",
                     "description": "The recording, as a browser records it (WebM or Ogg with Opus, MP4/M4A with AAC) "
                                    "or any sound file Folio keeps (its type is checked from its bytes)."},
        VERSION_FIELD: {"type": "integer", "minimum": 1,
                        "description": "The reflection's `version` as read: a stale one is refused (409)."},
    }},
    "encoding": {FILE_FIELD: {"contentType": "application/octet-stream"}}}}}}


def _refusal(form: uploads.ReceivedForm) -> ApiProblem | None:
    """The problem with a received recording: refused by the receiver, missing, not sound, or sent without a version."""
    if problem := received_refusal(form, missing=_("Choose an audio file, or record one.")):
        return problem
    if form.files[0].media_kind is not MediaKind.audio:
        message = _("That file isn't a sound recording. Choose an audio file, or record one.")
        return ApiProblem(415, message, errors={FILE_FIELD: message})
    if not form.first(VERSION_FIELD).strip().isdigit():
        message = _("Send the reflection's version as you read it.")
        return ApiProblem(422, message, errors={VERSION_FIELD: message})
    return None


def _attach(session: Session, user: User, settings, store, form: uploads.ReceivedForm,
            reflection: Reflection) -> ReflectionDetail:
    """Save the recording (private as evidence of its own: who hears it is decided by its reflection, every time it is
    asked for) into the reflection at the version sent; on any refusal or failure the stored file is removed and
    nothing is written."""
    try:
        if problem := _refusal(form):
            raise problem
        version = int(form.first(VERSION_FIELD).strip())
        if version != reflection.version:  # before spending quota; set_recording checks again, atomically
            raise stale_version(version, reflection)
        about = artefact_service.ArtefactInput(title=_("Recording: %(title)s", title=reflection.title)[:200],
                                               occurred_on=date.today(), audience=Audience.private)
        try:
            recording = artefact_service.create_file_artefacts(session=session, owner=user, files=form.files[:1],
                                                               data=about, quota_bytes=settings.student_quota_bytes)[0]
            replaced = service.set_recording(session=session, reflection=reflection, version=version,
                                             audio_artefact_id=recording.id)
            session.commit()
        except storage.QuotaExceeded as full:  # another upload took the space while this one was arriving
            raise ApiProblem(413, full.message, errors={FILE_FIELD: full.message}) from None
        except service.EditConflict as conflict:
            raise stale_version(version, conflict.current) from None
    except BaseException:
        session.rollback()
        uploads.discard(store=store, files=form.files)
        raise
    stored_files.discard_names(store=store, names=replaced)
    return detail(session, user, reflection)


@router.put("/reflections/{reflection_id}/recording", response_model=ReflectionDetail, summary="Speak my reflection",
            responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 507),
            openapi_extra=RECORDING_BODY)
async def put_recording(reflection_id: Id, request: Request, caller: WritingCaller,
                        session: SessionDep) -> ReflectionDetail:
    """Give one's own reflection a spoken recording, or replace the one it has (which goes). Streamed and checked like
    the reflection form's recorder: 413 over the size limit or the student's storage quota, 415 for a file that isn't
    sound, 409 when the reflection changed since `version` was read. Its readers hear it at its `recording.api_url`."""
    require_role(caller, Role.student)
    user = caller.user
    reflection = await read_in_thread(session, service.reflection_for_owner, session=session, owner=user,
                                      reflection_id=reflection_id)
    settings = request.app.state.settings
    store = file_storage.uploads(settings)
    form = await receive_one_file(request, settings=settings, store=store, user=user)
    return await run_in_threadpool(_attach, session, user, settings, store, form, reflection)


@router.delete("/reflections/{reflection_id}/recording", response_model=ReflectionDetail,
               summary="Take my reflection's recording out",
               responses=problem_responses(400, 401, 403, 404, 409, 422, 429))
def delete_recording(reflection_id: Id, version: Annotated[int, Query(ge=1, description=(
                         "The reflection's `version` as read: a stale one is refused (409)."))],
                     request: Request, caller: WritingCaller, session: SessionDep) -> ReflectionDetail:
    """Take the recording out of one's own reflection; it goes with its file. A published reflection with no words
    keeps its recording (422: write it first, or make it a draft); one without a recording is answered as it is."""
    require_role(caller, Role.student)
    reflection = service.reflection_for_owner(session=session, owner=caller.user, reflection_id=reflection_id)
    if reflection.version != version:
        raise stale_version(version, reflection)
    if not reflection.audio_artefact_id:
        return detail(session, caller.user, reflection)
    if not reflection.body.strip() and reflection.status is ReflectionStatus.published:
        message = _("Write (or record) your reflection before you publish it; you can save a draft without it.")
        raise ApiProblem(422, message, errors={"body": message})
    try:
        names = service.set_recording(session=session, reflection=reflection, version=version, audio_artefact_id=None)
    except service.EditConflict as conflict:
        raise stale_version(version, conflict.current) from None
    session.commit()
    stored_files.discard_names(store=file_storage.uploads(request.app.state.settings), names=names)
    return detail(session, caller.user, reflection)
