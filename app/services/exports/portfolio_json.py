"""portfolio.json: a student's whole portfolio as one documented, versioned JSON document (docs/portfolio-json.md,
schema in app/schemas/portfolio-v1.schema.json).

Items refer to each other by stable refs ("artefact-3", "reflection-1", "goal-2"), never database ids: refs are
given in a fixed order (created_at, then title, then kind), so two exports of the same portfolio are identical
apart from `exported_at`, and an export of an imported portfolio gives the same refs again.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

from sqlmodel import Session, select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    ArtefactTag,
    CheckIn,
    CheckInArtefact,
    CheckInStep,
    Comment,
    CommentStatus,
    Competency,
    CompetencyRating,
    Framework,
    Goal,
    GoalCompetency,
    GoalStep,
    ItemType,
    ProficiencyLevel,
    RatingArtefact,
    RatingSource,
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    ReflectionGoal,
    School,
    Showcase,
    ShowcaseItem,
    ShowcaseItemType,
    Tag,
    User,
)
from app.config import Settings
from app.models.base import utcnow
from app.services.badges import imported as imported_badges
from app.services.exports import export_credentials
from app.storage import Storage

FORMAT = "folio-portfolio"
VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "portfolio-v1.schema.json"  # app/schemas
FILES_PREFIX = "files/"


def load_schema() -> dict:
    """The JSON Schema (draft 2020-12) of portfolio.json version 1."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def timestamp(value: datetime | None) -> str | None:
    """A datetime as ISO 8601 in UTC ("2026-11-23T09:30:00.123456+00:00"); naive values are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def parse_timestamp(value: str | None) -> datetime | None:
    """The inverse of timestamp(): an aware UTC datetime, or None."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def safe_file_name(name: str) -> str:
    """A name safe in any ZIP and file system: ASCII letters, digits, dot, dash, underscore; ≤ 100 characters."""
    base = unicodedata.normalize("NFKD", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base.encode("ascii", "ignore").decode()).strip("-.")
    return (cleaned or "file")[-100:]


def archive_file_name(artefact: Artefact) -> str:
    """The original's name in the archive: its safe stem with the extension Folio decided from its content."""
    name = artefact.original_name or artefact.title or "file"
    extension = PurePosixPath(artefact.stored_name or "").suffix.lower()
    if extension:
        stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        name = f"{stem or 'file'}{extension}"
    return safe_file_name(name)


def sha256_of(path: Path) -> str:
    with open(path, "rb") as handle:
        return _sha256_of_stream(handle)


def _sha256_of_stream(handle) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def _stored_size(store: Storage | None, stored_name: str | None) -> int | None:
    """The stored file's size, or None when there is no store, no file, or a name that would leave the store."""
    if store is None or not stored_name:
        return None
    try:
        info = store.info(stored_name)
    except ValueError:
        return None
    return info.size if info is not None else None


def _stored_sha256(store: Storage, stored_name: str) -> str:
    with store.open(stored_name) as handle:
        return _sha256_of_stream(handle)


@dataclass
class ExportedFile:
    """One original file to put in the archive."""

    artefact_id: int
    archive_path: str  # e.g. "files/artefact-3-poster.jpg"
    key: str  # its stored name in the file store
    size: int = 0


@dataclass
class ExportedCredential:
    """One credential's signed JSON to put in the archive, byte for byte as issued."""

    archive_path: str  # e.g. "credentials/credential-<public id>.json"
    content: bytes


@dataclass
class Serialized:
    document: dict
    files: list[ExportedFile] = field(default_factory=list)
    credentials: list[ExportedCredential] = field(default_factory=list)

    @property
    def file_paths(self) -> dict[int, str]:
        """Artefact id → the path of its original file in the archive."""
        return {f.artefact_id: f.archive_path for f in self.files}


def _order_key(created: datetime, title: str, *rest) -> tuple:
    return (timestamp(created) or "", title, *rest)


def serialize_portfolio(*, session: Session, settings: Settings, student: User, store: Storage | None = None,
                        exported_at: datetime | None = None) -> dict:
    """`student`'s portfolio as a portfolio.json document (a constant number of queries). With `store`,
    each file's sha256 is computed from the stored file."""
    return collect(session=session, settings=settings, student=student, store=store, exported_at=exported_at).document


