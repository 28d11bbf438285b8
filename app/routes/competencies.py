"""The student's competencies: an overview, one page per competency, and self-assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import StudentUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _, ngettext
from app.services.competencies import ratings
from app.services.portfolio import core_loop
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])

TextField = Annotated[str, Form(max_length=10_000)]


@router.get("/competencies")
def list_competencies(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Every competency available to the student, by framework, with their latest self-rating."""
    return render(request, "competencies/list.html", {"groups": ratings.overview(session=session, student=user)})


def _show(request: Request, session, user, competency_id: int, *, data=None, status_code: int = 200) -> Response:
    competency, framework = ratings.competency_for_student(session=session, student=user, competency_id=competency_id)
    page = ratings.competency_page(session=session, student=user, competency=competency, framework=framework)
    data = data or ratings.RatingInput()
    return render(request, "competencies/show.html", {"page": page, "data": data, "errors": data.errors},
                  status_code=status_code)


@router.get("/competencies/{competency_id}")
def show_competency(request: Request, competency_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """One competency: what it means, its scale, the student's evidence, goals and growth."""
    return _show(request, session, user, competency_id)


@router.post("/competencies/{competency_id}/ratings")
def create_rating(
    request: Request, competency_id: PathId, user: StudentUser, session: SessionDep,
    level_id: TextField = "", reason: TextField = "",
    artefact_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Rate yourself on the competency's scale, say why, and point to evidence (a new rating every time)."""
    competency, _framework = ratings.competency_for_student(session=session, student=user, competency_id=competency_id)
    levels = ratings.scale_of(session=session, framework_id=competency.framework_id)
    data = ratings.parse_rating(session=session, student=user, competency=competency, levels=levels,
                                level_id=level_id, reason=reason, artefact_ids=artefact_ids)
    if data.errors:
        return _show(request, session, user, competency_id, data=data, status_code=422)
    ratings.create_self_rating(session=session, student=user, competency=competency, data=data)
    session.commit()
    return redirect_with(request, f"/competencies/{competency_id}", _("Your self-assessment is saved."))


ItemIds = Annotated[list[int], Query()]


@router.get("/self-assessment")
def new_check_in(request: Request, user: StudentUser, session: SessionDep, reflection: int = 0,
                 artefact: ItemIds = []) -> Response:  # noqa: B006 (FastAPI copies defaults)
    """"How am I doing?": rate yourself on the competencies of what you just reflected on (or saved); nothing to
    rate goes straight on to it."""
    check = core_loop.check_in(session=session, student=user, artefact_ids=artefact, reflection_id=reflection or None)
    if not check.rows:
        return RedirectResponse(check.done_url, status_code=303)
    return render(request, "competencies/check_in.html", {"check": check, "errors": check.errors})


@router.post("/self-assessment")
async def create_check_in(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """Save a self-rating for each competency given a level, with the shared reason and the evidence."""
    form = await request.form()
    reflection = str(form.get("reflection", ""))
    artefacts = [int(v) for v in form.getlist("artefact") if str(v).isdigit()]
    check = core_loop.check_in(session=session, student=user, artefact_ids=artefacts,
                               reflection_id=int(reflection) if reflection.isdigit() else None)
    if not check.rows:
        return RedirectResponse(check.done_url, status_code=303)
    levels = {row.competency.id: str(form.get(f"level_{row.competency.id}", "")) for row in check.rows}
    check = core_loop.parse_check_in(check=check, levels=levels, reason=str(form.get("reason", ""))[:10_000])
    if not check.ok:
        return render(request, "competencies/check_in.html", {"check": check, "errors": check.errors}, status_code=422)
    count = core_loop.save_check_in(session=session, student=user, chosen=check.chosen)
    session.commit()
    return redirect_with(request, check.done_url, ngettext(
        "Your self-assessment of %(num)s competency is saved; your teacher sees it beside theirs.",
        "Your self-assessment of %(num)s competencies is saved; your teacher sees it beside theirs.", count))
