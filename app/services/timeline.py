"""The student's timeline and search: one row per item in timeline_entries, kept in step here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactTag,
    Audience,
    CheckIn,
    CheckInArtefact,
    Goal,
    GoalCompetency,
    ItemType,
    Reflection,
    ReflectionCompetency,
    ReflectionGoal,
    ReflectionStatus,
    Tag,
    TimelineEntry,
)
from app.models.base import utcnow
from app.pagination import Page, paginate

KIND_FILTERS = ("file", "note", "link", "reflection", "goal")


# --- keeping the index ------------------------------------------------------------------------


def _upsert(session: Session, *, item_type: ItemType, item_id: int, **values) -> None:
    entry = session.exec(
        select(TimelineEntry).where(TimelineEntry.item_type == item_type, TimelineEntry.item_id == item_id)
    ).first()
    if entry is None:
        entry = TimelineEntry(item_type=item_type, item_id=item_id, **values)
    else:
        for name, value in values.items():
            setattr(entry, name, value)
        entry.updated_at = utcnow()
    session.add(entry)


def sync_artefact(*, session: Session, artefact: Artefact) -> None:
    """Index a saved artefact (call after flush, so it has an id)."""
    text = "\n".join(part for part in (artefact.description, artefact.body, artefact.url or "", artefact.original_name or "") if part)
    _upsert(session, item_type=ItemType.artefact, item_id=artefact.id, owner_id=artefact.owner_id,
            kind=artefact.kind.value, title=artefact.title, body=text, audience=artefact.audience,
            occurred_on=artefact.occurred_on)


def sync_reflection(*, session: Session, reflection: Reflection) -> None:
    """Index a saved reflection."""
    _upsert(session, item_type=ItemType.reflection, item_id=reflection.id, owner_id=reflection.owner_id,
            kind=reflection.status.value, title=reflection.title, body=reflection.body,
            audience=reflection.audience, occurred_on=reflection.created_at.date())


def sync_goal(*, session: Session, goal: Goal) -> None:
    """Index a saved goal."""
    text = "\n".join(part for part in (goal.why, goal.success_criteria) if part)
    _upsert(session, item_type=ItemType.goal, item_id=goal.id, owner_id=goal.owner_id, kind=goal.status.value,
            title=goal.title, body=text, audience=goal.audience, occurred_on=goal.created_at.date())


def remove_item(*, session: Session, item_type: ItemType, item_id: int) -> None:
    """Drop a deleted item from the timeline and search."""
    session.exec(sa.delete(TimelineEntry).where(TimelineEntry.item_type == item_type, TimelineEntry.item_id == item_id))


# --- reading it --------------------------------------------------------------------------------


@dataclass
class TimelineFilters:
    kind: str | None = None
    competency_id: int | None = None
    goal_id: int | None = None
    tag: str | None = None
    audience: Audience | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return any((self.kind, self.competency_id, self.goal_id, self.tag, self.audience, self.date_from,
                    self.date_to, self.q.strip()))


def _int(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        return None


def parse_filters(*, q: str, kind: str, competency: str, goal: str, tag: str, audience: str,
                  date_from: str, date_to: str) -> TimelineFilters:
    """Filters from query-string values; anything malformed is simply not applied."""
    audiences = {a.value: a for a in Audience}
    return TimelineFilters(
        kind=kind if kind in KIND_FILTERS else None, competency_id=_int(competency), goal_id=_int(goal),
        tag=tag.strip()[:60] or None, audience=audiences.get(audience), date_from=_date(date_from),
        date_to=_date(date_to), q=q.strip()[:200],
    )


@dataclass
class TimelineItem:
    entry: TimelineEntry
    item: Artefact | Reflection | Goal


@dataclass
class TimelinePage:
    page: Page[TimelineItem]
    filters: TimelineFilters = field(default_factory=TimelineFilters)


def search_tokens(q: str) -> list[str]:
    """Words of a search, lower-cased, without operators (users type words, not query syntax)."""
    return re.findall(r"\w+", q.lower())[:12]


def _in_items(item_type: ItemType, ids) -> sa.ColumnElement[bool]:
    return sa.and_(TimelineEntry.item_type == item_type, TimelineEntry.item_id.in_(ids))


def _filtered(statement, *, owner_id: int, filters: TimelineFilters, audiences: frozenset[Audience], session: Session):
    if filters.kind in ("file", "note", "link"):
        statement = statement.where(TimelineEntry.item_type == ItemType.artefact, TimelineEntry.kind == filters.kind)
    elif filters.kind in ("reflection", "goal"):
        statement = statement.where(TimelineEntry.item_type == ItemType(filters.kind))
    if filters.competency_id:
        c = filters.competency_id
        statement = statement.where(sa.or_(
            _in_items(ItemType.artefact, select(ArtefactCompetency.artefact_id).where(ArtefactCompetency.competency_id == c)),
            _in_items(ItemType.reflection, select(ReflectionCompetency.reflection_id).where(ReflectionCompetency.competency_id == c)),
            _in_items(ItemType.goal, select(GoalCompetency.goal_id).where(GoalCompetency.competency_id == c)),
        ))
    if filters.goal_id:
        g = filters.goal_id
        evidence = select(CheckInArtefact.artefact_id).join(CheckIn, CheckIn.id == CheckInArtefact.checkin_id).where(CheckIn.goal_id == g)
        statement = statement.where(sa.or_(
            sa.and_(TimelineEntry.item_type == ItemType.goal, TimelineEntry.item_id == g),
            _in_items(ItemType.reflection, select(ReflectionGoal.reflection_id).where(ReflectionGoal.goal_id == g)),
            _in_items(ItemType.artefact, evidence),
        ))
    if filters.tag:
        tagged = select(ArtefactTag.artefact_id).join(Tag, Tag.id == ArtefactTag.tag_id).where(
            Tag.owner_id == owner_id, Tag.name == filters.tag.strip().lower())
        statement = statement.where(_in_items(ItemType.artefact, tagged))
    if filters.audience:
        statement = statement.where(TimelineEntry.audience == filters.audience)
    if filters.date_from:
        statement = statement.where(TimelineEntry.occurred_on >= filters.date_from)
    if filters.date_to:
        statement = statement.where(TimelineEntry.occurred_on <= filters.date_to)
    if audiences != frozenset(Audience):
        statement = statement.where(TimelineEntry.audience.in_(list(audiences)))
    return statement


def _ranked_search(statement, *, session: Session, tokens: list[str]):
    """Restrict to entries matching every word (as a prefix), best match first."""
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join(f'"{t}"*' for t in tokens)
        hits = sa.text("SELECT rowid AS entry_id, bm25(timeline_fts, 5.0, 1.0) AS rank FROM timeline_fts "
                       "WHERE timeline_fts MATCH :match").bindparams(match=match).columns(
            entry_id=sa.Integer, rank=sa.Float).subquery("hits")
        return statement.join(hits, hits.c.entry_id == TimelineEntry.id).order_by(hits.c.rank, TimelineEntry.id.desc())
    query = sa.func.to_tsquery("simple", " & ".join(f"{t}:*" for t in tokens))
    document = sa.func.setweight(sa.func.to_tsvector("simple", TimelineEntry.title), sa.literal_column("'A'")).op("||")(
        sa.func.to_tsvector("simple", TimelineEntry.body))
    return statement.where(document.op("@@")(query)).order_by(sa.func.ts_rank(document, query).desc(), TimelineEntry.id.desc())


def timeline_page(
    *,
    session: Session,
    owner_id: int,
    filters: TimelineFilters,
    audiences: frozenset[Audience],
    viewer_is_owner: bool,
    number: int = 1,
    size: int = 20,
) -> Page[TimelineItem]:
    """One page of a student's items as `audiences` allow, newest first (or best match when searching).

    A constant number of queries whatever the page holds: count, page, and one per item type shown.
    """
    statement = _filtered(select(TimelineEntry).where(TimelineEntry.owner_id == owner_id),
                          owner_id=owner_id, filters=filters, audiences=audiences, session=session)
    if not viewer_is_owner:
        statement = statement.where(sa.not_(sa.and_(TimelineEntry.item_type == ItemType.reflection,
                                                    TimelineEntry.kind == ReflectionStatus.draft.value)))
    tokens = search_tokens(filters.q)
    if tokens:
        statement = _ranked_search(statement, session=session, tokens=tokens)
    else:
        statement = statement.order_by(TimelineEntry.occurred_on.desc(), TimelineEntry.id.desc())
    entries = paginate(session, statement, number=number, size=size)
    items = _load_items(session, entries.items)
    return Page(items=[TimelineItem(e, items[(e.item_type, e.item_id)]) for e in entries.items
                       if (e.item_type, e.item_id) in items],
                number=entries.number, size=entries.size, total=entries.total)


def _load_items(session: Session, entries: list[TimelineEntry]) -> dict[tuple[ItemType, int], object]:
    wanted: dict[ItemType, list[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.item_type, []).append(entry.item_id)
    models = {ItemType.artefact: Artefact, ItemType.reflection: Reflection, ItemType.goal: Goal}
    found: dict[tuple[ItemType, int], object] = {}
    for item_type, ids in wanted.items():
        model = models[item_type]
        for item in session.exec(select(model).where(model.id.in_(ids))).all():
            found[(item_type, item.id)] = item
    return found
