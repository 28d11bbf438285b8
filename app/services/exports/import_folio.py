"""Recreating a checked portfolio.json in a student's portfolio, section by section, and noting what can't be.

What a Folio import does with what can't be recreated as it was (see docs/portfolio-json.md, “Importing”):
- competencies are matched by framework name and code in the student's new school; unknown ones become
  tags on artefacts (“com.1 communicating”), and are listed in the history note for reflections, goals and
  showcases (which have no tags);
- self-assessments are matched by competency and level label; unmatched ones go to the history note;
- teacher ratings and feedback (from people who aren't in the new school) are kept, read-only, in one
  private note “Feedback and ratings from <school>” written in Markdown, so nothing is attributed to anyone
  in the new school;
- Open Badges credentials are never re-issued or altered: only the school that issued one can sign it, so each
  stays in the archive's credentials/ folder as it was, verifiable where it was issued, and the summary says so
  (showcase entries that showed one are left out).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.i18n import _
from app.models import ArtefactKind, Audience, User
from app.services.exports.import_folio_evidence import create_artefacts
from app.services.exports.import_folio_goals import create_goals, finish_goals
from app.services.exports.import_folio_ratings import create_ratings
from app.services.exports.import_folio_reflections import create_reflections
from app.services.exports.import_folio_refs import FolioRefs
from app.services.exports.import_folio_showcases import create_showcases
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_keys import Ledger
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.portfolio import artefacts as artefact_service

Progress = Callable[[int, int, str], None]


def create_everything(*, session: Session, settings: Settings, student: User, document: dict,
                      sources: dict[str, Path], summary: ImportSummary, report: Progress, ledger: Ledger) -> None:
    """Recreate the checked `document` in `student`'s portfolio (`sources`: each file artefact's file, by ref),
    counting what came in on `summary`; what can't be recreated goes to one private history note."""
    matcher = Matcher(session, student, document)
    history = HistoryNote(label=matcher.label)
    refs = FolioRefs()
    sections = dict(session=session, student=student, document=document, matcher=matcher, refs=refs, summary=summary)
    create_artefacts(settings=settings, sources=sources, report=report, ledger=ledger, **sections)

    report(2, 4, _("Importing goals and reflections"))
    goals_by_ref = create_goals(history=history, **sections)
    create_reflections(history=history, **sections)
    finish_goals(session=session, goals_by_ref=goals_by_ref, refs=refs)

    report(3, 4, _("Importing assessments and showcases"))
    create_ratings(history=history, **sections)

    for doc in document["feedback"]:
        history.feedback(doc, refs.titles.get(doc["on"], doc["on"]), recordings=refs.titles)

    summary.credentials = len(document.get("credentials", []))

    create_showcases(history=history, **sections)

    body = history.markdown()
    if body:
        school = document["school"]["name"] or _("your previous school")
        title = _("Feedback and ratings from %(school)s", school=school)[:200]
        data = artefact_service.ArtefactInput(title=title, body=body, audience=Audience.private,
                                              description=_("Kept when this portfolio was imported into Folio."))
        artefact_service.create_text_artefact(session=session, owner=student, kind=ArtefactKind.note, data=data)
        summary.history_note = True
        summary.artefacts += 1
    for framework, code in sorted(matcher.unknown):
        summary.messages.append(_("%(code)s (%(framework)s) isn't a competency of this school; it was kept as a tag "
                                  "or noted in the history note.", code=code, framework=framework))
    session.flush()
