"""Each role's home page."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import AdminUser, CurrentUser, GuardianUser, StudentUser, TeacherUser, require_user
from app.db import SessionDep
from app.models import ClassRole
from app.navigation import home_path
from app.services.conferences import conferences
from app.services.family import family
from app.services.accounts import people
from app.services.portfolio import student_panels
from app.services.badges import imported as imported_badges
from app.services.portfolio import timeline
from app.templating import render

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/home")
def home(user: CurrentUser) -> RedirectResponse:
    """Send the user to their role's home page."""
    return RedirectResponse(home_path(user), status_code=303)


@router.get("/student")
def student_home(
    request: Request, user: StudentUser, session: SessionDep, q: str = "", kind: str = "", competency: str = "",
    goal: str = "", tag: str = "", audience: str = "", date_from: str = "", date_to: str = "", page: str = "1",
) -> Response:
    """A student's home: their timeline (filtered or searched) beside goals, competencies and feedback."""
    filters = timeline.parse_filters(q=q, kind=kind, competency=competency, goal=goal, tag=tag, audience=audience,
                                     date_from=date_from, date_to=date_to)
    context = student_panels.home_context(session=session, student=user, filters=filters,
                                          page=int(page) if page.isdigit() else 1)
    context["badges"] = imported_badges.badges_on_page(session=session, rows=context["items"].items)
    return render(request, "home/student.html", context, block="timeline")


@router.get("/teacher")
def teacher_home(request: Request, user: TeacherUser, session: SessionDep) -> Response:
    """A teacher's home: the classes they teach and who is in them."""
    classes = people.classes_of(session=session, user=user, role=ClassRole.teacher)
    past = people.archived_classes_of(session=session, user=user, role=ClassRole.teacher)
    return render(request, "home/teacher.html", {"classes": classes, "past_classes": past})


@router.get("/family")
def family_home(request: Request, user: GuardianUser, session: SessionDep, page: str = "1") -> Response:
    """A guardian's home: each child, and one picture feed of what they share (a constant number of queries)."""
    home = family.family_home(session=session, guardian=user, number=int(page) if page.isdigit() else 1)
    slots = conferences.upcoming_for_guardian(session=session, guardian=user)
    return render(request, "home/family.html", {"home": home, "conference_slots": slots}, block="feed")


@router.get("/admin")
def admin_home(request: Request, user: AdminUser, session: SessionDep) -> Response:
    """An admin's home: the school at a glance."""
    context = {
        "school": people.school_of(session=session, user=user),
        "counts": people.role_counts(session=session, school_id=user.school_id),
        "classes": people.school_classes(session=session, school_id=user.school_id),
    }
    return render(request, "home/admin.html", context)
