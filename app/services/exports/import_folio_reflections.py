"""The reflections of a Folio archive: each recreated with its evidence, goals, competencies and recording."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Audience, ReflectionStatus, User
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.portfolio_json import parse_timestamp as _at
from app.services.portfolio import reflections as reflection_service
from app.services.portfolio import timeline


def create_reflections(*, session: Session, student: User, document: dict, matcher: Matcher, history: HistoryNote,
                       refs: FolioRefs, summary: ImportSummary) -> None:
    """Recreate the archive's reflections (after its artefacts and goals, which they link to)."""
    artefact_ids, goal_ids, reflection_ids, titles = refs.artefact_ids, refs.goal_ids, refs.reflection_ids, refs.titles
    for doc in document["reflections"]:
        competency_ids, unmatched = matcher.split(doc["competencies"])
        history.unmatched_links(doc["title"], unmatched)
        status = ReflectionStatus(doc["status"])
        data = reflection_service.ReflectionInput(
            title=doc["title"], body=doc["body"], audience=Audience(doc["audience"]), status=status,
            artefact_ids={artefact_ids[r] for r in doc["artefacts"] if r in artefact_ids},
            goal_ids={goal_ids[r] for r in doc["goals"]}, competency_ids=competency_ids,
        )
        audio = artefact_ids.get(doc["audio"]) if doc["audio"] else None
        reflection = reflection_service.create_reflection(session=session, owner=student, data=data, audio_artefact_id=audio)
        reflection.created_at, reflection.updated_at = _at(doc["created_at"]), _at(doc["updated_at"])
        reflection.published_at = _at(doc["published_at"])
        session.add(reflection)
        session.flush()
        timeline.sync_reflection(session=session, reflection=reflection)
        reflection_ids[doc["ref"]] = reflection.id
        titles[doc["ref"]] = doc["title"]
        summary.reflections += 1
