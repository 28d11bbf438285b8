"""Reflection pages: write (or speak) a reflection, link it, edit it safely, read it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from app import storage as file_storage
from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep, read_in_thread
from app.flash import flash, redirect_with
from app.i18n import _
from app.models import Audience, Goal, MediaKind, Reflection, ReflectionStatus
from app.pagination import paginate
from app.services.moderation.approvals import approval_notice
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import reflections as service
from app.services.portfolio import storage
from app.services.portfolio import core_loop, held_files, uploads
from app.services.portfolio import stored_files
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.faults import BUSY_STATUS, FULL_STATUS, disk_full_message
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


def _form_context(session, user, *, data: service.ReflectionInput, reflection=None, guided=False, conflict=None) -> dict:
    return {
        "data": data, "errors": data.errors, "reflection": reflection, "guided": guided, "conflict": conflict,
        "prompts": service.prompts_for(session=session, student=user),
        "groups": available_competencies(session=session, student=user),
        "artefacts": artefact_service.recent_artefacts(session=session, owner=user),
        "goals": list(session.exec(select(Goal).where(Goal.owner_id == user.id).order_by(Goal.title)).all()),
        "held_token": "", "flow": [], "then": "", "just_saved": False,
    }


@router.get("/reflections")
def list_reflections(request: Request, user: StudentUser, session: SessionDep, page: int = 1) -> Response:
    """The student's reflections, newest first."""
    statement = select(Reflection).where(Reflection.owner_id == user.id).order_by(Reflection.created_at.desc(), Reflection.id.desc())
    result = paginate(session, statement, number=page, size=20)
    # With nothing written yet, the page offers to reflect on the newest evidence.
    latest = None if result.items else next(iter(artefact_service.recent_artefacts(session=session, owner=user, limit=1)), None)
    return render(request, "reflections/list.html", {"page": result, "latest": latest})


