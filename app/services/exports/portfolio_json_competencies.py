"""portfolio.json's competencies: refs to them by framework name and code, the frameworks used, and the ratings."""

from __future__ import annotations

from app.models import RatingSource
from app.services.exports.portfolio_json import sorted_refs, timestamp
from app.services.exports.portfolio_json_rows import PortfolioRows


def competency_ref(rows: PortfolioRows, competency_id: int) -> dict | None:
    """How the document names a competency (it has no ref): its framework's name and its code."""
    competency = rows.competencies.get(competency_id)
    if competency is None:
        return None
    return {"framework": rows.frameworks[competency.framework_id].name, "code": competency.code}


def competency_refs(rows: PortfolioRows, ids: list[int] | None) -> list[dict]:
    found = [ref for ref in (competency_ref(rows, i) for i in ids or []) if ref]
    return sorted(found, key=lambda r: (r["framework"], r["code"]))


def rating_docs(rows: PortfolioRows) -> list[dict]:
    docs = []
    for rating, label, rater_name in rows.ratings:
        competency = competency_ref(rows, rating.competency_id)
        if competency is None:
            continue
        docs.append({
            "competency": competency, "source": rating.source.value, "level": label, "reason": rating.reason,
            "artefacts": sorted_refs(rows.rating_artefacts.get(rating.id), rows.artefact_refs),
            "rater": rater_name if rating.source is RatingSource.teacher else None,
            "created_at": timestamp(rating.created_at),
        })
    docs.sort(key=lambda r: (r["created_at"], r["competency"]["framework"], r["competency"]["code"], r["source"],
                             r["level"], r["reason"]))
    return docs


def framework_docs(rows: PortfolioRows) -> list[dict]:
    competencies = rows.competencies
    docs = []
    for framework in sorted(rows.frameworks.values(), key=lambda f: f.name):
        used_here = sorted((c for c in competencies.values() if c.framework_id == framework.id), key=lambda c: c.code)
        docs.append({
            "name": framework.name,
            "levels": [{"label": level.label, "descriptor": level.descriptor, "position": level.position}
                       for level in rows.levels.get(framework.id, [])],
            "competencies": [{
                "code": c.code, "name": c.name,
                "parent_code": competencies[c.parent_id].code if c.parent_id in competencies else None,
            } for c in used_here],
        })
    return docs
