"""Importing an archive into a student's portfolio: a Folio archive (portfolio.json), a Mahara export (a ZIP
with leap2a.xml), or a bare Leap2A .xml file.

Archives are untrusted: they are opened with app.services.exports.safe_zip, portfolio.json is validated against its
schema (and its refs and files checked) before anything is written. An import commits in short batches (see
app.services.exports.import_keys: each created item is recorded under the import's scope, so an import run again
after a crash carries on instead of duplicating); on any problem what it committed is deleted again, the files it
stored are removed, and ImportRefused says why.

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

import dataclasses
import secrets
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlmodel import Session

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import (
    ArtefactKind,
    Audience,
    CheckIn,
    CheckInArtefact,
    CheckInStep,
    CompetencyRating,
    GoalStatus,
    RatingArtefact,
    RatingSource,
    ReflectionStatus,
    Showcase,
    ShowcaseItem,
    ShowcaseItemType,
    User,
)
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import goals as goal_service
from app.services.moderation import approvals
from app.services.exports import portfolio_json
from app.services.portfolio import storage
from app.services.portfolio import timeline
from app.services.portfolio import stored_files
from app.services.portfolio import reflections as reflection_service
from app.services.exports.archive_checks import (
    ImportRefused,
    check_files,
    feedback_comments,
    load_document,
    read_limited,
)
from app.services.portfolio.goal_forms import GoalData
from app.services.exports.import_history import HistoryNote
from app.services.exports.import_captions import link_captions
from app.services.exports.import_matching import Matcher
from app.services.exports.import_summary import ImportSummary
from app.services.exports.import_keys import Ledger, fingerprint, undo
from app.services.exports.safe_zip import ArchiveRefused, is_zip, open_untrusted_zip

MAX_XML_BYTES = 64 * 1024 * 1024


Progress = Callable[[int, int, str], None]




def _noop(_done: int, _total: int, _stage: str) -> None:
    pass


def import_archive(*, session: Session, settings: Settings, student: User, archive_path: Path,
                   progress: Progress | None = None, work_dir: Path | None = None,
                   ledger: Ledger | None = None) -> ImportSummary:
    """Import a Folio archive, a Mahara export ZIP or a Leap2A .xml file into `student`'s portfolio;
    ImportRefused (with nothing changed and nothing left on disk) when it can't be imported.

    Without a `ledger` this is one import of its own, committed in batches and at the end. With one (a job's),
    what that ledger's scope already created is skipped, and the last batch is left for the caller to commit."""
    standalone = ledger is None
    if ledger is None:
        ledger = Ledger(session=session, settings=settings, student=student, commit=session.commit,
                        scope=f"{fingerprint(archive_path)}:{secrets.token_hex(8)}")
    report = progress or _noop
    report(0, 4, _("Checking the archive"))
    scratch = work_dir or settings.jobs_dir / f"import-{secrets.token_hex(8)}"
    try:
        summary = _import_any(session, settings, student, archive_path, report, ledger, scratch / "extracted")
        ledger.finish()
        if standalone:
            session.commit()
        report(4, 4, _("Done"))
        return summary
    except Exception:
        session.rollback()
        ledger.discard_uncommitted_files()
        undo(session=session, settings=settings, student=student, scope=ledger.scope)
        raise
    except BaseException:  # the runner is stopping: what was committed stays, for the next run to carry on from
        session.rollback()
        ledger.discard_uncommitted_files()
        raise
    finally:
        shutil.rmtree(scratch / "extracted", ignore_errors=True)
        if work_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


def _import_any(session: Session, settings: Settings, student: User, archive_path: Path, report: Progress,
                ledger: Ledger, extract_to: Path) -> ImportSummary:
    if is_zip(archive_path):
        try:
            extracted = open_untrusted_zip(archive_path, settings=settings, dest=extract_to)
        except ArchiveRefused as refused:
            raise ImportRefused(refused.message) from None
        base, kind = _find_payload(extracted.files)
        files = {name[len(base):]: path for name, path in extracted.files.items() if name.startswith(base)}
        if kind == "folio":
            return _import_folio(session, settings, student, files, report, ledger)
        xml_bytes = read_limited(files["leap2a.xml"], MAX_XML_BYTES)
        return _import_leap(session, settings, student, xml_bytes, files, report, ledger)
    if _looks_like_xml(archive_path):
        if archive_path.stat().st_size > MAX_XML_BYTES:
            raise ImportRefused(_("This Leap2A file is too large to import."))
        return _import_leap(session, settings, student, archive_path.read_bytes(), {}, report, ledger)
    raise ImportRefused(_("This file isn't a Folio archive or a Mahara export. Choose the .zip file Folio or "
                          "Mahara made, or a Leap2A .xml file."))


def _looks_like_xml(path: Path) -> bool:
    with open(path, "rb") as handle:
        head = handle.read(1024)
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"<")


