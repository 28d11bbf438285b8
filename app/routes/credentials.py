"""Open Badges credentials inside Folio: a student's list and pages, and teachers awarding and revoking them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, CurrentUser, StudentUser, TeacherUser, require_user
from app.db import SessionDep
from app.flash import flash, redirect_with
from app.i18n import _
from app.routes.ids import PathId
from app.security import client_address
from app.services.badges import credentials, issuing
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])

PublicId = Annotated[str, Query(max_length=36)]

@router.get("/credentials")
def list_credentials(request: Request, user: StudentUser, session: SessionDep,
                     page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """The student's credentials, newest first."""
    found = credentials.student_credentials(session=session, settings=request.app.state.settings, student=user, page=page)
    return render(request, "credentials/list.html", {"page": found})

@router.get("/admin/credentials")
def list_school_credentials(request: Request, user: AdminUser, session: SessionDep,
                            page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    """Every credential the school issued, to find one to revoke."""
    found = credentials.school_credentials(session=session, settings=request.app.state.settings,
                                           school_id=user.school_id, page=page)
    return render(request, "credentials/school_list.html", {"page": found})


@router.get("/credentials/{public_id}")
def show_credential(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """One credential: what it says, its status, and where it can be verified."""
    view = credentials.visible_credential(session=session, settings=request.app.state.settings, viewer=user,
                                          public_id=public_id)
    return render(request, "credentials/show.html", {
        "view": view, "can_revoke": credentials.can_revoke(viewer=user, view=view)})

@router.get("/credentials/{public_id}/download")
def download_credential(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """The signed credential as issued, as a JSON file."""
    view = credentials.visible_credential(session=session, settings=request.app.state.settings, viewer=user,
                                          public_id=public_id)
    return Response(view.json_text, media_type="application/vc+ld+json",
                    headers={"Content-Disposition": f'attachment; filename="{view.filename}"'})

def _back_to_rating(request: Request, session, rating_id: int) -> str:
    rating = issuing.rating_location(session=session, rating_id=rating_id)
    return f"/students/{rating[0]}/competencies/{rating[1]}" if rating else "/teacher"

@router.post("/credentials/award/ratings/{rating_id}")
def award_for_rating(request: Request, rating_id: PathId, user: TeacherUser, session: SessionDep) -> Response:
    """Sign a credential for one of the student's teacher ratings."""
    try:
        credential = issuing.issue_for_rating(session=session, settings=request.app.state.settings, teacher=user,
                                              rating_id=rating_id, address=client_address(request))
    except issuing.AlreadyAwarded:
        return redirect_with(request, _back_to_rating(request, session, rating_id),
                             _("A credential was already awarded for this assessment."), "error")
    session.commit()
    return redirect_with(request, _back_to_rating(request, session, rating_id),
                         _("Credential awarded: %(name)s.", name=credential.achievement_name))

@router.post("/credentials/award/goals/{goal_id}")
def award_for_goal(request: Request, goal_id: PathId, user: TeacherUser, session: SessionDep) -> Response:
    """Sign a credential for the student's achieved goal."""
    response = RedirectResponse(f"/goals/{goal_id}", status_code=303)
    try:
        credential = issuing.issue_for_goal(session=session, settings=request.app.state.settings, teacher=user,
                                            goal_id=goal_id, address=client_address(request))
    except issuing.AlreadyAwarded:
        flash(request, response, _("A credential was already awarded for this goal."), "error")
        return response
    session.commit()
    flash(request, response, _("Credential awarded: %(name)s.", name=credential.achievement_name), "success")
    return response

@router.get("/credentials/{public_id}/revoke")
def confirm_revoke(request: Request, public_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """Ask for a reason before revoking (the issuing teacher or an admin)."""
    credential = issuing.revocable(session=session, viewer=user, public_id=public_id)
    return render(request, "credentials/revoke.html", {"credential": credential, "errors": {}, "reason": ""})

@router.post("/credentials/{public_id}/revoke")
def revoke_credential(request: Request, public_id: str, user: CurrentUser, session: SessionDep,
                      reason: Annotated[str, Form(max_length=10_000)] = "") -> Response:
    """Revoke the credential: its bit in the published status list is set; verifiers then refuse it."""
    credential = issuing.revocable(session=session, viewer=user, public_id=public_id)
    if not reason.strip() or len(reason) > issuing.REASON_MAX_LENGTH:
        errors = {"reason": _("Say why it is revoked (up to %(count)s characters): the student sees this.",
                              count=issuing.REASON_MAX_LENGTH)}
        return render(request, "credentials/revoke.html", {"credential": credential, "errors": errors, "reason": reason},
                      status_code=422)
    issuing.revoke(session=session, viewer=user, credential=credential, reason=reason, address=client_address(request))
    session.commit()
    return redirect_with(request, f"/credentials/{public_id}", _("The credential is revoked."))
