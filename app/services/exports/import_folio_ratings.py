"""A Folio archive's self-assessments matched to this school's scales; the rest goes to the history note."""

from __future__ import annotations

from sqlmodel import Session

from app.models import CompetencyRating, RatingArtefact, RatingSource, User
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.portfolio_json import parse_timestamp as _at


def create_ratings(*, session: Session, student: User, document: dict, matcher: Matcher, history: HistoryNote,
                   refs: FolioRefs, summary: ImportSummary) -> None:
    """Recreate the self-assessments this school can hold, with the evidence they name."""
    artefact_ids = refs.artefact_ids
    for doc in document["ratings"]:
        if doc["source"] != RatingSource.self.value:
            history.teacher_rating(doc)
            continue
        competency = matcher.competency(doc["competency"])
        level = matcher.level(competency, doc["level"]) if competency else None
        if competency is None or level is None:
            history.unmatched_rating(doc)
            continue
        rating = CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                  rated_by_id=student.id, source=RatingSource.self, reason=doc["reason"],
                                  created_at=_at(doc["created_at"]))
        session.add(rating)
        session.flush()
        for ref in sorted(set(doc["artefacts"])):
            if ref in artefact_ids:
                session.add(RatingArtefact(rating_id=rating.id, artefact_id=artefact_ids[ref]))
        summary.ratings += 1
