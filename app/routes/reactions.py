"""Quick reactions: a guardian presses a heart (or clap, star, wow) on their child's item; pressing again takes it back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import CurrentUser, require_user
from app.db import SessionDep
from app.routes.ids import PathId
from app.services.family import reactions as service
from app.services.portfolio.links import item_link
from app.templating import render, wants_fragment

router = APIRouter(dependencies=[Depends(require_user)])

ShortText = Annotated[str, Form(max_length=40)]


def _back(back: str, item) -> str:
    """Where the page that had the button is: a page of the child's feed or of the family home ("feed:2"), the comments
    page, or the item's page."""
    where, _sep, number = back.partition(":")
    page = f"?page={int(number)}" if number.isdigit() and 1 < int(number) < 100_000 else ""
    if where == "feed":
        return f"/family/children/{item.owner_id}{page}#item-{item.id}"
    if where == "home":
        return f"/family{page}#item-{item.id}"
    if back == "thread":
        return f"/feedback/thread?item_type={item.type.value}&item_id={item.id}#reactions-{item.id}"
    return f"{item_link(item.type, item.id)}#reactions-{item.id}"


@router.post("/items/{item_id}/reactions")
def react(request: Request, item_id: PathId, user: CurrentUser, session: SessionDep, kind: ShortText = "",
          back: ShortText = "") -> Response:
    """Add or take back one reaction; HTMX gets the item's reaction bar, a plain form goes back where it was."""
    item = service.reactable_item(session=session, viewer=user, item_id=item_id)
    reaction = service.parse_kind(kind)
    if reaction is None:
        raise HTTPException(status_code=400)
    service.toggle(session=session, viewer=user, item=item, kind=reaction)
    session.commit()
    if wants_fragment(request):
        bar = service.bars_for(session=session, viewer=user, item_ids=[item.id], can_react=True)[item.id]
        return render(request, "reactions/bar.html", {"bar": bar, "back": back}, block="bar")
    return RedirectResponse(_back(back, item), status_code=303)