def _find_payload(files: dict[str, Path]) -> tuple[str, str]:
    """Where portfolio.json (a Folio archive) or leap2a.xml (Mahara) sits: at the root, or in one top folder."""
    for base in _bases(files):
        if base + "portfolio.json" in files:
            return base, "folio"
        if base + "leap2a.xml" in files:
            return base, "leap2a"
    raise ImportRefused(_("This archive has neither a portfolio.json (a Folio archive) nor a leap2a.xml (a Mahara "
                          "export), so Folio can't tell what to import."))


def _bases(files: dict[str, Path]) -> list[str]:
    bases = [""]
    tops = {name.split("/", 1)[0] for name in files if "/" in name}
    if len(tops) == 1 and all("/" in name for name in files):
        bases.append(tops.pop() + "/")
    return bases




# --- Leap2A (Mahara) ---------------------------------------------------------------------------------------


def _import_leap(session: Session, settings: Settings, student: User, xml_bytes: bytes, files: dict[str, Path],
                 report: Progress, ledger: Ledger) -> ImportSummary:
    from app.services.exports.leap2a_import import Leap2AError, import_leap2a

    report(1, 4, _("Importing from Leap2A"))
    try:
        result = import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml_bytes, files=files,
                               ledger=ledger)
    except Leap2AError as error:
        raise ImportRefused(error.message) from None
    return ImportSummary(kind="leap2a", artefacts=result.artefacts, reflections=result.reflections, goals=result.goals,
                         showcases=result.showcases, about=result.about, skipped=result.skipped,
                         already_here=[entry.line() for entry in result.already_here],
                         not_imported=[entry.line() for entry in result.not_imported], messages=list(result.messages))


# --- Folio archives: importing -----------------------------------------------------------------------------


def _import_folio(session: Session, settings: Settings, student: User, files: dict[str, Path],
                  report: Progress, ledger: Ledger) -> ImportSummary:
    document = load_document(files["portfolio.json"])
    # Files a previous run of this import already stored are counted in the student's storage already.
    done = {doc["ref"] for doc in document["artefacts"] if ledger.existing(_artefact_key(doc)) is not None}
    sources = check_files(document, files, settings, student, already_imported=done)
    summary = ImportSummary(kind="folio")
    _create_everything(session, settings, student, document, sources, summary, report, ledger)
    return summary


def _artefact_key(doc: dict) -> str:
    return "artefact:" + doc["ref"]


def _at(value: str | None):
    return portfolio_json.parse_timestamp(value)


