"""A Folio archive's showcases recreated with their items in order (credentials are never re-issued)."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Audience, Showcase, ShowcaseItem, ShowcaseItemType, User
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.portfolio_json import parse_timestamp as _at
from app.services.moderation import approvals


def create_showcases(*, session: Session, student: User, document: dict, matcher: Matcher, history: HistoryNote,
                     refs: FolioRefs, summary: ImportSummary) -> None:
    """Recreate the archive's showcases, each item once; competencies this school doesn't have go to the history."""
    for doc in document["showcases"]:
        showcase = Showcase(owner_id=student.id, title=doc["title"], introduction=doc["introduction"],
                            audience=Audience(doc["audience"]), ready=doc["ready"],
                            created_at=_at(doc["created_at"]), updated_at=_at(doc["updated_at"]))
        session.add(showcase)
        session.flush()
        approvals.request_showcase_if_needed(session=session, showcase=showcase)
        seen: set[tuple[str, int]] = set()
        for item in doc["items"]:
            if item["type"] == "credential":
                continue  # not re-issued here (see app.services.exports.import_folio); the summary says why
            if item["type"] == "competency":
                competency = matcher.competency(item["competency"])
                if competency is None:
                    history.unmatched_links(doc["title"], [item["competency"]])
                    continue
                item_id = competency.id
            else:
                item_id = refs.ids_of(item["type"]).get(item["ref"])
                if item_id is None:
                    continue
            if (item["type"], item_id) in seen:
                continue
            seen.add((item["type"], item_id))
            session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType(item["type"]), target_id=item_id,
                                     position=item["position"], talking_points=item["talking_points"]))
        summary.showcases += 1
