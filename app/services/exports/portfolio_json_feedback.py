"""portfolio.json's feedback: the visible comments on each item, with their replies."""

from __future__ import annotations

from app.models import Comment
from app.services.exports.portfolio_json import ref_key, timestamp
from app.services.exports.portfolio_json_rows import PortfolioRows


def feedback_docs(rows: PortfolioRows) -> list[dict]:
    artefact_refs = rows.artefact_refs
    ref_of_item = {**artefact_refs, **rows.reflection_refs, **rows.goal_refs}  # item ids are unique across types
    by_parent: dict[int, list[tuple[Comment, str]]] = {}
    top: list[tuple[Comment, str]] = []
    for comment, author in rows.comments:
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

    docs = []
    for comment, author in top:
        on = ref_of_item.get(comment.item_id)
        if on is None:
            continue
        doc = {"on": on, **comment_doc(comment, author)}
        doc["replies"] = sorted((comment_doc(c, a) for c, a in by_parent.get(comment.id, [])), key=comment_key)
        docs.append(doc)
    docs.sort(key=lambda d: (ref_key(d["on"]), *comment_key(d)))
    return docs
