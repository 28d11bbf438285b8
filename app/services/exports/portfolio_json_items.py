"""portfolio.json's artefacts (with the original files to put beside them), reflections and goals."""

from __future__ import annotations

from app.models import ArtefactKind
from app.services.exports.portfolio_json import day, sorted_refs, timestamp
from app.services.exports.portfolio_json_competencies import competency_refs
from app.services.exports.portfolio_json_files import (
    FILES_PREFIX,
    ExportedFile,
    archive_file_name,
    stored_sha256,
    stored_size,
)
from app.services.exports.portfolio_json_rows import PortfolioRows
from app.storage import Storage


def artefact_docs(rows: PortfolioRows, store: Storage | None) -> tuple[list[dict], list[ExportedFile]]:
    """The artefacts' documents, and the original files the archive holds (with `store`, each file's sha256 is
    computed from the stored file)."""
    artefact_refs = rows.artefact_refs
    exported_files: list[ExportedFile] = []
    docs = []
    for artefact in rows.artefacts:
        ref = artefact_refs[artefact.id]
        file_doc = None
        if artefact.kind is ArtefactKind.file:
            size = stored_size(store, artefact.stored_name)
            archive_path = f"{FILES_PREFIX}{ref}-{archive_file_name(artefact)}"
            if size is not None:
                exported_files.append(ExportedFile(artefact.id, archive_path, artefact.stored_name, size))
            file_doc = {
                "path": archive_path if size is not None or store is None else None,
                "original_name": artefact.original_name or "",
                "content_type": artefact.content_type or "application/octet-stream",
                "media_kind": artefact.media_kind.value if artefact.media_kind else None,
                "size": size if size is not None else artefact.size_bytes,
                "sha256": stored_sha256(store, artefact.stored_name) if size is not None else None,
            }
            if badge := rows.badges.get(artefact.id):
                # The stored picture carries no metadata: its badge travels here, as baked.
                file_doc["badge"] = {"version": badge.version, "payload": badge.payload}
        docs.append({
            "ref": ref, "kind": artefact.kind.value, "title": artefact.title, "description": artefact.description,
            "occurred_on": day(artefact.occurred_on), "audience": artefact.audience.value, "body": artefact.body,
            "url": artefact.url, "file": file_doc, "tags": sorted(rows.tags.get(artefact.id, [])),
            # A spoken caption is written as a reflection's recording is: a ref to its (private) audio artefact.
            "audio_caption": artefact_refs.get(artefact.audio_artefact_id) if artefact.audio_artefact_id else None,
            "competencies": competency_refs(rows, rows.artefact_competencies.get(artefact.id)),
            "created_at": timestamp(artefact.created_at), "updated_at": timestamp(artefact.updated_at),
        })
    return docs, exported_files


def reflection_docs(rows: PortfolioRows) -> list[dict]:
    return [{
        "ref": rows.reflection_refs[r.id], "title": r.title, "body": r.body, "audience": r.audience.value,
        "status": r.status.value,
        "audio": rows.artefact_refs.get(r.audio_artefact_id) if r.audio_artefact_id else None,
        "artefacts": sorted_refs(rows.reflection_artefacts.get(r.id), rows.artefact_refs),
        "goals": sorted_refs(rows.reflection_goals.get(r.id), rows.goal_refs),
        "competencies": competency_refs(rows, rows.reflection_competencies.get(r.id)),
        "created_at": timestamp(r.created_at), "updated_at": timestamp(r.updated_at),
        "published_at": timestamp(r.published_at),
    } for r in rows.reflections]


def goal_docs(rows: PortfolioRows) -> list[dict]:
    docs = []
    for goal in rows.goals:
        goal_steps = rows.steps.get(goal.id, [])
        step_index = {step.id: index for index, step in enumerate(goal_steps)}
        goal_checkins = sorted(rows.checkins.get(goal.id, []),
                               key=lambda c: (c.occurred_on, timestamp(c.created_at) or "", c.note, c.id))
        docs.append({
            "ref": rows.goal_refs[goal.id], "title": goal.title, "why": goal.why,
            "success_criteria": goal.success_criteria,
            "target_date": day(goal.target_date), "status": goal.status.value, "audience": goal.audience.value,
            "achieved_at": timestamp(goal.achieved_at),
            "closing_reflection": (rows.reflection_refs.get(goal.closing_reflection_id)
                                   if goal.closing_reflection_id else None),
            "competencies": competency_refs(rows, rows.goal_competencies.get(goal.id)),
            "steps": [{"text": s.text, "done": s.done, "done_at": timestamp(s.done_at)} for s in goal_steps],
            "checkins": [{
                "occurred_on": day(c.occurred_on), "note": c.note, "created_at": timestamp(c.created_at),
                "evidence": sorted_refs(rows.checkin_artefacts.get(c.id), rows.artefact_refs),
                "steps": sorted(step_index[s] for s in rows.checkin_steps.get(c.id, []) if s in step_index),
            } for c in goal_checkins],
            "created_at": timestamp(goal.created_at), "updated_at": timestamp(goal.updated_at),
        })
    return docs
