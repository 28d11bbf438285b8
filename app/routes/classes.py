"""Class settings a teacher manages (more arrive with the teachers' work): reflection prompts."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import StaffUser, require_user
from app.db import SessionDep
from app.flash import flash
from app.i18n import _
from app.navigation import home_path
from app.services import classes
from app.services.reflections import default_prompts
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/classes/{class_id}/prompts")
def edit_prompts(request: Request, class_id: int, user: StaffUser, session: SessionDep) -> Response:
    """The class's reflection prompts, one per line."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    context = {"school_class": school_class, "prompts": school_class.reflection_prompts or "", "defaults": default_prompts(), "errors": {}}
    return render(request, "classes/prompts.html", context)


@router.post("/classes/{class_id}/prompts")
def update_prompts(
    request: Request, class_id: int, user: StaffUser, session: SessionDep, prompts: Annotated[str, Form(max_length=5000)] = ""
) -> Response:
    """Save the prompts (empty: Folio's defaults)."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    parsed, problem = classes.parse_prompts(prompts)
    if problem:
        context = {"school_class": school_class, "prompts": prompts, "defaults": default_prompts(), "errors": {"prompts": problem}}
        return render(request, "classes/prompts.html", context, status_code=422)
    classes.set_prompts(session=session, school_class=school_class, prompts=parsed)
    session.commit()
    response = RedirectResponse(home_path(user), status_code=303)
    message = _("Reflection prompts saved for %(name)s.", name=school_class.name) if parsed else \
        _("%(name)s now uses Folio's default prompts.", name=school_class.name)
    flash(request, response, message, "success")
    return response