@router.get("/reflections/new")
def new_reflection(
    request: Request, user: StudentUser, session: SessionDep, guided: int = 0, goal: int = 0, then: str = "", saved: int = 0,
    artefact: Annotated[list[int], Query()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """A blank reflection, free or guided by prompts, optionally about evidence (linked, its competencies ticked: the
    step after saving it, when `then=assess`) or a goal. Someone else's evidence is a 404."""
    artefacts = core_loop.own_artefacts(session=session, owner=user, artefact_ids=[a for a in artefact if a > 0])
    data = core_loop.reflect_on(session=session, owner=user, artefacts=artefacts)
    _owned_artefacts, owned_goals = service.owned_ids(session=session, owner=user)
    data.goal_ids = {goal} & owned_goals
    context = _form_context(session, user, data=data, guided=bool(guided))
    if then == "assess":
        context["flow"], context["then"], context["just_saved"] = artefacts, then, bool(saved)
    return render(request, "reflections/form.html", context)


async def _receive(request: Request, user) -> uploads.ReceivedForm | Response:
    settings = request.app.state.settings
    try:
        return await uploads.receive_multipart(
            request, store=file_storage.uploads(settings), owner_id=user.id, max_file_bytes=settings.max_upload_bytes,
            quota_remaining=max(0, settings.student_quota_bytes - user.storage_used_bytes), max_files=1,
            file_fields=frozenset({"audio"}),
        )
    except uploads.MalformedUpload:
        raise HTTPException(status_code=400) from None
    except uploads.UploadTooLarge:
        raise HTTPException(status_code=413) from None


def _save_reflection(request, session, user, form: uploads.ReceivedForm, reflection: Reflection | None) -> Response:
    settings = request.app.state.settings
    store = file_storage.uploads(settings)
    if not any(f.field == "audio" for f in form.files):  # a recording a refused save kept for this retry
        form.files.extend(held_files.claim(session=session, store=store, secret_key=request.app.state.secret_key,
                                           owner=user, token=form.first("held_files")))
    audio = [f for f in form.files if f.field == "audio"]
    groups = available_competencies(session=session, student=user)
    owned_artefacts, owned_goals = service.owned_ids(session=session, owner=user)
    prompts = service.prompts_for(session=session, student=user)
    data = service.parse_input(form.first, form.all, owned_artefacts=owned_artefacts, owned_goals=owned_goals,
                               allowed_competencies=allowed_ids(groups), prompts=prompts,
                               has_audio=bool(audio) or bool(reflection and reflection.audio_artefact_id))
    for problem in form.errors:
        data.errors["audio"] = problem.message
    if audio and audio[0].media_kind is not MediaKind.audio:
        data.errors["audio"] = _("That file isn't a sound recording. Choose an audio file, or record one.")
    if form.disk_full:
        data.errors["form"] = disk_full_message()
        return _refuse(request, session, user, form, data, reflection, status_code=FULL_STATUS)
    if data.errors:
        return _refuse(request, session, user, form, data, reflection)
    try:
        with keeping_typed_text(session):
            reflection, replaced = _write(session, user, settings, data, audio, reflection)
        stored_files.discard_names(store=store, names=replaced)
    except storage.QuotaExceeded as full:  # another upload took the space while this one was arriving
        session.rollback()
        data.errors["audio"] = full.message
        return _refuse(request, session, user, form, data, reflection)
    except SaveRefused as refused:  # busy database or full disk: nothing saved, the text comes back
        data.errors["form"] = refused.message
        held = ""
        if audio and refused.status == BUSY_STATUS:  # checked and stored already: held for the retry
            held = held_files.hold(secret_key=request.app.state.secret_key, owner=user, files=audio)
            data.errors["audio"] = _("Your recording is kept: save again to add it.")
        elif audio:
            data.errors["audio"] = _("Your recording was not kept: record it (or choose the file) again.")
        return _refuse(request, session, user, form, data, reflection, status_code=refused.status, held=held)
    except service.EditConflict as conflict:
        stored_files.discard(store=store, files=form.files)
        # Keep what they typed; offer the saved version beside it; the next save is a deliberate overwrite.
        data.version = conflict.current.version
        data.errors["form"] = _(
            "This reflection was changed somewhere else (another tab or device) after you opened it. "
            "Nothing was overwritten: your text is still in the form, and the saved version is shown below. "
            "Copy what you need, then save again.")
        context = _form_context(session, user, data=data, reflection=conflict.current, conflict=conflict.current)
        return render(request, "reflections/form.html", context, status_code=409)
    except Exception:
        session.rollback()
        stored_files.discard(store=store, files=form.files)
        raise
    if form.first("then") == "assess" and reflection.status is ReflectionStatus.published:
        return redirect_with(request, f"/self-assessment?reflection={reflection.id}",
                             _("Reflection saved. Now, how are you doing?"))
    response = RedirectResponse(f"/reflections/{reflection.id}", status_code=303)
    message = _("Draft saved. Only you can see it.") if reflection.status is ReflectionStatus.draft else _("Reflection saved.")
    flash(request, response, message, "success")
    return response


def _write(session, user, settings, data: service.ReflectionInput, audio, reflection: Reflection | None):
    """Write the reflection (and its recording) and commit; returns it and the replaced recording's file names."""
    audio_id = None
    if audio:
        # Private as evidence of its own: who may hear it is decided by its reflection, every time it is asked
        # for (artefacts.artefact_visible_to), so changing the reflection's audience later carries it along.
        recording = artefact_service.ArtefactInput(title=_("Recording: %(title)s", title=data.title)[:200],
                                                   occurred_on=date.today(), audience=Audience.private)
        audio_id = artefact_service.create_file_artefacts(session=session, owner=user, files=audio, data=recording,
                                                          quota_bytes=settings.student_quota_bytes)[0].id
    replaced: list[str] = []
    if reflection is None:
        reflection = service.create_reflection(session=session, owner=user, data=data, audio_artefact_id=audio_id)
    else:
        previous = reflection.audio_artefact_id if audio_id else None
        reflection = service.update_reflection(session=session, reflection=reflection, data=data, audio_artefact_id=audio_id)
        replaced = service.drop_replaced_recording(session=session, reflection=reflection, artefact_id=previous)
    session.commit()
    return reflection, replaced


def _refuse(request, session, user, form: uploads.ReceivedForm, data: service.ReflectionInput, reflection, *,
            status_code: int = 422, held: str = "") -> Response:
    if not held:
        stored_files.discard(store=file_storage.uploads(request.app.state.settings), files=form.files)
    context = _form_context(session, user, data=data, reflection=reflection, guided=form.first("guided") == "1")
    context["held_token"] = held
    if reflection is None and form.first("then") == "assess":  # the refused step of the flow stays the step
        context["flow"] = core_loop.own_artefacts(session=session, owner=user, artefact_ids=sorted(data.artefact_ids))
        context["then"] = "assess"
    return render(request, "reflections/form.html", context, status_code=status_code)


@router.post("/reflections")
async def create_reflection(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Save a new reflection (with an optional recording)."""
    form = await _receive(request, user)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(_save_reflection, request, session, user, form, None)


@router.get("/reflections/{reflection_id}")
def show_reflection(request: Request, reflection_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """One reflection with what it links to."""
    reflection = service.reflection_visible_to(session=session, viewer=user, reflection_id=reflection_id)
    audio = service.recording_of(session=session, reflection=reflection)
    context = {"reflection": reflection, "links": service.links_of(session=session, reflection=reflection, viewer=user),
               "audio": audio, "is_owner": reflection.owner_id == user.id,
               "approval_notice": approval_notice(session=session, viewer=user, owner_id=reflection.owner_id,
                                                  item_id=reflection.id)}
    return render(request, "reflections/show.html", context)


@router.get("/reflections/{reflection_id}/edit")
def edit_reflection(request: Request, reflection_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """The edit form; it remembers which version it started from."""
    reflection = service.reflection_for_owner(session=session, owner=user, reflection_id=reflection_id)
    links = service.links_of(session=session, reflection=reflection, viewer=user)
    data = service.ReflectionInput(
        title=reflection.title, body=reflection.body, audience=reflection.audience, status=reflection.status,
        artefact_ids={a.id for a in links.artefacts}, goal_ids={g.id for g in links.goals},
        competency_ids={c.id for c in links.competencies}, tags=links.tags, version=reflection.version,
    )
    return render(request, "reflections/form.html", _form_context(session, user, data=data, reflection=reflection))


@router.post("/reflections/{reflection_id}/edit")
async def update_reflection(request: Request, reflection_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Save edits, unless the reflection changed meanwhile (then say so and keep the typed text)."""
    reflection = await read_in_thread(session, service.reflection_for_owner, session=session, owner=user,
                                      reflection_id=reflection_id)
    form = await _receive(request, user)
    if isinstance(form, Response):
        return form
    return await run_in_threadpool(_save_reflection, request, session, user, form, reflection)


@router.get("/reflections/{reflection_id}/delete")
def confirm_delete(request: Request, reflection_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Ask before deleting."""
    reflection = service.reflection_for_owner(session=session, owner=user, reflection_id=reflection_id)
    return render(request, "reflections/delete.html", {"reflection": reflection})


@router.post("/reflections/{reflection_id}/delete")
def delete_reflection(request: Request, reflection_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Delete the reflection (and its recording)."""
    reflection = service.reflection_for_owner(session=session, owner=user, reflection_id=reflection_id)
    title = reflection.title
    names = service.delete_reflection(session=session, reflection=reflection)
    session.commit()
    stored_files.discard_names(store=file_storage.uploads(request.app.state.settings), names=names)
    return redirect_with(request, "/reflections", _("“%(title)s” was deleted.", title=title))

