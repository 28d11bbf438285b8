"""Evidence pages: upload files, write notes, save links; view, edit and delete; serve files safely."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlmodel import select

from app import storage as file_storage
from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep
from app.file_responses import artefact_file_response
from app.flash import redirect_with
from app.i18n import _, ngettext
from app.models import Artefact, ArtefactKind, MediaKind
from app.pagination import paginate
from app.services.badges import imported as imported_badges
from app.services.moderation.approvals import approval_notice
from app.services.portfolio import artefacts as service
from app.services.portfolio import storage
from app.services.portfolio import held_files, uploads
from app.services.portfolio import stored_files
from app.services.competencies.competency_picker import allowed_ids, available_competencies
from app.services.portfolio.filetypes import allowed_description
from app.faults import BUSY_STATUS, FULL_STATUS
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId
from app.services.portfolio import recording_owners

router = APIRouter(dependencies=[Depends(require_user)])

KINDS = {"file": ArtefactKind.file, "note": ArtefactKind.note, "link": ArtefactKind.link}


def reflect_step_url(artefact_ids) -> str:
    """The step after saving evidence: reflect on it (linked, its competencies ticked), then how am I doing."""
    return "/reflections/new?" + urlencode([("then", "assess"), ("saved", 1)] + [("artefact", i) for i in artefact_ids])


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _form_context(session, user, *, kind: ArtefactKind, data=None, file_errors=(), errors=None, artefact=None,
                  version: int | None = None, conflict=None) -> dict:
    groups = available_competencies(session=session, student=user)
    data = data or service.ArtefactInput()
    return {
        "kind": kind, "data": data, "errors": errors if errors is not None else data.errors,
        "file_errors": list(file_errors), "groups": groups, "artefact": artefact,
        "recording": recording_owners.recording_of(session=session, artefact=artefact) if artefact else None,
        "allowed": allowed_description(), "max_upload_mb": 0, "created": [],
        "version": "" if version is None else version, "conflict": conflict, "held_token": "", "held_names": [],
    }


@router.get("/artefacts")
def list_artefacts(request: Request, user: StudentUser, session: SessionDep, kind: str = "", page: int = 1) -> Response:
    """The student's evidence, newest first, a page at a time (recordings too, marked with what they belong to)."""
    statement = select(Artefact).where(Artefact.owner_id == user.id)
    if kind in KINDS:
        statement = statement.where(Artefact.kind == KINDS[kind])
    result = paginate(session, statement.order_by(Artefact.occurred_on.desc(), Artefact.id.desc()), number=page, size=24)
    recordings = recording_owners.recordings_of(session=session, artefact_ids=[a.id for a in result.items])
    badges = imported_badges.badges_of(session=session, artefact_ids=[a.id for a in result.items])
    return render(request, "artefacts/list.html",
                  {"page": result, "kind": kind, "recordings": recordings, "badges": badges}, block="results")


@router.get("/artefacts/new")
def new_artefact(request: Request, user: StudentUser, session: SessionDep, kind: str = "file") -> Response:
    """The add-evidence page: upload files (or take a photo), write a note, or save a link."""
    context = _form_context(session, user, kind=KINDS.get(kind, ArtefactKind.file))
    context["max_upload_mb"] = request.app.state.settings.max_upload_mb
    return render(request, "artefacts/new.html", context)


