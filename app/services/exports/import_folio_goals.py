"""A Folio archive's goals recreated with steps and check-ins, then given closing reflections and dates."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.models import Audience, CheckIn, CheckInArtefact, CheckInStep, Goal, GoalStatus, User
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.portfolio_json import parse_timestamp as _at
from app.services.portfolio import goals as goal_service
from app.services.portfolio import timeline
from app.services.portfolio.goal_forms import GoalData


def create_goals(*, session: Session, student: User, document: dict, matcher: Matcher, history: HistoryNote,
                 refs: FolioRefs, summary: ImportSummary) -> dict[str, tuple[Goal, dict]]:
    """Recreate the archive's goals; each new goal and its document, by ref, for finish_goals."""
    artefact_ids, goal_ids, titles = refs.artefact_ids, refs.goal_ids, refs.titles
    goals_by_ref = {}
    for doc in document["goals"]:
        competency_ids, unmatched = matcher.split(doc["competencies"])
        history.unmatched_links(doc["title"], unmatched)
        data = GoalData(title=doc["title"], why=doc["why"], success_criteria=doc["success_criteria"],
                        target_date=date.fromisoformat(doc["target_date"]) if doc["target_date"] else None,
                        audience=Audience(doc["audience"]), competency_ids=competency_ids,
                        steps=[step["text"] for step in doc["steps"]])
        goal = goal_service.create_goal(session=session, owner=student, data=data)
        steps = goal_service.steps_of(session=session, goal=goal)
        for step, step_doc in zip(steps, doc["steps"]):
            step.done, step.done_at = step_doc["done"], _at(step_doc["done_at"])
            session.add(step)
        for checkin_doc in doc["checkins"]:
            checkin = CheckIn(goal_id=goal.id, occurred_on=date.fromisoformat(checkin_doc["occurred_on"]),
                              note=checkin_doc["note"], created_at=_at(checkin_doc["created_at"]))
            session.add(checkin)
            session.flush()
            for ref in sorted(set(checkin_doc["evidence"])):
                if ref in artefact_ids:
                    session.add(CheckInArtefact(checkin_id=checkin.id, artefact_id=artefact_ids[ref]))
            for index in sorted(set(checkin_doc["steps"])):
                session.add(CheckInStep(checkin_id=checkin.id, step_id=steps[index].id))
        goal.status, goal.achieved_at = GoalStatus(doc["status"]), _at(doc["achieved_at"])
        goal_ids[doc["ref"]] = goal.id
        goals_by_ref[doc["ref"]] = (goal, doc)
        titles[doc["ref"]] = doc["title"]
        summary.goals += 1
    return goals_by_ref


def finish_goals(*, session: Session, goals_by_ref: dict[str, tuple[Goal, dict]], refs: FolioRefs) -> None:
    """Give each goal its closing reflection (imported after the goals) and its dates, then its timeline entry."""
    reflection_ids = refs.reflection_ids
    for ref, (goal, doc) in goals_by_ref.items():
        if doc["closing_reflection"]:
            goal.closing_reflection_id = reflection_ids[doc["closing_reflection"]]
        goal.created_at, goal.updated_at = _at(doc["created_at"]), _at(doc["updated_at"])
        session.add(goal)
        session.flush()
        timeline.sync_goal(session=session, goal=goal)
