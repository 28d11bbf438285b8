"""Every artefact, reflection and goal gets its `items` row on its first flush, whichever code path creates it.

Its id becomes the artefact's (or reflection's, or goal's) id, so no write path (a route, an import, the demo
seed, a test factory) can create an item that comments, approvals and showcases could not reference.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.models.base import utcnow
from app.models.evidence import Artefact
from app.models.goals import Goal
from app.models.items import Item, ItemType
from app.models.reflections import Reflection

ITEM_MODELS: dict[type, ItemType] = {Artefact: ItemType.artefact, Reflection: ItemType.reflection, Goal: ItemType.goal}
MODEL_OF: dict[ItemType, type] = {item_type: model for model, item_type in ITEM_MODELS.items()}


def _column_default(model: type, name: str):
    # Before its first flush an object holds None where the column has a default; the row must not.
    return getattr(model.__table__.c[name].default, "arg", None)


def item_values(obj: Artefact | Reflection | Goal) -> dict:
    """What the item row shows of `obj` on the timeline and in search."""
    model = type(obj)
    audience = obj.audience or _column_default(model, "audience")
    created = (obj.created_at or utcnow()).date()
    if isinstance(obj, Artefact):
        text = "\n".join(p for p in (obj.description, obj.body, obj.url or "", obj.original_name or "") if p)
        return dict(owner_id=obj.owner_id, kind=obj.kind.value, title=obj.title, body=text, audience=audience,
                    occurred_on=obj.occurred_on or created)
    status = obj.status or _column_default(model, "status")
    body = obj.body if isinstance(obj, Reflection) else "\n".join(p for p in (obj.why, obj.success_criteria) if p)
    return dict(owner_id=obj.owner_id, kind=status.value, title=obj.title, body=body or "", audience=audience,
                occurred_on=created)


@event.listens_for(Session, "before_flush")
def _allocate_item_rows(session: Session, _flush_context, _instances) -> None:
    for obj in list(session.new):
        item_type = ITEM_MODELS.get(type(obj))
        if item_type is None or obj.id is not None:
            continue
        values = item_values(obj)
        result = session.connection().execute(sa.insert(Item).values(type=item_type, created_at=utcnow(), **values))
        obj.id = result.inserted_primary_key[0]