@router.post("/artefacts/upload")
async def upload_files(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Receive one or more files as a stream; each becomes an artefact with the shared details."""
    settings = request.app.state.settings
    store = file_storage.uploads(settings)
    try:
        form = await uploads.receive_multipart(
            request, store=store, owner_id=user.id, max_file_bytes=settings.max_upload_bytes,
            quota_remaining=max(0, settings.student_quota_bytes - user.storage_used_bytes),
            file_fields=frozenset({"files", "caption_audio"}),
        )
    except uploads.MalformedUpload:
        raise HTTPException(status_code=400) from None
    except uploads.UploadTooLarge:
        message = _("That upload is larger than Folio accepts (%(limit)s MB per file).", limit=settings.max_upload_mb)
        if _wants_json(request):
            return JSONResponse({"created": [], "errors": [{"filename": "", "message": message}]}, status_code=413)
        return await run_in_threadpool(_render_new, request, session, user, None, [uploads.FileError("files", "", message)], 413)

    held: list[str] = []  # a token naming the files kept for the retry, once a busy database refused the save

    def save() -> tuple[list[Artefact], service.ArtefactInput, int]:
        # Files a refused save kept for this retry come back with it, without being chosen again.
        form.files.extend(held_files.claim(session=session, store=store, secret_key=request.app.state.secret_key,
                                           owner=user, token=form.first("held_files")))
        files, caption = _split_caption(store, form)
        groups = available_competencies(session=session, student=user)
        data = service.parse_input(form.first, form.all, kind=ArtefactKind.file, allowed_competencies=allowed_ids(groups))
        if not files and not form.errors:
            data.errors["files"] = _("Choose at least one file to add.")
        if caption and caption.media_kind is not MediaKind.audio:
            data.errors["caption_audio"] = _("That file isn't a sound recording. Choose an audio file, or record one.")
        if data.errors or not files or form.has_unexpected_file:
            return [], data, FULL_STATUS if form.disk_full else 422
        try:
            with keeping_typed_text(session):
                created = service.create_file_artefacts(session=session, owner=user, files=files, data=data,
                                                        quota_bytes=settings.student_quota_bytes)
                if caption:
                    service.add_caption(session=session, owner=user, artefact=created[0], recording=caption,
                                        quota_bytes=settings.student_quota_bytes)
                session.commit()
        except storage.QuotaExceeded as full:  # another upload took the space while this one was arriving
            session.rollback()
            form.errors.append(uploads.FileError(field="files", filename=full.name, message=full.message))
            return [], data, 422
        except SaveRefused as refused:  # busy database or full disk: the typed details come back
            if refused.status == BUSY_STATUS:  # checked and stored already: held for the retry
                held.append(held_files.hold(secret_key=request.app.state.secret_key, owner=user, files=form.files))
                data.errors["files"] = " ".join([refused.message, ngettext(
                    "Your file is kept: save again to add it.", "Your %(num)s files are kept: save again to add them.",
                    len(files))])
            else:
                data.errors["files"] = " ".join([refused.message, _("The files were not kept: choose them again.")])
            return [], data, refused.status
        except Exception:
            session.rollback()
            stored_files.discard(store=store, files=form.files)
            raise
        return created, data, FULL_STATUS if form.disk_full else 200

    created, data, status = await run_in_threadpool(save)
    if not created and not held:
        await run_in_threadpool(stored_files.discard, store=store, files=form.files)
    if _wants_json(request):
        body = {
            "created": [{"id": a.id, "title": a.title, "url": f"/artefacts/{a.id}"} for a in created],
            "next": reflect_step_url([a.id for a in created]) if created else "",
            "errors": [{"filename": e.filename, "message": e.message} for e in form.errors]
            + [{"filename": "", "message": m} for m in data.errors.values()],
        }
        if held:
            body["held_files"] = held[0]
        return JSONResponse(body, status_code=201 if created and status == 200 else status)
    if created and not form.errors:
        # The next step's page says what was saved (as it does after upload.js sent the files one by one).
        return RedirectResponse(reflect_step_url([a.id for a in created]), status_code=303)
    kept = (held[0], [f.original_name for f in form.files]) if held else None
    return await run_in_threadpool(_render_new, request, session, user, data, form.errors, status, created, kept)


def _split_caption(store, form: uploads.ReceivedForm) -> tuple[list, object | None]:
    # One spoken caption, the newest (a retry may bring a held one too): the others are removed at once.
    captions = [f for f in form.files if f.field == "caption_audio"]
    if len(captions) > 1:
        form.files = [f for f in form.files if f not in captions[1:]]
        stored_files.discard(store=store, files=captions[1:])
    return [f for f in form.files if f.field != "caption_audio"], (captions[0] if captions else None)


def _render_new(request, session, user, data, file_errors, status_code, created=(), held=None) -> Response:
    context = _form_context(session, user, kind=ArtefactKind.file, data=data, file_errors=file_errors)
    context["held_token"], context["held_names"] = held or ("", [])
    context["max_upload_mb"] = request.app.state.settings.max_upload_mb
    context["created"] = list(created)
    return render(request, "artefacts/new.html", context, status_code=status_code)


def _create_text(request: Request, user, session, kind: ArtefactKind, form_values: dict[str, object]) -> Response:
    groups = available_competencies(session=session, student=user)

    def first(name: str) -> str:
        value = form_values.get(name, "")
        return value if isinstance(value, str) else ""

    def every(name: str) -> list[str]:
        value = form_values.get(name, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    data = service.parse_input(first, every, kind=kind, allowed_competencies=allowed_ids(groups))
    status = 422
    if not data.errors:
        try:
            with keeping_typed_text(session):
                artefact = service.create_text_artefact(session=session, owner=user, kind=kind, data=data)
                session.commit()
        except SaveRefused as refused:
            data.errors["form"], status = refused.message, refused.status
    if data.errors:
        context = _form_context(session, user, kind=kind, data=data)
        context["max_upload_mb"] = request.app.state.settings.max_upload_mb
        return render(request, "artefacts/new.html", context, status_code=status)
    return RedirectResponse(reflect_step_url([artefact.id]), status_code=303)


TextField = Annotated[str, Form(max_length=100_000)]


@router.post("/artefacts/note")
def create_note(
    request: Request, user: StudentUser, session: SessionDep, title: TextField = "", body: TextField = "",
    description: TextField = "", occurred_on: TextField = "", audience: TextField = "", tags: TextField = "",
    competency_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Save a written note (Markdown)."""
    values = dict(title=title, body=body, description=description, occurred_on=occurred_on, audience=audience,
                  tags=tags, competency_ids=competency_ids)
    return _create_text(request, user, session, ArtefactKind.note, values)


@router.post("/artefacts/link")
def create_link(
    request: Request, user: StudentUser, session: SessionDep, title: TextField = "", url: TextField = "",
    description: TextField = "", occurred_on: TextField = "", audience: TextField = "", tags: TextField = "",
    competency_ids: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save a link to work that lives elsewhere."""
    values = dict(title=title, url=url, description=description, occurred_on=occurred_on, audience=audience,
                  tags=tags, competency_ids=competency_ids)
    return _create_text(request, user, session, ArtefactKind.link, values)


@router.get("/artefacts/{artefact_id}")
def show_artefact(request: Request, artefact_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """One artefact, for its owner and whoever its audience lets in."""
    artefact = service.artefact_visible_to(session=session, viewer=user, artefact_id=artefact_id)
    is_owner = artefact.owner_id == user.id
    context = {"artefact": artefact, "details": service.details_of(session=session, artefact=artefact),
               "is_owner": is_owner,
               "recording": recording_owners.recording_of(session=session, artefact=artefact) if is_owner else None,
               "caption": service.caption_of(session=session, artefact=artefact),
               "badge": imported_badges.badge_of(session=session, artefact=artefact),
               "approval_notice": approval_notice(session=session, viewer=user, owner_id=artefact.owner_id,
                                                  item_id=artefact.id)}
    return render(request, "artefacts/show.html", context)


@router.get("/artefacts/{artefact_id}/edit")
def edit_artefact(request: Request, artefact_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """The edit form, filled in."""
    artefact = service.artefact_for_owner(session=session, owner=user, artefact_id=artefact_id)
    details = service.details_of(session=session, artefact=artefact)
    data = service.ArtefactInput(
        title=artefact.title, description=artefact.description, occurred_on=artefact.occurred_on,
        audience=artefact.audience, tags=details.tags, competency_ids={c.id for c in details.competencies},
        body=artefact.body, url=artefact.url or "",
    )
    context = _form_context(session, user, kind=artefact.kind, data=data, artefact=artefact, version=artefact.version)
    return render(request, "artefacts/edit.html", context)


@router.post("/artefacts/{artefact_id}/edit")
def update_artefact(
    request: Request, artefact_id: PathId, user: StudentUser, session: SessionDep, title: TextField = "",
    body: TextField = "", url: TextField = "", description: TextField = "", occurred_on: TextField = "",
    audience: TextField = "", tags: TextField = "", version: TextField = "",
    competency_ids: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    """Save the edits, or show what needs fixing (or that someone saved first: then nothing is overwritten)."""
    artefact = service.artefact_for_owner(session=session, owner=user, artefact_id=artefact_id)
    values = {"title": title, "body": body, "url": url, "description": description, "occurred_on": occurred_on,
              "audience": audience, "tags": tags}
    groups = available_competencies(session=session, student=user)
    data = service.parse_input(lambda n: values.get(n, ""), lambda n: competency_ids if n == "competency_ids" else [],
                               kind=artefact.kind, allowed_competencies=allowed_ids(groups))
    if artefact.kind is ArtefactKind.file and not data.title:
        data.errors["title"] = _("Give it a title, so you can find it later.")
    seen_version = parse_version(version)
    if data.errors:
        context = _form_context(session, user, kind=artefact.kind, data=data, artefact=artefact, version=seen_version)
        return render(request, "artefacts/edit.html", context, status_code=422)
    try:
        with keeping_typed_text(session):
            claim_version(session=session, row=artefact, version=seen_version)
            service.update_artefact(session=session, artefact=artefact, data=data)
            session.commit()
    except SaveRefused as refused:
        data.errors["form"] = refused.message
        context = _form_context(session, user, kind=artefact.kind, data=data, artefact=artefact, conflict=refused.current,
                                version=refused.current.version if refused.current else seen_version)
        return render(request, "artefacts/edit.html", context, status_code=refused.status)
    return redirect_with(request, f"/artefacts/{artefact.id}", _("Your changes are saved."))


@router.get("/artefacts/{artefact_id}/delete")
def confirm_delete(request: Request, artefact_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Ask before deleting."""
    artefact = service.artefact_for_owner(session=session, owner=user, artefact_id=artefact_id)
    return render(request, "artefacts/delete.html", {"artefact": artefact})


@router.post("/artefacts/{artefact_id}/delete")
def delete_artefact(request: Request, artefact_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Delete the artefact and its files."""
    artefact = service.artefact_for_owner(session=session, owner=user, artefact_id=artefact_id)
    title = artefact.title
    names = service.delete_artefact(session=session, artefact=artefact)
    session.commit()
    stored_files.discard_names(store=file_storage.uploads(request.app.state.settings), names=names)
    return redirect_with(request, "/artefacts", _("“%(title)s” was deleted.", title=title))


@router.get("/files/{artefact_id}/{variant}")
def serve_file(request: Request, artefact_id: PathId, variant: str, user: CurrentUser, session: SessionDep) -> Response:
    """A stored file, only for those who may see its artefact; range requests let audio and video seek."""
    artefact = service.file_visible_to(session=session, viewer=user, artefact_id=artefact_id)
    return artefact_file_response(request=request, artefact=artefact, variant=variant,
                                  store=file_storage.uploads(request.app.state.settings),
                                  cache_control="private, max-age=3600")
