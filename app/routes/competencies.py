"""The student's competencies: an overview, one page per competency, and self-assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import StudentUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.services.competencies import ratings
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
    response = RedirectResponse(f"/competencies/{competency_id}", status_code=303)
    flash(request, response, _("Your self-assessment is saved."), "success")
    return response