def collect(*, session: Session, settings: Settings, student: User, store: Storage | None = None,
            exported_at: datetime | None = None) -> Serialized:
    """The portfolio.json document plus the original files to place beside it in an archive."""
    school = session.get(School, student.school_id)
    sid = student.id

    artefacts = list(session.exec(select(Artefact).where(Artefact.owner_id == sid)).all())
    artefacts.sort(key=lambda a: _order_key(a.created_at, a.title, a.kind.value, a.id))
    artefact_refs = {a.id: f"artefact-{n}" for n, a in enumerate(artefacts, start=1)}
    badges = imported_badges.badges_of(session=session, artefact_ids=[a.id for a in artefacts
                                                                      if a.kind is ArtefactKind.file])

    reflections = list(session.exec(select(Reflection).where(Reflection.owner_id == sid)).all())
    reflections.sort(key=lambda r: _order_key(r.created_at, r.title, r.id))
    reflection_refs = {r.id: f"reflection-{n}" for n, r in enumerate(reflections, start=1)}

    goals = list(session.exec(select(Goal).where(Goal.owner_id == sid)).all())
    goals.sort(key=lambda g: _order_key(g.created_at, g.title, g.id))
    goal_refs = {g.id: f"goal-{n}" for n, g in enumerate(goals, start=1)}

    # Links, each one query for all items.
    tags: dict[int, list[str]] = {}
    for artefact_id, name in session.exec(
        select(ArtefactTag.artefact_id, Tag.name).join(Tag, Tag.id == ArtefactTag.tag_id).where(Tag.owner_id == sid)
    ).all():
        tags.setdefault(artefact_id, []).append(name)

    def links(key_column, value_column, owner_model, owner_key) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        rows = session.exec(select(key_column, value_column).join(owner_model, owner_model.id == key_column)
                            .where(owner_key == sid)).all()
        for key, value in rows:
            found.setdefault(key, []).append(value)
        return found

    artefact_competencies = links(ArtefactCompetency.artefact_id, ArtefactCompetency.competency_id,
                                  Artefact, Artefact.owner_id)
    reflection_artefacts = links(ReflectionArtefact.reflection_id, ReflectionArtefact.artefact_id,
                                 Reflection, Reflection.owner_id)
    reflection_goals = links(ReflectionGoal.reflection_id, ReflectionGoal.goal_id, Reflection, Reflection.owner_id)
    reflection_competencies = links(ReflectionCompetency.reflection_id,
                                    ReflectionCompetency.competency_id, Reflection, Reflection.owner_id)
    goal_competencies = links(GoalCompetency.goal_id, GoalCompetency.competency_id, Goal, Goal.owner_id)

    steps: dict[int, list[GoalStep]] = {}
    for step in session.exec(select(GoalStep).join(Goal, Goal.id == GoalStep.goal_id).where(Goal.owner_id == sid)
                             .order_by(GoalStep.position, GoalStep.id)).all():
        steps.setdefault(step.goal_id, []).append(step)
    checkins: dict[int, list[CheckIn]] = {}
    for checkin in session.exec(select(CheckIn).join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)).all():
        checkins.setdefault(checkin.goal_id, []).append(checkin)
    checkin_artefacts: dict[int, list[int]] = {}
    for checkin_id, artefact_id in session.exec(
        select(CheckInArtefact.checkin_id, CheckInArtefact.artefact_id).join(CheckIn, CheckIn.id == CheckInArtefact.checkin_id)
        .join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)
    ).all():
        checkin_artefacts.setdefault(checkin_id, []).append(artefact_id)
    checkin_steps: dict[int, list[int]] = {}
    for checkin_id, step_id in session.exec(
        select(CheckInStep.checkin_id, CheckInStep.step_id).join(CheckIn, CheckIn.id == CheckInStep.checkin_id)
        .join(Goal, Goal.id == CheckIn.goal_id).where(Goal.owner_id == sid)
    ).all():
        checkin_steps.setdefault(checkin_id, []).append(step_id)

    ratings = session.exec(
        select(CompetencyRating, ProficiencyLevel.label, User.display_name)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id == sid)
    ).all()
    rating_artefacts: dict[int, list[int]] = {}
    for rating_id, artefact_id in session.exec(
        select(RatingArtefact.rating_id, RatingArtefact.artefact_id)
        .join(CompetencyRating, CompetencyRating.id == RatingArtefact.rating_id).where(CompetencyRating.student_id == sid)
    ).all():
        rating_artefacts.setdefault(rating_id, []).append(artefact_id)

    comments = session.exec(
        select(Comment, User.display_name).join(User, User.id == Comment.author_id)
        .where(Comment.owner_id == sid, Comment.status == CommentStatus.visible)
    ).all()

    # Credentials in issue order: their refs stay stable, and each file is its signed document as issued.
    credentials = export_credentials.credentials_of(session=session, settings=settings, student_id=sid)
    credential_refs = {view.credential.id: f"credential-{n}" for n, view in enumerate(credentials, start=1)}

    showcases = list(session.exec(select(Showcase).where(Showcase.owner_id == sid)).all())
    showcases.sort(key=lambda s: _order_key(s.created_at, s.title, s.id))
    showcase_items: dict[int, list[ShowcaseItem]] = {}
    for item in session.exec(select(ShowcaseItem).join(Showcase, Showcase.id == ShowcaseItem.showcase_id)
                             .where(Showcase.owner_id == sid).order_by(ShowcaseItem.position, ShowcaseItem.id)).all():
        showcase_items.setdefault(item.showcase_id, []).append(item)

    # The competencies used anywhere, with their ancestors, frameworks and scales (three queries).
    used = {c for ids in (*artefact_competencies.values(), *reflection_competencies.values(), *goal_competencies.values())
            for c in ids}
    used |= {rating.competency_id for rating, _label, _name in ratings}
    used |= {item.competency_id for items in showcase_items.values() for item in items
             if item.item_type is ShowcaseItemType.competency}
    competencies: dict[int, Competency] = {}
    framework_ids: set[int] = set()
    if used:
        rows = session.exec(select(Competency).where(Competency.framework_id.in_(
            select(Competency.framework_id).where(Competency.id.in_(used))))).all()
        everything = {c.id: c for c in rows}
        for competency_id in used:
            current = everything.get(competency_id)
            while current is not None and current.id not in competencies:
                competencies[current.id] = current
                current = everything.get(current.parent_id) if current.parent_id else None
        framework_ids = {c.framework_id for c in competencies.values()}
    frameworks = {f.id: f for f in session.exec(select(Framework).where(Framework.id.in_(framework_ids))).all()} \
        if framework_ids else {}
    levels: dict[int, list[ProficiencyLevel]] = {}
    if framework_ids:
        for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(framework_ids))
                                  .order_by(ProficiencyLevel.position, ProficiencyLevel.id)).all():
            levels.setdefault(level.framework_id, []).append(level)

    def competency_ref(competency_id: int) -> dict | None:
        competency = competencies.get(competency_id)
        if competency is None:
            return None
        return {"framework": frameworks[competency.framework_id].name, "code": competency.code}

    def competency_refs(ids: list[int] | None) -> list[dict]:
        found = [ref for ref in (competency_ref(i) for i in ids or []) if ref]
        return sorted(found, key=lambda r: (r["framework"], r["code"]))

    def refs(ids: list[int] | None, table: dict[int, str]) -> list[str]:
        return sorted((table[i] for i in ids or [] if i in table), key=_ref_key)

    # --- the document ---
    exported_files: list[ExportedFile] = []
    artefact_docs = []
    for artefact in artefacts:
        ref = artefact_refs[artefact.id]
        file_doc = None
        if artefact.kind is ArtefactKind.file:
            size = _stored_size(store, artefact.stored_name)
            archive_path = f"{FILES_PREFIX}{ref}-{archive_file_name(artefact)}"
            if size is not None:
                exported_files.append(ExportedFile(artefact.id, archive_path, artefact.stored_name, size))
            file_doc = {
                "path": archive_path if size is not None or store is None else None,
                "original_name": artefact.original_name or "",
                "content_type": artefact.content_type or "application/octet-stream",
                "media_kind": artefact.media_kind.value if artefact.media_kind else None,
                "size": size if size is not None else artefact.size_bytes,
                "sha256": _stored_sha256(store, artefact.stored_name) if size is not None else None,
            }
            if badge := badges.get(artefact.id):
                # The stored picture carries no metadata: its badge travels here, as baked.
                file_doc["badge"] = {"version": badge.version, "payload": badge.payload}
        artefact_docs.append({
            "ref": ref, "kind": artefact.kind.value, "title": artefact.title, "description": artefact.description,
            "occurred_on": day(artefact.occurred_on), "audience": artefact.audience.value, "body": artefact.body,
            "url": artefact.url, "file": file_doc, "tags": sorted(tags.get(artefact.id, [])),
            # A spoken caption is written as a reflection's recording is: a ref to its (private) audio artefact.
            "audio_caption": artefact_refs.get(artefact.audio_artefact_id) if artefact.audio_artefact_id else None,
            "competencies": competency_refs(artefact_competencies.get(artefact.id)),
            "created_at": timestamp(artefact.created_at), "updated_at": timestamp(artefact.updated_at),
        })

    reflection_docs = [{
        "ref": reflection_refs[r.id], "title": r.title, "body": r.body, "audience": r.audience.value,
        "status": r.status.value, "audio": artefact_refs.get(r.audio_artefact_id) if r.audio_artefact_id else None,
        "artefacts": refs(reflection_artefacts.get(r.id), artefact_refs),
        "goals": refs(reflection_goals.get(r.id), goal_refs),
        "competencies": competency_refs(reflection_competencies.get(r.id)),
        "created_at": timestamp(r.created_at), "updated_at": timestamp(r.updated_at),
        "published_at": timestamp(r.published_at),
    } for r in reflections]

    goal_docs = []
    for goal in goals:
        goal_steps = steps.get(goal.id, [])
        step_index = {step.id: index for index, step in enumerate(goal_steps)}
        goal_checkins = sorted(checkins.get(goal.id, []), key=lambda c: (c.occurred_on, timestamp(c.created_at) or "", c.note, c.id))
        goal_docs.append({
            "ref": goal_refs[goal.id], "title": goal.title, "why": goal.why, "success_criteria": goal.success_criteria,
            "target_date": day(goal.target_date), "status": goal.status.value, "audience": goal.audience.value,
            "achieved_at": timestamp(goal.achieved_at),
            "closing_reflection": reflection_refs.get(goal.closing_reflection_id) if goal.closing_reflection_id else None,
            "competencies": competency_refs(goal_competencies.get(goal.id)),
            "steps": [{"text": s.text, "done": s.done, "done_at": timestamp(s.done_at)} for s in goal_steps],
            "checkins": [{
                "occurred_on": day(c.occurred_on), "note": c.note, "created_at": timestamp(c.created_at),
                "evidence": refs(checkin_artefacts.get(c.id), artefact_refs),
                "steps": sorted(step_index[s] for s in checkin_steps.get(c.id, []) if s in step_index),
            } for c in goal_checkins],
            "created_at": timestamp(goal.created_at), "updated_at": timestamp(goal.updated_at),
        })

    rating_docs = []
    for rating, label, rater_name in ratings:
        competency = competency_ref(rating.competency_id)
        if competency is None:
            continue
        rating_docs.append({
            "competency": competency, "source": rating.source.value, "level": label, "reason": rating.reason,
            "artefacts": refs(rating_artefacts.get(rating.id), artefact_refs),
            "rater": rater_name if rating.source is RatingSource.teacher else None,
            "created_at": timestamp(rating.created_at),
        })
    rating_docs.sort(key=lambda r: (r["created_at"], r["competency"]["framework"], r["competency"]["code"], r["source"],
                                    r["level"], r["reason"]))

    item_refs = {ItemType.artefact: artefact_refs, ItemType.reflection: reflection_refs, ItemType.goal: goal_refs}
    ref_of_item = {**artefact_refs, **reflection_refs, **goal_refs}  # item ids are unique across types
    by_parent: dict[int, list[tuple[Comment, str]]] = {}
    top: list[tuple[Comment, str]] = []
    for comment, author in comments:
        if comment.parent_id is None:
            top.append((comment, author))
        else:
            by_parent.setdefault(comment.parent_id, []).append((comment, author))

    def comment_doc(comment: Comment, author: str) -> dict:
        return {
            "author": author, "author_role": comment.kind.value, "body": comment.body, "noticed": comment.noticed,
            "wonder": comment.wonder, "next_time": comment.next_time, "next_step": comment.next_step,
            # A teacher's spoken feedback: its recording is kept in the student's folder, so it travels with the
            # archive as a private audio artefact, named here so it stays the teacher's words on this item.
            "audio": artefact_refs.get(comment.audio_artefact_id) if comment.audio_artefact_id else None,
            "created_at": timestamp(comment.created_at),
        }

    def comment_key(doc: dict) -> tuple:
        return (doc["created_at"], doc["author"], doc["body"], doc["noticed"])

    feedback_docs = []
    for comment, author in top:
        on = ref_of_item.get(comment.item_id)
        if on is None:
            continue
        doc = {"on": on, **comment_doc(comment, author)}
        doc["replies"] = sorted((comment_doc(c, a) for c, a in by_parent.get(comment.id, [])), key=comment_key)
        feedback_docs.append(doc)
    feedback_docs.sort(key=lambda d: (_ref_key(d["on"]), *comment_key(d)))

    showcase_docs = []
    for showcase in showcases:
        items = []
        for item in showcase_items.get(showcase.id, []):
            entry: dict = {"type": item.item_type.value, "position": item.position, "talking_points": item.talking_points}
            if item.item_type is ShowcaseItemType.competency:
                competency = competency_ref(item.competency_id)
                if competency is None:
                    continue
                entry["competency"] = competency
            elif item.item_type is ShowcaseItemType.credential:
                if item.credential_id not in credential_refs:
                    continue
                entry["ref"] = credential_refs[item.credential_id]
            else:
                ref = item_refs[ItemType(item.item_type.value)].get(item.item_id)
                if ref is None:
                    continue
                entry["ref"] = ref
            items.append(entry)
        showcase_docs.append({
            "title": showcase.title, "introduction": showcase.introduction, "audience": showcase.audience.value,
            "ready": showcase.ready, "items": items,
            "created_at": timestamp(showcase.created_at), "updated_at": timestamp(showcase.updated_at),
        })

    exported_credentials = [ExportedCredential(export_credentials.archive_path(view), export_credentials.file_bytes(view))
                            for view in credentials]
    credential_docs = [{
        "ref": credential_refs[view.credential.id], "achievement": view.name, "issuer": view.issuer_name,
        "issued_at": timestamp(view.issued_at), "revoked_at": timestamp(view.credential.revoked_at),
        "id": view.document.get("id", view.json_url), "verify_url": view.verify_url,
        "path": exported.archive_path, "sha256": hashlib.sha256(exported.content).hexdigest(),
    } for view, exported in zip(credentials, exported_credentials)]

    framework_docs = []
    for framework in sorted(frameworks.values(), key=lambda f: f.name):
        used_here = sorted((c for c in competencies.values() if c.framework_id == framework.id), key=lambda c: c.code)
        framework_docs.append({
            "name": framework.name,
            "levels": [{"label": level.label, "descriptor": level.descriptor, "position": level.position}
                       for level in levels.get(framework.id, [])],
            "competencies": [{
                "code": c.code, "name": c.name,
                "parent_code": competencies[c.parent_id].code if c.parent_id in competencies else None,
            } for c in used_here],
        })

    document = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timestamp(exported_at or utcnow()),
        "student": {"display_name": student.display_name, "username": student.username},
        "school": {"name": school.name if school else ""},
        "frameworks": framework_docs,
        "artefacts": artefact_docs,
        "reflections": reflection_docs,
        "goals": goal_docs,
        "ratings": rating_docs,
        "feedback": feedback_docs,
        "showcases": showcase_docs,
        "credentials": credential_docs,
    }
    return Serialized(document=document, files=exported_files, credentials=exported_credentials)


def _ref_key(ref: str) -> tuple[str, int]:
    kind, _, number = ref.rpartition("-")
    return (kind, int(number) if number.isdigit() else 0)


def dumps(document: dict) -> str:
    """portfolio.json's text: UTF-8, sorted keys, two-space indent (so two exports compare line by line)."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
