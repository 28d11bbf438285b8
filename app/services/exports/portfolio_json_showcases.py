"""portfolio.json's showcases: each with its items in order, by ref (or competency), and their talking points."""

from __future__ import annotations

from app.models import ItemType, ShowcaseItemType
from app.services.exports.portfolio_json import timestamp
from app.services.exports.portfolio_json_competencies import competency_ref
from app.services.exports.portfolio_json_rows import PortfolioRows


def showcase_docs(rows: PortfolioRows) -> list[dict]:
    item_refs = {ItemType.artefact: rows.artefact_refs, ItemType.reflection: rows.reflection_refs,
                 ItemType.goal: rows.goal_refs}
    docs = []
    for showcase in rows.showcases:
        items = []
        for item in rows.showcase_items.get(showcase.id, []):
            entry: dict = {"type": item.item_type.value, "position": item.position, "talking_points": item.talking_points}
            if item.item_type is ShowcaseItemType.competency:
                competency = competency_ref(rows, item.competency_id)
                if competency is None:
                    continue
                entry["competency"] = competency
            elif item.item_type is ShowcaseItemType.credential:
                if item.credential_id not in rows.credential_refs:
                    continue
                entry["ref"] = rows.credential_refs[item.credential_id]
            else:
                ref = item_refs[ItemType(item.item_type.value)].get(item.item_id)
                if ref is None:
                    continue
                entry["ref"] = ref
            items.append(entry)
        docs.append({
            "title": showcase.title, "introduction": showcase.introduction, "audience": showcase.audience.value,
            "ready": showcase.ready, "items": items,
            "created_at": timestamp(showcase.created_at), "updated_at": timestamp(showcase.updated_at),
        })
    return docs
