"""/api/v1/classes and a teacher's rating: the teacher's classes, one with its roster, its overview (the class overview
page and the competency grid), a student's items as their teacher sees them, and rating a student's competency, over
the HTML pages' own services and checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api import cursors
from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.class_schemas import (
    ClassDetail, ClassList, ClassOverview, ClassSettings, ClassSummary, CompetencyCell, CompetencyColumn, Level,
    NewRating, OverviewStudent, Person, RatingOut,
)
from app.api.bodies import body_schema, json_body
from app.api.items import READ_ERRORS, WRITE_ERRORS, Cursor, Limit, TimelineQuery, summary_of
from app.api.problems import invalid_body
from app.api.schemas import Id, ItemList, ItemSummary
from app.db import SessionDep
from app.models import ProficiencyLevel, Role, SchoolClass, User
from app.services.accounts import people
from app.services.classes import class_views, classes
from app.services.competencies import assessments, ratings

router = APIRouter(tags=["classes"])
BODY_MODELS = (NewRating,)


def _people(users: list[User]) -> list[Person]:
    return [Person(id=u.id, display_name=u.display_name) for u in users]


def _summary_fields(school_class: SchoolClass, teachers: list[User], student_count: int) -> dict:
    return {"id": school_class.id, "name": school_class.name, "year": school_class.year, "term": school_class.term,
            "archived": school_class.archived, "teachers": _people(teachers), "student_count": student_count,
            "page_url": f"/classes/{school_class.id}", "api_url": f"/api/v1/classes/{school_class.id}"}


def _level(level: ProficiencyLevel | None) -> Level | None:
    return Level(id=level.id, position=level.position, label=level.label) if level else None


@router.get("/classes", response_model=ClassList, responses=READ_ERRORS, summary="List my classes")
def list_classes(caller: ApiCaller, session: SessionDep) -> ClassList:
    """The classes the teacher teaches, with their teachers and how many students; for an admin, the school's live
    classes (as their home pages list them)."""
    require_role(caller, Role.teacher, Role.admin)
    views = people.staff_classes(session=session, user=caller.user)
    return ClassList(classes=[ClassSummary(**_summary_fields(v.school_class, v.teachers, len(v.students)))
                              for v in views])


@router.get("/classes/{class_id}", response_model=ClassDetail, responses=READ_ERRORS, summary="Read one class")
def read_class(class_id: Id, caller: ApiCaller, session: SessionDep) -> ClassDetail:
    """The class's roster, join code and settings, for its teachers and the school's admin (anyone else: 404)."""
    require_role(caller, Role.teacher, Role.admin)
    school_class = classes.class_for_staff(session=session, user=caller.user, class_id=class_id)
    roster = classes.roster(session=session, school_class=school_class)
    flags = {name: getattr(school_class, name) for name in classes.SETTING_NAMES}
    return ClassDetail(**_summary_fields(school_class, roster.teachers, len(roster.students)),
                       join_code=school_class.join_code, settings=ClassSettings(**flags),
                       students=_people(roster.students), overview_url=f"/api/v1/classes/{school_class.id}/overview")


@router.get("/classes/{class_id}/overview", response_model=ClassOverview, responses=READ_ERRORS,
            summary="A class's overview")
def class_overview(class_id: Id, caller: ApiCaller, session: SessionDep) -> ClassOverview:
    """Every student's latest evidence and reflection, goals, requests and comments waiting, and their latest self-
    and teacher assessment of each competency (the overview page and the competency grid; a fixed number of
    queries, whatever the class size)."""
    require_role(caller, Role.teacher, Role.admin)
    school_class = classes.class_for_staff(session=session, user=caller.user, class_id=class_id)
    rows = class_views.class_overview(session=session, school_class=school_class)
    grid = class_views.competency_grid(session=session, school_class=school_class)
    cells = {row.student.id: row.cells for row in grid.rows}
    columns = [CompetencyColumn(id=c.option.id, code=c.option.code, name=c.option.name, framework=c.framework.name,
                                depth=c.option.depth) for c in grid.columns]

    def student(row: class_views.OverviewRow) -> OverviewStudent:
        rated = [CompetencyCell(competency_id=column.id, latest_self=_level(cell.latest_self),
                                latest_teacher=_level(cell.latest_teacher))
                 for column, cell in zip(columns, cells.get(row.student.id, []), strict=False)
                 if cell.latest_self or cell.latest_teacher]
        return OverviewStudent(
            id=row.student.id, display_name=row.student.display_name, last_evidence=row.last_evidence,
            last_reflection=row.last_reflection, active_goals=row.active_goals, open_requests=row.open_requests,
            awaiting_approval=row.awaiting_approval, quiet=row.quiet,
            self_assessed=sum(1 for c in rated if c.latest_self), teacher_assessed=sum(1 for c in rated if c.latest_teacher),
            ratings=rated, items_url=f"/api/v1/classes/{school_class.id}/students/{row.student.id}/items")

    return ClassOverview(id=school_class.id, name=school_class.name, quiet_days=class_views.QUIET_DAYS,
                         competencies=columns, students=[student(row) for row in rows])


@router.get("/classes/{class_id}/students/{student_id}/items", response_model=ItemList, responses=READ_ERRORS,
            summary="A student's items")
def student_items(request: Request, class_id: Id, student_id: Id, caller: ApiCaller, session: SessionDep,
                  filters: TimelineQuery, cursor: Cursor = None, limit: Limit = 20) -> ItemList:
    """A student of the class's items as their teacher sees them on the student's page (no drafts), newest first
    (best match first with `q`), with the timeline's filters; a student the teacher doesn't teach: 404."""
    require_role(caller, Role.teacher)
    school_class = classes.class_for_staff(session=session, user=caller.user, class_id=class_id)
    classes.student_enrollment(session=session, school_class=school_class, student_id=student_id)
    student = class_views.student_for_teacher(session=session, teacher=caller.user, student_id=student_id)
    number, size = cursors.decode(cursor, size=limit)
    page = class_views.student_items(session=session, teacher=caller.user, student=student, filters=filters,
                                     number=number, size=size)
    return ItemList(items=[ItemSummary(**summary_of(row.entry)) for row in page.items], total=page.total,
                    next=cursors.next_address(request, page))


@router.post("/students/{student_id}/competencies/{competency_id}/ratings", response_model=RatingOut,
             status_code=201, responses=WRITE_ERRORS, summary="Rate a student's competency",
             openapi_extra=body_schema(NewRating))
def create_rating(
    student_id: Id, competency_id: Id, body: Annotated[NewRating, Depends(json_body(NewRating))],
    caller: WritingCaller, session: SessionDep,
) -> RatingOut:
    """A teacher's assessment of their student on the competency's own scale, with a comment and evidence (a new
    rating every time), checked like the form on the student's competency page."""
    require_role(caller, Role.teacher)
    teacher = caller.user
    student = assessments.student_for_teacher(session=session, teacher=teacher, student_id=student_id)
    competency, _framework = ratings.competency_for_student(session=session, student=student,
                                                            competency_id=competency_id)
    levels = ratings.scale_of(session=session, framework_id=competency.framework_id)
    data = assessments.parse_teacher_rating(
        session=session, teacher=teacher, student=student, competency=competency, levels=levels,
        level_id=str(body.level_id), comment=body.comment, artefact_ids=[str(i) for i in body.artefact_ids])
    if data.errors:
        raise invalid_body(data.errors)
    rating = assessments.create_teacher_rating(session=session, teacher=teacher, student=student,
                                               competency=competency, data=data)
    session.commit()
    level = next(level for level in levels if level.id == rating.level_id)
    # create_teacher_rating keeps exactly the evidence parse_teacher_rating let through (the teacher's visible ones).
    return RatingOut(id=rating.id, student_id=student.id, competency_id=competency.id, level=_level(level),
                     comment=rating.reason, artefact_ids=sorted(data.artefact_ids), created_at=rating.created_at,
                     page_url=f"/students/{student.id}/competencies/{competency.id}")
