"""/api/v1/frameworks and self-assessments: the frameworks a student is assessed against (in the reader's language),
their ratings per competency (latest and history), and a new self-rating checked like the self-assessment form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from app.api.auth import ApiCaller, WritingCaller, require_role
from app.api.bodies import body_schema, json_body
from app.api.items import READ_ERRORS
from app.api.problems import created, invalid_body, problem_responses
from app.api.schemas import Id
from app.api.student_schemas import (
    CompetencyOut,
    CompetencyRatings,
    FrameworkList,
    FrameworkOut,
    LevelOut,
    NewSelfRating,
    RatingOut,
    SelfAssessmentList,
)
from app.db import SessionDep
from app.models import Competency, ProficiencyLevel, RatingSource, Role
from app.services.competencies import ratings
from app.services.competencies.student_frameworks import frameworks_of_student

router = APIRouter(tags=["competencies"])
BODY_MODELS = (NewSelfRating,)
def _level(level: ProficiencyLevel) -> LevelOut:
    return LevelOut(id=level.id, position=level.position, label=level.label, descriptor=level.descriptor)


def _competency(competency: Competency, depth: int) -> CompetencyOut:
    return CompetencyOut(id=competency.id, code=competency.code, name=competency.name,
                         description=competency.description, parent_id=competency.parent_id, depth=depth)


def _depth(session, competency: Competency) -> int:
    depth, parent_id = 0, competency.parent_id
    while parent_id is not None and depth < 50:  # a framework's tree is shallow; the bound only guards a bad import
        parent = session.get(Competency, parent_id)
        parent_id, depth = (parent.parent_id if parent else None), depth + 1
    return depth


def _rating(view: ratings.RatingView) -> RatingOut:
    rating = view.rating
    return RatingOut(id=rating.id, competency_id=rating.competency_id, source=rating.source.value,
                     level=_level(view.level), reason=rating.reason, rated_by=view.rated_by_name,
                     created_at=rating.created_at, artefact_ids=[a.id for a in view.artefacts])


def _ratings(competency: Competency, depth: int, history: list[ratings.RatingView]) -> CompetencyRatings:
    latest_self = ratings.latest_of(history, RatingSource.self)
    latest_teacher = ratings.latest_of(history, RatingSource.teacher)
    return CompetencyRatings(
        competency=_competency(competency, depth), framework_id=competency.framework_id,
        latest_self=_rating(latest_self) if latest_self else None,
        latest_teacher=_rating(latest_teacher) if latest_teacher else None,
        history=[_rating(view) for view in history], ratings_url=f"/api/v1/competencies/{competency.id}/ratings")


@router.get("/frameworks", response_model=FrameworkList, responses=READ_ERRORS, summary="My frameworks")
def list_frameworks(caller: ApiCaller, session: SessionDep) -> FrameworkList:
    """The frameworks the student is assessed against (their classes', else the school's), each with its scale and
    live competencies in nested order, in the reader's language where the school translated them."""
    require_role(caller, Role.student)
    views = frameworks_of_student(session=session, student=caller.user)
    return FrameworkList(frameworks=[FrameworkOut(
        id=v.framework.id, name=v.framework.name, description=v.framework.description,
        levels=[_level(level) for level in v.levels],
        competencies=[_competency(c, depth) for c, depth in v.competencies]) for v in views])


@router.get("/self-assessments", response_model=SelfAssessmentList, responses=READ_ERRORS,
            summary="My ratings on every competency")
def list_self_assessments(caller: ApiCaller, session: SessionDep) -> SelfAssessmentList:
    """Each competency the student may rate, with their latest self-rating, their teacher's latest, and every rating
    newest first (as the competency pages show them)."""
    require_role(caller, Role.student)
    views = frameworks_of_student(session=session, student=caller.user)
    rows = [(c, depth) for v in views for c, depth in v.competencies]
    history = ratings.ratings_by_competency(session=session, student_id=caller.user.id,
                                            competency_ids=[c.id for c, _depth in rows])
    return SelfAssessmentList(competencies=[_ratings(c, depth, history.get(c.id, [])) for c, depth in rows])


@router.get("/competencies/{competency_id}/ratings", response_model=CompetencyRatings, responses=READ_ERRORS,
            summary="My ratings on one competency")
def read_competency_ratings(competency_id: Id, caller: ApiCaller, session: SessionDep) -> CompetencyRatings:
    """One competency of the student's frameworks (archived ones too, for their history): latest and every rating."""
    require_role(caller, Role.student)
    competency, _framework = ratings.competency_for_student(session=session, student=caller.user,
                                                            competency_id=competency_id)
    history = ratings.rating_history(session=session, student_id=caller.user.id, competency_id=competency.id)
    return _ratings(competency, _depth(session, competency), history)


@router.post("/competencies/{competency_id}/ratings", response_model=RatingOut, status_code=201,
             summary="Rate myself on a competency", openapi_extra=body_schema(NewSelfRating),
             responses={**problem_responses(400, 401, 403, 404, 413, 422, 429),
                        **created("The competency's ratings (`GET /competencies/{competency_id}/ratings`).")})
def create_self_rating(competency_id: Id, body: Annotated[NewSelfRating, Depends(json_body(NewSelfRating))],
                       response: Response, caller: WritingCaller, session: SessionDep) -> RatingOut:
    """A new self-assessment (never an edit): a level of the competency's own scale, a reason, and the student's own
    evidence, checked like the self-assessment form; the teacher sees it beside theirs."""
    require_role(caller, Role.student)
    student = caller.user
    competency, _framework = ratings.competency_for_student(session=session, student=student,
                                                            competency_id=competency_id)
    levels = ratings.scale_of(session=session, framework_id=competency.framework_id)
    data = ratings.parse_rating(session=session, student=student, competency=competency, levels=levels,
                                level_id=str(body.level_id), reason=body.reason,
                                artefact_ids=[str(i) for i in body.artefact_ids])
    if data.errors:
        raise invalid_body(data.errors)
    rating = ratings.create_self_rating(session=session, student=student, competency=competency, data=data)
    session.commit()
    response.headers["Location"] = f"/api/v1/competencies/{competency.id}/ratings"
    view = next(v for v in ratings.rating_history(session=session, student_id=student.id, competency_id=competency.id)
                if v.rating.id == rating.id)
    return _rating(view)
