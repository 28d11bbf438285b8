"""Showcases: the student's list, the showcase form, the showcase page (the editor, for its owner), its items
and their order, and its secret links."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import Session

from app.auth import CurrentUser, StudentUser, require_user
from app.db import SessionDep
from app.file_responses import signed_in_file_url
from app.flash import redirect_with
from app.i18n import _
from app.models import Role, Showcase, User
from app.security import client_address
from app.services.conferences import conference_responses
from app.services.moderation.approvals import approval_notice
from app.services.showcases import share_links
from app.services.showcases import showcases
from app.services.showcases.showcase_items import entries_of, resolve_items, showcase_of_owner, showcase_visible_to
from app.services.edit_versions import claim_version, parse_version
from app.templating import render
from app.routes.forms import SaveRefused, keeping_typed_text
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

ShortText = Annotated[str, Form(max_length=1000)]
LongText = Annotated[str, Form(max_length=100_000)]
NO_STORE = {"Cache-Control": "no-store"}


# --- the list and the form -----------------------------------------------------------------------


@router.get("/showcases")
def list_showcases(request: Request, user: StudentUser, session: SessionDep, page: int = 1) -> Response:
    """The student's showcases, newest first."""
    result = showcases.showcase_list(session=session, owner=user, number=page)
    return render(request, "showcases/list.html", {"page": result})


def _form_page(request: Request, *, data: showcases.ShowcaseInput, showcase: Showcase | None,
               conflict: Showcase | None = None, status_code: int = 200) -> Response:
    context = {"data": data, "errors": data.errors, "showcase": showcase, "conflict": conflict}
    return render(request, "showcases/form.html", context, status_code=status_code)


@router.get("/showcases/new")
def new_showcase(request: Request, user: StudentUser) -> Response:
    """The form for a new showcase."""
    return _form_page(request, data=showcases.ShowcaseInput(), showcase=None)


@router.post("/showcases/new")
def create_showcase(
    request: Request, user: StudentUser, session: SessionDep,
    title: ShortText = "", introduction: LongText = "", audience: ShortText = "",
) -> Response:
    """Save a new showcase and go to it to add work; or show the form again with what needs fixing."""
    data = showcases.parse_showcase(title=title, introduction=introduction, audience=audience)
    if data.errors:
        return _form_page(request, data=data, showcase=None, status_code=422)
    try:
        with keeping_typed_text(session):
            showcase = showcases.create_showcase(session=session, owner=user, data=data)
            session.commit()
    except SaveRefused as refused:  # busy database or full disk
        data.errors["form"] = refused.message
        return _form_page(request, data=data, showcase=None, status_code=refused.status)
    return redirect_with(request, f"/showcases/{showcase.id}/items/new",
                         _("Your showcase is ready. Now choose the work to put in it."))


# --- the showcase page ---------------------------------------------------------------------------


def _response_count(session: Session, showcase: Showcase) -> int:
    return conference_responses.response_counts(session=session, showcase_ids=[showcase.id]).get(showcase.id, 0)


def _owner_page(request: Request, session: Session, user: User, showcase: Showcase, *, errors: dict | None = None,
                typed: dict | None = None, status_code: int = 200) -> Response:
    """The owner's showcase page: the items with their talking points, order and warnings, and the secret links."""
    items = resolve_items(session=session, settings=request.app.state.settings, showcase=showcase, viewer=user)
    settings = request.app.state.settings
    today = share_links.today_in(settings.timezone)
    context = {
        "showcase": showcase, "items": items, "is_owner": True, "show_points": True,
        "warnings": {item.entry.id: showcases.audience_warning(showcase=showcase, item=item) for item in items},
        "links": share_links.links_of(session=session, showcase=showcase),
        "blocking": share_links.classes_blocking_links(session=session, student_id=user.id),
        "today": today, "max_days": settings.share_link_days,
        "default_expiry": share_links.default_expiry(today=today, max_days=settings.share_link_days),
        "errors": errors or {}, "typed": typed or {}, "file_url": signed_in_file_url,
        "response_count": _response_count(session, showcase),
        "approval_notice": approval_notice(session=session, viewer=user, owner_id=showcase.owner_id,
                                           showcase_id=showcase.id),
    }
    return render(request, "showcases/show.html", context, status_code=status_code)


