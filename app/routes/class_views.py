"""A teacher's views of a class: the overview of every student, the competency grid, and one student's page."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth import StaffUser, TeacherUser, require_user
from app.db import SessionDep
from app.services.badges import imported as imported_badges
from app.services.classes import class_views
from app.services.classes import classes
from app.templating import render
from app.routes.ids import PathId

router = APIRouter(dependencies=[Depends(require_user)])


@router.get("/classes/{class_id}/overview")
def show_overview(
    request: Request, class_id: PathId, user: StaffUser, session: SessionDep, sort: str = "name", dir: str = "asc",
) -> Response:
    """Every student's latest evidence and reflection, goals, requests and items awaiting approval, sortable."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    order = class_views.parse_sort(sort=sort, direction=dir)
    rows = class_views.class_overview(session=session, school_class=school_class, sort=order)
    context = {"school_class": school_class, "rows": rows, "order": order, "quiet_days": class_views.QUIET_DAYS}
    return render(request, "class_views/overview.html", context)


@router.get("/classes/{class_id}/grid")
def show_grid(request: Request, class_id: PathId, user: StaffUser, session: SessionDep) -> Response:
    """Students by competencies: each cell the latest self-rating beside the latest teacher rating."""
    school_class = classes.class_for_staff(session=session, user=user, class_id=class_id)
    grid = class_views.competency_grid(session=session, school_class=school_class)
    return render(request, "class_views/grid.html", {"school_class": school_class, "grid": grid})


@router.get("/students/{student_id}")
def show_student(request: Request, student_id: PathId, user: TeacherUser, session: SessionDep, page: str = "1") -> Response:
    """One student as their teacher sees them: the timeline (no drafts), their goals, a link to competencies."""
    student = class_views.student_for_teacher(session=session, teacher=user, student_id=student_id)
    view = class_views.student_view(session=session, teacher=user, student=student,
                                    number=int(page) if page.isdigit() else 1)
    context = {"student": view.student, "items": view.items, "goals": view.goals,
               "badges": imported_badges.badges_on_page(session=session, rows=view.items.items)}
    return render(request, "class_views/student.html", context, block="timeline")
