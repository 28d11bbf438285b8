"""Families, seen from inside: staff invite a student's family and manage the links; a guardian follows one child;
a student sees (and can end) who follows them."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth import CurrentUser, GuardianUser, StudentUser, require_user
from app.db import SessionDep
from app.flash import redirect_with
from app.i18n import _
from app.models import Role
from app.models.base import utcnow
from app.security import client_address
from app.services.family import family as service
from app.services.family import invitations
from app.access import not_found
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


# --- staff: a student's family -------------------------------------------------------------------


@router.get("/students/{student_id}/family")
def student_family(request: Request, student_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """The student's linked guardians and outstanding invitations (their teachers and the school's admins)."""
    student = invitations.student_for_staff(session=session, staff=user, student_id=student_id)
    context = {"family": invitations.family_admin(session=session, student=student), "now": utcnow(),
               "is_admin": user.role is Role.admin}
    return render(request, "family/student.html", context)


@router.post("/students/{student_id}/invitations")
def create_invitation(request: Request, student_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Make an invitation and show it once, ready to print."""
    settings = request.app.state.settings
    student = invitations.student_for_staff(session=session, staff=user, student_id=student_id)
    invitation, code = invitations.create_invitation(session=session, staff=user, student=student, settings=settings,
                                                     address=client_address(request))
    session.commit()
    family = invitations.family_admin(session=session, student=student)
    code_text = invitations.format_code(code)
    context = {"student": student, "school": family.school, "invitation": invitation, "code": code_text,
               "link": f"{settings.base_url.rstrip('/')}/invite?code={code_text}"}
    return render(request, "invitations/print.html", context, headers={"Cache-Control": "no-store"})


@router.post("/students/{student_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(request: Request, student_id: PathId, invitation_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """Cancel an invitation that hasn't been used."""
    student = invitations.student_for_staff(session=session, staff=user, student_id=student_id)
    invitations.revoke_invitation(session=session, staff=user, student=student, invitation_id=invitation_id,
                                  address=client_address(request))
    session.commit()
    return redirect_with(request, f"/students/{student.id}/family",
                         _("The invitation is cancelled: its code no longer works."))


@router.post("/students/{student_id}/guardians/{guardian_id}/remove")
def remove_guardian(request: Request, student_id: PathId, guardian_id: PathId, user: CurrentUser, session: SessionDep) -> Response:
    """An admin of the school ends a guardian's link to the student."""
    if user.role is not Role.admin:
        raise not_found()
    student = invitations.student_for_staff(session=session, staff=user, student_id=student_id)
    guardian = invitations.remove_link(session=session, staff=user, student=student, guardian_id=guardian_id,
                                       address=client_address(request))
    session.commit()
    return redirect_with(request, f"/students/{student.id}/family",
                         _("%(guardian)s no longer sees %(student)s's portfolio.",
                           guardian=guardian.display_name, student=student.display_name))


# --- guardians: one child ------------------------------------------------------------------------


@router.get("/family/children/{student_id}")
def child_page(request: Request, student_id: PathId, user: GuardianUser, session: SessionDep, page: str = "1") -> Response:
    """One child as their family sees them: what they share, their goals, their growth, their credentials and showcases."""
    view = service.child_page(session=session, settings=request.app.state.settings, guardian=user, student_id=student_id,
                              number=int(page) if page.isdigit() else 1)
    return render(request, "family/child.html", {"view": view}, block="feed")


# --- students: who follows me --------------------------------------------------------------------


@router.get("/my-family")
def my_family(request: Request, user: StudentUser, session: SessionDep) -> Response:
    """The family members linked to the student, each with a way to end the link."""
    return render(request, "family/mine.html", {"guardians": service.my_guardians(session=session, student=user)})


@router.get("/my-family/{guardian_id}/remove")
def confirm_remove(request: Request, guardian_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """Ask before ending a guardian's link."""
    guardian = service.my_guardian(session=session, student=user, guardian_id=guardian_id)
    return render(request, "family/remove.html", {"guardian": guardian})


@router.post("/my-family/{guardian_id}/remove")
def remove_my_guardian(request: Request, guardian_id: PathId, user: StudentUser, session: SessionDep) -> Response:
    """End the link: from the next request on, they see nothing of the student's."""
    guardian = service.remove_my_guardian(session=session, student=user, guardian_id=guardian_id,
                                          address=client_address(request))
    session.commit()
    return redirect_with(request, "/my-family",
                         _("%(name)s no longer sees your portfolio.", name=guardian.display_name))