@router.get("/showcases/{showcase_id:int}")
def show_showcase(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """A showcase: its owner works on it here; teachers, and its audience, see what they may of it."""
    showcase = showcase_visible_to(session=session, viewer=user, showcase_id=showcase_id)
    if showcase.owner_id == user.id:
        return _owner_page(request, session, user, showcase)
    items = resolve_items(session=session, settings=request.app.state.settings, showcase=showcase, viewer=user)
    owner = session.get(User, showcase.owner_id)
    context = {"showcase": showcase, "items": items, "is_owner": False, "owner": owner,
               # Talking points are the student's own notes for presenting: their teachers may read them too.
               "show_points": user.role is Role.teacher, "file_url": signed_in_file_url,
               "response_count": _response_count(session, showcase)}
    return render(request, "showcases/show.html", context)


@router.get("/showcases/{showcase_id:int}/edit")
def edit_showcase(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """The showcase's title, introduction, audience and readiness; the form remembers its version."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    data = showcases.ShowcaseInput(title=showcase.title, introduction=showcase.introduction, audience=showcase.audience,
                                   ready=showcase.ready, version=showcase.version)
    return _form_page(request, data=data, showcase=showcase)


@router.post("/showcases/{showcase_id:int}/edit")
def update_showcase(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep,
    title: ShortText = "", introduction: LongText = "", audience: ShortText = "",
    ready: Annotated[bool, Form()] = False, version: ShortText = "",
) -> Response:
    """Save the edits, unless the showcase was saved elsewhere meanwhile (then keep the typed text and say so)."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    data = showcases.parse_showcase(title=title, introduction=introduction, audience=audience, ready=ready, version=version)
    if data.errors:
        return _form_page(request, data=data, showcase=showcase, status_code=422)
    try:
        with keeping_typed_text(session):
            showcases.update_showcase(session=session, showcase=showcase, data=data)
            session.commit()
    except SaveRefused as refused:  # busy database or full disk
        data.errors["form"] = refused.message
        return _form_page(request, data=data, showcase=showcase, status_code=refused.status)
    except showcases.EditConflict as conflict:
        # Keep what they typed; show the saved version beside it; the next save is a deliberate overwrite.
        data.version = conflict.current.version
        data.errors["form"] = _(
            "This showcase was changed somewhere else (another tab or device) after you opened it. "
            "Nothing was overwritten: your text is still in the form, and the saved version is shown below. "
            "Copy what you need, then save again.")
        return _form_page(request, data=data, showcase=conflict.current, conflict=conflict.current, status_code=409)
    return redirect_with(request, f"/showcases/{showcase.id}", _("Your changes are saved."))


@router.get("/showcases/{showcase_id:int}/delete")
def confirm_delete(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Ask before deleting."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    return render(request, "showcases/delete.html", {"showcase": showcase})


@router.post("/showcases/{showcase_id:int}/delete")
def delete_showcase(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Delete the showcase and its secret links; the work in it stays."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    title = showcase.title
    showcases.delete_showcase(session=session, showcase=showcase)
    session.commit()
    return redirect_with(request, "/showcases",
                         _("“%(title)s” was deleted. The work in it is still in your portfolio.", title=title))


# --- items ---------------------------------------------------------------------------------------


@router.get("/showcases/{showcase_id:int}/items/new")
def pick_items(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Everything the student may add: evidence, reflections, goals and the competencies they rated."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    context = {"showcase": showcase, "picker": showcases.picker(session=session, owner=user, showcase=showcase)}
    return render(request, "showcases/pick.html", context)


@router.post("/showcases/{showcase_id:int}/items")
def add_item(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep,
    item_type: ShortText = "", item_id: ShortText = "",
) -> Response:
    """Add one of the student's own items at the end of the showcase (someone else's: 404)."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    kind = showcases.parse_item_type(item_type)
    if not item_id.isdigit() or len(item_id) > 10:
        return redirect_with(request, f"/showcases/{showcase.id}/items/new", _("Choose something to add."), "error")
    entry = showcases.add_item(session=session, owner=user, showcase=showcase, item_type=kind, item_id=int(item_id))
    if entry is None:
        return redirect_with(request, f"/showcases/{showcase.id}/items/new#{kind.value}-{item_id}",
                             _("That's already in this showcase."), "info")
    session.commit()
    return redirect_with(request, f"/showcases/{showcase.id}/items/new#{kind.value}-{item_id}",
                         _("Added to “%(title)s”.", title=showcase.title))


@router.post("/showcases/{showcase_id:int}/items/{entry_id:int}/remove")
def remove_item(request: Request, showcase_id: PathId, entry_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Take an item out of the showcase (it stays in the portfolio)."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    entry = showcases.entry_of(session=session, showcase=showcase, entry_id=entry_id)
    showcases.remove_item(session=session, showcase=showcase, entry=entry)
    session.commit()
    return redirect_with(request, f"/showcases/{showcase.id}#items",
                         _("Removed from the showcase. It is still in your portfolio."))


@router.post("/showcases/{showcase_id:int}/items/{entry_id:int}/points")
def save_talking_points(
    request: Request, showcase_id: PathId, entry_id: PathId, user: CurrentUser, session: SessionDep,
    talking_points: LongText = "", version: ShortText = "",
) -> Response:
    """Save what the student wants to say about this item when presenting (unless it changed since the page opened)."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    entry = showcases.entry_of(session=session, showcase=showcase, entry_id=entry_id)
    try:
        with keeping_typed_text(session):
            problem = showcases.set_talking_points(session=session, showcase=showcase, entry=entry, text=talking_points)
            if not problem:
                claim_version(session=session, row=entry, version=parse_version(version))
                session.commit()
    except SaveRefused as refused:
        saved = _(" Saved now: “%(text)s”.", text=refused.current.talking_points) if refused.current else ""
        return _owner_page(request, session, user, showcase, errors={f"points-{entry_id}": refused.message + saved},
                           typed={entry_id: talking_points}, status_code=refused.status)
    if problem:
        session.rollback()
        return _owner_page(request, session, user, showcase, errors={f"points-{entry.id}": problem},
                           typed={entry.id: talking_points}, status_code=422)
    return redirect_with(request, f"/showcases/{showcase.id}#entry-{entry.id}", _("Talking points saved."))


@router.post("/showcases/{showcase_id:int}/items/{entry_id:int}/move")
def move_item(
    request: Request, showcase_id: PathId, entry_id: PathId, user: CurrentUser, session: SessionDep, direction: ShortText = "",
) -> Response:
    """Move an item one place up or down."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    entry = showcases.entry_of(session=session, showcase=showcase, entry_id=entry_id)
    if not showcases.move_item(session=session, showcase=showcase, entry=entry, direction=direction):
        return redirect_with(request, f"/showcases/{showcase.id}#entry-{entry.id}",
                             _("That item can't go any further."), "info")
    session.commit()
    return redirect_with(request, f"/showcases/{showcase.id}#entry-{entry.id}", _("Item moved."))


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/showcases/{showcase_id:int}/items/order")
def reorder_items(request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep, order: LongText = "") -> Response:
    """Put all the items in a new order (sent by drag and drop): it must name each item exactly once."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    ids = showcases.parse_order(order)
    if ids is None or not showcases.reorder(session=session, showcase=showcase, order=ids):
        session.rollback()
        message = _("That order doesn't match the items in this showcase. Reload the page and try again.")
        if _wants_json(request):
            return JSONResponse({"ok": False, "message": message}, status_code=422)
        return _owner_page(request, session, user, showcase, errors={"order": message}, status_code=422)
    session.commit()
    if _wants_json(request):
        return JSONResponse({"ok": True, "order": [e.id for e in entries_of(session=session, showcase=showcase)]})
    return redirect_with(request, f"/showcases/{showcase.id}#items", _("New order saved."))


# --- secret links --------------------------------------------------------------------------------


@router.post("/showcases/{showcase_id:int}/links")
def create_link(
    request: Request, showcase_id: PathId, user: CurrentUser, session: SessionDep, expires_on: ShortText = "",
) -> Response:
    """Make a secret link and show its address, this once."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    settings = request.app.state.settings
    if not share_links.links_allowed(session=session, student_id=user.id):
        message = _("Your teacher has turned secret links off for your class, so you can't make one now.")
        return _owner_page(request, session, user, showcase, errors={"links": message}, status_code=422)
    today = share_links.today_in(settings.timezone)
    parsed = share_links.parse_expiry(expires_on=expires_on, today=today, max_days=settings.share_link_days)
    if not parsed.ok:
        return _owner_page(request, session, user, showcase, errors=parsed.errors, typed={"expires_on": expires_on},
                           status_code=422)
    chosen = parsed.expires_on
    link, token = share_links.create_link(session=session, owner=user, showcase=showcase, expires_on=chosen,
                                          address=client_address(request), timezone=settings.timezone)
    session.commit()
    context = {"showcase": showcase, "link": link, "expires_on": chosen,
               "url": f"{settings.base_url.rstrip('/')}/s/{token}"}
    # The address is shown this once: nothing may keep a copy of the page.
    return render(request, "showcases/link_created.html", context, headers=NO_STORE)


@router.post("/showcases/{showcase_id:int}/links/{link_id:int}/revoke")
def revoke_link(request: Request, showcase_id: PathId, link_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Stop a secret link for good."""
    showcase = showcase_of_owner(session=session, owner=user, showcase_id=showcase_id)
    share_links.revoke_link(session=session, owner=user, showcase=showcase, link_id=link_id,
                            address=client_address(request))
    session.commit()
    return redirect_with(request, f"/showcases/{showcase.id}#links",
                         _("The link is turned off. Nobody can open it any more."))
