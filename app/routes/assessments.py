"""Teacher assessment: a teacher's view of one student's competencies, and rating them on the same scale."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import TeacherUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.services.badges import issuing
from app.services.competencies import assessments
from app.services.competencies import ratings
from app.templating import render
from app.routes.ids import PathId
from app.security import client_address

router = APIRouter(dependencies=[Depends(require_user)])

TextField = Annotated[str, Form(max_length=10_000)]


@router.get("/students/{student_id}/competencies")
def list_student_competencies(request: Request, student_id: PathId, user: TeacherUser, session: SessionDep) -> Response:
    """Every competency available to the student, their latest self-rating beside the latest teacher rating."""
    student = assessments.student_for_teacher(session=session, teacher=user, student_id=student_id)
    groups = assessments.teacher_overview(session=session, student=student)
    return render(request, "assessments/list.html", {"student": student, "groups": groups})


def _show(request: Request, session, user, student_id: int, competency_id: int, *, data=None,
          status_code: int = 200) -> Response:
    student = assessments.student_for_teacher(session=session, teacher=user, student_id=student_id)
    competency, framework = ratings.competency_for_student(session=session, student=student, competency_id=competency_id)
    page = assessments.teacher_competency_page(session=session, teacher=user, student=student, competency=competency,
                                           framework=framework)
    data = data or ratings.RatingInput()
    awarded = issuing.awarded_rating_ids(session=session, rating_ids=[
        view.rating.id for view in page.history if view.rating.source.value == "teacher"])
    return render(request, "assessments/show.html", {"page": page, "data": data, "errors": data.errors,
                                                     "awarded": awarded}, status_code=status_code)


@router.get("/students/{student_id}/competencies/{competency_id}")
def show_student_competency(
    request: Request, student_id: PathId, competency_id: PathId, user: TeacherUser, session: SessionDep
) -> Response:
    """One competency of one student: both histories, the growth chart, and the rating form."""
    return _show(request, session, user, student_id, competency_id)


@router.post("/students/{student_id}/competencies/{competency_id}/ratings")
def create_teacher_rating(
    request: Request, student_id: PathId, competency_id: PathId, user: TeacherUser, session: SessionDep,
    level_id: TextField = "", comment: TextField = "",
    artefact_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    award_credential: Annotated[bool, Form()] = False,
) -> Response:
    """Rate the student on the competency's scale with a comment and evidence (a new rating every time), and sign
    an Open Badges credential for it when asked."""
    student = assessments.student_for_teacher(session=session, teacher=user, student_id=student_id)
    competency, _framework = ratings.competency_for_student(session=session, student=student, competency_id=competency_id)
    levels = ratings.scale_of(session=session, framework_id=competency.framework_id)
    data = assessments.parse_teacher_rating(session=session, teacher=user, student=student, competency=competency,
                                        levels=levels, level_id=level_id, comment=comment, artefact_ids=artefact_ids)
    if data.errors:
        return _show(request, session, user, student_id, competency_id, data=data, status_code=422)
    rating = assessments.create_teacher_rating(session=session, teacher=user, student=student, competency=competency,
                                               data=data)
    if award_credential:
        issuing.issue_for_rating(session=session, settings=request.app.state.settings, teacher=user, rating_id=rating.id,
                                 address=client_address(request))
    session.commit()
    response = RedirectResponse(f"/students/{student_id}/competencies/{competency_id}", status_code=303)
    message = (_("Your assessment of %(name)s is saved, and a credential awarded for it.", name=student.display_name)
               if award_credential else _("Your assessment of %(name)s is saved.", name=student.display_name))
    flash(request, response, message, "success")
    return response
