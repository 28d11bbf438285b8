"""Leap2A import: a Mahara (or Folio) leap2a.xml and its files, added to a student's portfolio.

Mapping (Leap2A → Folio), everything the student's own and private:
- resource with a file (`<content src>` or `<link rel="enclosure">`) → file artefact, stored like an upload
  (type sniffed from the content, photos cleaned of metadata, thumbnails made, quota counted);
- journal posts (entries in a selection of type Blog, or mahara blogpost) → published reflections
  (drafts when marked Unready), HTML turned into Markdown; the images they show that came in the archive are kept
  in the text (at their Folio address) and linked as evidence, as are their attachments;
- other entries (Mahara text boxes, notes) → notes; an entry that is just a web address → a link;
- plans → goals; their tasks (has_part / is_part_of plans, or mahara task) → steps, done when completed;
- the résumé → goals and tagged notes (leap2a_resume); pages and collections → showcases (leap2a_views);
- the profile's introduction ("about me") → the account's About me, if it has none yet (else a note);
- plain categories (no scheme, or a tag scheme) → tags, as written; leap2:date (start) or published → the date.
Entries an earlier import brought in from the same Mahara account are skipped unless copies were asked for; every
entry skipped is named in the summary with its type, its title and why.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlmodel import Session, select

from app import storage as file_storage
from app.config import Settings
from app.i18n import _
from app.models import Artefact, ArtefactKind, Audience, GoalStatus, MediaKind, Reflection, ReflectionStatus, User
from app.models.base import utcnow
from app.services.exports.import_keys import Ledger
from app.services.exports.leap2a import CAPTION_ROLE, RECORDING_ROLE
from app.services.exports.leap2a_evidence import (
    embedded_files, image_resolver, import_note, import_resource, keep_dates, normalised_files,
)
from app.services.exports.leap2a_feed import (
    ATOM, Entry, Leap2AError, category_terms, entry_content, entry_dates, entry_relations, entry_tags, feed_source,
    is_completed, last_part, parse_feed, read_entry, stages, summary_text,
)
from app.services.exports.leap2a_resume import import_resume_entry, is_container, is_resume
from app.services.exports.leap2a_run import ImportSummary, Run, SkippedEntry, title_of
from app.services.exports.leap2a_views import import_showcases, is_collection, is_page
from app.services.portfolio import goals
from app.services.portfolio import reflections
from app.services.portfolio import timeline
from app.services.portfolio import stored_files
from app.services.portfolio.goal_forms import MAX_STEP, MAX_STEPS, GoalData

__all__ = ["ImportSummary", "Leap2AError", "SkippedEntry", "import_leap2a"]

log = logging.getLogger(__name__)

LINKING_RELATIONS = {"has_attachment", "relation", "related", "has_evidence", "supported_by", "reflects_on"}
REVERSE_LINKING_RELATIONS = {"is_attachment_of", "is_evidence_of", "supports", "reflected_on_by"}
ABOUT_TYPES = {"introduction", "aboutme"}


def import_leap2a(*, session: Session, settings: Settings, student: User, xml_bytes: bytes, files: dict[str, Path],
                  ledger: Ledger | None = None) -> ImportSummary:
    """Add what a Leap2A feed holds to `student`'s portfolio, in the caller's transaction (no commit).

    With a `ledger` (an import job's), evidence is committed in its batches and what the ledger's scope already
    created is skipped, as is what earlier imports from the same Mahara account brought in (unless the ledger was
    told to make copies); the rest is left for the caller to commit. Files stored in an uncommitted batch are then
    the ledger's to remove if it is rolled back."""
    root = parse_feed(xml_bytes)
    entries = [read_entry(element) for element in root.findall(f"{{{ATOM}}}entry")]
    if not entries:
        raise Leap2AError(_("This Leap2A file has no entries to import."))
    summary = ImportSummary()
    run = Run(session=session, settings=settings, student=student, files=normalised_files(files), summary=summary,
              ledger=ledger, source=feed_source(root), by_id={entry.id: entry for entry in entries if entry.id})
    try:
        _import_entries(run, entries)
    except BaseException:
        stored_files.discard(store=file_storage.uploads(settings), files=summary.stored_files)
        summary.stored_files.clear()
        raise
    return summary


# --- importing ----------------------------------------------------------------------------------------


def _structure(entries: list[Entry]) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """Each entry's parents, and its parts in their display order."""
    parents: dict[str, set[str]] = {entry.id: set() for entry in entries}
    children: dict[str, list[str]] = {entry.id: [] for entry in entries}
    for entry in entries:
        for href in entry_relations(entry, "is_part_of"):
            parents[entry.id].add(href)
            if href in children and entry.id not in children[href]:
                children[href].append(entry.id)
    for entry in entries:
        listed = [href for href in entry_relations(entry, "has_part") if href in parents]
        for href in listed:
            parents[href].add(entry.id)
        if listed:  # the parent's own list (and display order) wins over the order the parts appear in
            ordered = sorted(dict.fromkeys(listed), key=lambda h: entry.part_orders.get(h, len(listed)))
            children[entry.id] = ordered + [c for c in children[entry.id] if c not in ordered]
    return parents, children


def _import_entries(run: Run, entries: list[Entry]) -> None:
    by_id = run.by_id
    parents, children = _structure(entries)
    blogs = {entry.id for entry in entries
             if entry.leap_type == "selection" and ("blog" in category_terms(entry, "selection_type") or entry.mahara_type == "blog")}

    def is_task(entry: Entry) -> bool:
        return entry.leap_type == "plan" and any(p in by_id and by_id[p].leap_type == "plan" for p in parents[entry.id])

    if run.ledger is not None and run.source:  # a feed that doesn't say where it is from can't be recognised
        run.earlier = run.ledger.earlier([run.key(entry, index) for index, entry in enumerate(entries)])

    # Evidence first, so journal posts can link to what they were attached to and show the images they embed.
    posts: list[Entry] = []
    plans: list[Entry] = []
    later: list[tuple[int, Entry]] = []  # résumé entries and "about me": after the files their HTML may show
    for index, entry in enumerate(entries):
        if entry.leap_type == "person" or entry.id in blogs or is_container(entry) or is_page(entry) or is_collection(entry):
            continue  # the author, journals, résumé groups: their parts are imported; pages come last, as showcases
        if entry.leap_type == "plan":
            if not is_task(entry):
                plans.append(entry)
            continue  # tasks come in with their plan
        if entry.mahara_plugin == "comment" or entry.mahara_type == "comment":
            run.skip(entry, _("comments aren't imported."))
            continue
        if entry.leap_type == "entry" and (entry.mahara_type == "blogpost" or parents[entry.id] & blogs):
            entry.mahara_type = "blogpost"  # named a journal entry in the summary, whoever wrote the feed
            posts.append(entry)
            continue
        if is_resume(entry) or entry.mahara_type in ABOUT_TYPES:
            later.append((index, entry))
            continue
        if entry.leap_type not in ("resource", "entry"):
            run.skip(entry, _("Folio has nothing to keep it in."))
            continue
        _once(run, entry, index, lambda e: _evidence(run, e))
    _known_images(run)
    for index, entry in later:
        if entry.mahara_type in ABOUT_TYPES:
            _import_about(run, entry)
        else:
            _once(run, entry, index, lambda e: import_resume_entry(run, e), counter="resume")
    evidence: dict[str, set[int]] = {entry.id: set() for entry in posts}
    # A reflection's recording is attached to its entry, but it is heard with it, not evidence (_link_recordings).
    recordings = {entry.id for entry in entries if RECORDING_ROLE in category_terms(entry, "portfolio:role")}
    for entry in entries:
        for rel, href in entry.links:
            if entry.id in recordings or href in recordings:
                continue
            relation = last_part(rel)
            if relation in LINKING_RELATIONS and entry.id in evidence and href in run.imported:
                evidence[entry.id].add(run.imported[href])
            elif relation in REVERSE_LINKING_RELATIONS and href in evidence and entry.id in run.imported:
                evidence[href].add(run.imported[entry.id])
    post_ids, plan_ids = {id(entry) for entry in posts}, {id(entry) for entry in plans}
    for index, entry in enumerate(entries):
        if id(entry) in post_ids:
            _once(run, entry, index, lambda e: _import_reflection(run, e, evidence[e.id]), counter="reflections")
        elif id(entry) in plan_ids:
            steps = [by_id[c] for c in children[entry.id] if c in by_id and by_id[c].leap_type == "plan"]
            _once(run, entry, index, lambda e: _import_goal(run, e, steps), counter="goals")
    post_parents = {blog: [c for c in children[blog] if c in run.imported] for blog in blogs}
    import_showcases(run, entries, post_parents)
    _link_recordings(run.session, entries, run.imported)
    for skipped in run.summary.not_imported:
        log.info("Leap2A import for user %s skipped %s “%s”: %s", run.student.id, skipped.kind, skipped.title, skipped.reason)


def _once(run: Run, entry: Entry, index: int, make, counter: str = "artefacts") -> None:
    """Import `entry` with `make` (which returns the item's id, or None if it skipped it) unless this import made it
    before its runner stopped (counted again) or an earlier import brought it in (named as already here)."""
    resumed = run.resumed(entry, index)
    if resumed is not None:
        if entry.id:
            run.imported[entry.id] = resumed
        if counter != "resume":
            setattr(run.summary, counter, getattr(run.summary, counter) + 1)
        return
    if run.here_already(entry, index):
        return
    item_id = make(entry)
    if item_id is not None:
        run.record(entry, item_id, index)


def _recording_pairs(entries: list[Entry], imported: dict[str, int], role: str) -> dict[int, int]:
    """{owner's item id: recording's artefact id} for the resources a Folio export marked with this portfolio:role#
    (app.services.exports.leap2a), each is_attachment_of what it belongs to."""
    pairs = {}
    for entry in entries:
        if entry.leap_type == "resource" and role in category_terms(entry, "portfolio:role") and entry.id in imported:
            owners = [imported[href] for href in entry_relations(entry, "is_attachment_of") if href in imported]
            if owners:
                pairs[owners[0]] = imported[entry.id]
    return pairs


def _link_recordings(session: Session, entries: list[Entry], imported: dict[str, int]) -> None:
    """Give evidence its spoken caption back, and a reflection its recording, for the entries a Folio export marked
    as one. As on upload, only a sound file of the student's is a recording; anything else stays a private file of
    its own."""
    captions = _recording_pairs(entries, imported, CAPTION_ROLE)
    spoken = _recording_pairs(entries, imported, RECORDING_ROLE)
    if not captions and not spoken:
        return
    wanted = set(captions) | set(captions.values()) | set(spoken.values())
    found = {a.id: a for a in session.exec(select(Artefact).where(Artefact.id.in_(wanted)))}
    reflections_found = {r.id: r for r in session.exec(select(Reflection).where(Reflection.id.in_(set(spoken))))} \
        if spoken else {}
    for owners, pairs in ((found, captions), (reflections_found, spoken)):
        for owner_id, audio_id in pairs.items():
            owner, audio = owners.get(owner_id), found.get(audio_id)
            if owner is not None and audio is not None and owner_id != audio_id and owner.owner_id == audio.owner_id \
                    and audio.media_kind is MediaKind.audio and not owner.audio_artefact_id:
                owner.audio_artefact_id = audio.id
                session.add(owner)
    session.flush()


def _evidence(run: Run, entry: Entry) -> int | None:
    made = import_resource(run, entry) if entry.leap_type == "resource" else import_note(run, entry)
    if made is not None and made.kind is ArtefactKind.file:
        run.images[made.id] = made.thumb_large is not None
    return made.id if made is not None else None


def _known_images(run: Run) -> None:
    """Files imported before (by an earlier run or import) can be shown in journal posts too (one query)."""
    ids = [item_id for item_id in set(run.imported.values()) if item_id not in run.images]
    for start in range(0, len(ids), 500):
        for artefact_id, large in run.session.exec(select(Artefact.id, Artefact.thumb_large).where(
                Artefact.id.in_(ids[start:start + 500]), Artefact.kind == ArtefactKind.file,
                Artefact.owner_id == run.student.id)).all():
            run.images[artefact_id] = large is not None


def _import_about(run: Run, entry: Entry) -> None:
    """The profile's introduction as the account's About me; kept as a note if the account has another one."""
    _type, text, _src = entry_content(entry, image_resolver(run))
    text = text.strip()
    if not text:
        return
    current = (run.student.about or "").strip()
    if current == text:
        run.already(entry)
        return
    if current:
        note = import_note(run, entry, extra_tags=[_("about me")])
        if note is not None:
            run.summary.messages.append(_("Your account already has an About me, so the one from Mahara was kept "
                                          "as a note, “%(title)s”.", title=note.title))
        return
    run.student.about = text[:5000]
    run.session.add(run.student)
    run.session.flush()
    run.summary.about = True


def _import_reflection(run: Run, entry: Entry, artefact_ids: set[int]) -> int:
    session, summary = run.session, run.summary
    _type, text, _src = entry_content(entry, image_resolver(run))
    draft = "unready" in category_terms(entry, "readiness")
    data = reflections.ReflectionInput(
        title=title_of(entry, _("Untitled reflection")), body=text, audience=Audience.private,
        status=ReflectionStatus.draft if draft else ReflectionStatus.published,
        artefact_ids=set(artefact_ids) | (embedded_files(text) & set(run.images)), tags=entry_tags(entry),
    )
    reflection = reflections.create_reflection(session=session, owner=run.student, data=data)
    keep_dates(session, reflection, entry)
    if not draft:
        reflection.published_at = entry.published or reflection.published_at
    session.add(reflection)
    session.flush()
    timeline.sync_reflection(session=session, reflection=reflection)
    summary.reflections += 1
    return reflection.id


def _import_goal(run: Run, entry: Entry, steps: list[Entry]) -> int:
    session, summary = run.session, run.summary
    _type, text, _src = entry_content(entry, image_resolver(run))
    step_texts = [(step.title or _("Step"))[:MAX_STEP] for step in steps][:MAX_STEPS]
    if len(steps) > MAX_STEPS:
        summary.messages.append(_("“%(title)s” has more than %(max)s tasks; only the first %(max)s were kept as steps.",
                                  title=title_of(entry, "?"), max=MAX_STEPS))
    data = GoalData(title=title_of(entry, _("Untitled goal")), why=text[:5000], success_criteria=summary_text(entry)[:5000],
                    target_date=entry_dates(entry).get("target"), audience=Audience.private, competency_ids=set(),
                    steps=step_texts, tags=entry_tags(entry))
    goal = goals.create_goal(session=session, owner=run.student, data=data)
    now = utcnow()
    for step, source in zip(goals.steps_of(session=session, goal=goal), steps):
        if is_completed(source):
            step.done = True
            step.done_at = source.updated or now
            session.add(step)
    if is_completed(entry):
        goal.status, goal.achieved_at = GoalStatus.achieved, entry.updated or now
    elif "paused" in stages(entry):
        goal.status = GoalStatus.paused
    elif {"abandoned", "dropped"} & set(stages(entry)):
        goal.status = GoalStatus.dropped
    keep_dates(session, goal, entry)
    timeline.sync_goal(session=session, goal=goal)
    summary.goals += 1
    return goal.id