def _create_everything(session: Session, settings: Settings, student: User, document: dict, sources: dict[str, Path],
                       summary: ImportSummary, report: Progress, ledger: Ledger) -> None:
    matcher = Matcher(session, student, document)
    history = HistoryNote(label=matcher.label)
    artefact_ids: dict[str, int] = {}
    titles: dict[str, str] = {}

    # Recordings come in private, whatever an older archive says: they are heard with their reflection (or, for a
    # spoken caption, with its evidence); a teacher's spoken feedback stays the student's own, named in the history.
    captions = {doc["ref"]: doc["audio_caption"] for doc in document["artefacts"] if doc.get("audio_caption")}
    recordings = {doc["audio"] for doc in document["reflections"] if doc["audio"]} | set(captions.values())
    recordings |= {doc["audio"] for doc in feedback_comments(document) if doc.get("audio")}
    total = len(document["artefacts"])
    for number, doc in enumerate(document["artefacts"], start=1):
        existing = ledger.existing(_artefact_key(doc))
        if existing is not None:  # committed by an earlier run of this import
            artefact_ids[doc["ref"]] = existing
            titles[doc["ref"]] = doc["title"]
            summary.artefacts += 1
            continue
        competency_ids, unmatched = matcher.split(doc["competencies"])
        tags = artefact_service.normalise_tags(",".join(doc["tags"] + [matcher.label(r).replace(",", " ").lower() for r in unmatched]))
        data = artefact_service.ArtefactInput(
            title=doc["title"], description=doc["description"], occurred_on=date.fromisoformat(doc["occurred_on"]),
            audience=Audience.private if doc["ref"] in recordings else Audience(doc["audience"]), tags=tags,
            competency_ids=competency_ids, body=doc["body"], url=doc["url"] or "",
        )
        kind = ArtefactKind(doc["kind"])
        if kind is ArtefactKind.file:
            ledger.before_slow_work()
        if not ledger.pending:  # (a write now would wait for this import's own uncommitted batch)
            report(1, 4, _("Importing evidence (%(done)s of %(total)s)", done=number, total=total))
        if kind is ArtefactKind.file:
            source = sources.get(doc["ref"])
            if source is None:
                summary.skipped += 1
                summary.messages.append(_("“%(title)s” wasn't imported: its file wasn't in the archive.", title=doc["title"]))
                continue
            try:
                stored = stored_files.store_path(path=source, store=file_storage.uploads(settings), owner_id=student.id,
                                                 original_name=doc["file"]["original_name"] or source.name)
            except stored_files.FileRefused as refused:
                raise ImportRefused(refused.message) from None
            ledger.uncommitted_files.append(stored)
            if badge := doc["file"].get("badge"):  # the exported picture lost it with its metadata
                stored = dataclasses.replace(stored, badge_version=badge["version"], badge_payload=badge["payload"])
            try:
                artefact = artefact_service.create_file_artefacts(
                    session=session, owner=student, files=[stored], data=data, quota_bytes=settings.student_quota_bytes)[0]
            except storage.QuotaExceeded as full:  # an upload took the space since check_files looked
                raise ImportRefused(full.message) from None
        else:
            artefact = artefact_service.create_text_artefact(session=session, owner=student, kind=kind, data=data)
        artefact.created_at, artefact.updated_at = _at(doc["created_at"]), _at(doc["updated_at"])
        session.add(artefact)
        artefact_ids[doc["ref"]] = artefact.id
        titles[doc["ref"]] = doc["title"]
        summary.artefacts += 1
        ledger.record(_artefact_key(doc), artefact.id)
    session.flush()
    link_captions(session=session, captions=captions, artefact_ids=artefact_ids, titles=titles, summary=summary)

    report(2, 4, _("Importing goals and reflections"))
    goal_ids: dict[str, int] = {}
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

    reflection_ids: dict[str, int] = {}
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

    for ref, (goal, doc) in goals_by_ref.items():
        if doc["closing_reflection"]:
            goal.closing_reflection_id = reflection_ids[doc["closing_reflection"]]
        goal.created_at, goal.updated_at = _at(doc["created_at"]), _at(doc["updated_at"])
        session.add(goal)
        session.flush()
        timeline.sync_goal(session=session, goal=goal)

    report(3, 4, _("Importing assessments and showcases"))
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

    for doc in document["feedback"]:
        history.feedback(doc, titles.get(doc["on"], doc["on"]), recordings=titles)

    summary.credentials = len(document.get("credentials", []))

    item_ids = {"artefact": artefact_ids, "reflection": reflection_ids, "goal": goal_ids}
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
                continue  # not re-issued here (see the module's docstring); the summary says why
            if item["type"] == "competency":
                competency = matcher.competency(item["competency"])
                if competency is None:
                    history.unmatched_links(doc["title"], [item["competency"]])
                    continue
                item_id = competency.id
            else:
                item_id = item_ids[item["type"]].get(item["ref"])
                if item_id is None:
                    continue
            if (item["type"], item_id) in seen:
                continue
            seen.add((item["type"], item_id))
            session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType(item["type"]), target_id=item_id,
                                     position=item["position"], talking_points=item["talking_points"]))
        summary.showcases += 1

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
