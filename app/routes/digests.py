"""The family digest preview: what the next digest email would say if it were sent now."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth import GuardianUser, require_user
from app.db import SessionDep
from app.services.family import digests
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/family/digest")
def preview_digest(request: Request, user: GuardianUser, session: SessionDep) -> Response:
    """The guardian's next digest (its HTML part), with its period and frequency."""
    settings = request.app.state.settings
    preview = digests.preview_digest(session=session, settings=settings, guardian=user)
    labels = {value: label for value, label, _hint in digests.frequency_options()}
    context = {
        **digests.digest_context(settings=settings, digest=preview.digest),
        "preview": preview,
        "frequency_label": labels.get(preview.frequency, preview.frequency),
        "email_enabled": settings.email_enabled,
    }
    return render(request, "digests/preview.html", context)
