"""The student's timeline and search over the `items` rows, whose text is kept in step here."""

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
    GoalTag,
    ReflectionTag,
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
    Item,
)
from app.models.base import utcnow
from app.models.item_rows import MODEL_OF, item_values
from app.access import not_an_attached_recording
from app.pagination import Page, paginate

KIND_FILTERS = ("file", "note", "link", "reflection", "goal")


# --- keeping the index ------------------------------------------------------------------------


def _sync(session: Session, obj) -> None:
    # The row exists from the object's first flush (app.models.item_rows); this keeps its text in step.
    session.flush()
    session.exec(sa.update(Item).where(Item.id == obj.id).values(updated_at=utcnow(), **item_values(obj)))


def sync_artefact(*, session: Session, artefact: Artefact) -> None:
    """Index a saved artefact."""
    _sync(session, artefact)


def sync_reflection(*, session: Session, reflection: Reflection) -> None:
    """Index a saved reflection."""
    _sync(session, reflection)


def sync_goal(*, session: Session, goal: Goal) -> None:
    """Index a saved goal."""
    _sync(session, goal)


def delete_item(*, session: Session, item_id: int) -> None:
    """Delete an item's row: the artefact, reflection or goal and everything that points at it go with it."""
    session.flush()
    session.exec(sa.delete(Item).where(Item.id == item_id))


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
    entry: Item
    item: Artefact | Reflection | Goal


@dataclass
class TimelinePage:
    page: Page[TimelineItem]
    filters: TimelineFilters = field(default_factory=TimelineFilters)


def search_tokens(q: str) -> list[str]:
    """Words of a search, lower-cased, without operators (users type words, not query syntax)."""
    return re.findall(r"\w+", q.lower())[:12]


def _in_items(ids) -> sa.ColumnElement[bool]:
    return Item.id.in_(ids)


def _filtered(statement, *, owner_id: int, filters: TimelineFilters, audiences: frozenset[Audience], session: Session):
    if filters.kind in ("file", "note", "link"):
        statement = statement.where(Item.type == ItemType.artefact, Item.kind == filters.kind)
    elif filters.kind in ("reflection", "goal"):
        statement = statement.where(Item.type == ItemType(filters.kind))
    if filters.competency_id:
        c = filters.competency_id
        statement = statement.where(sa.or_(
            _in_items(select(ArtefactCompetency.artefact_id).where(ArtefactCompetency.competency_id == c)),
            _in_items(select(ReflectionCompetency.reflection_id).where(ReflectionCompetency.competency_id == c)),
            _in_items(select(GoalCompetency.goal_id).where(GoalCompetency.competency_id == c)),
        ))
    if filters.goal_id:
        g = filters.goal_id
        evidence = select(CheckInArtefact.artefact_id).join(CheckIn, CheckIn.id == CheckInArtefact.checkin_id).where(CheckIn.goal_id == g)
        statement = statement.where(sa.or_(
            Item.id == g,
            _in_items(select(ReflectionGoal.reflection_id).where(ReflectionGoal.goal_id == g)),
            _in_items(evidence),
        ))
    if filters.tag:
        # Tags keep their case; the filter finds a tag whatever case it is typed in, on every kind of item.
        named = select(Tag.id).where(Tag.owner_id == owner_id, sa.func.lower(Tag.name) == filters.tag.strip().lower())
        statement = statement.where(sa.or_(*(
            _in_items(select(column).where(link.tag_id.in_(named)))
            for link, column in ((ArtefactTag, ArtefactTag.artefact_id), (ReflectionTag, ReflectionTag.reflection_id),
                                 (GoalTag, GoalTag.goal_id)))))
    if filters.audience:
        statement = statement.where(Item.audience == filters.audience)
    if filters.date_from:
        statement = statement.where(Item.occurred_on >= filters.date_from)
    if filters.date_to:
        statement = statement.where(Item.occurred_on <= filters.date_to)
    if audiences != frozenset(Audience):
        statement = statement.where(Item.audience.in_(list(audiences)))
    return statement


def _ranked_search(statement, *, session: Session, tokens: list[str]):
    """Restrict to entries matching every word (as a prefix), best match first."""
    if session.get_bind().dialect.name == "sqlite":
        match = " ".join(f'"{t}"*' for t in tokens)
        hits = sa.text("SELECT rowid AS entry_id, bm25(items_fts, 5.0, 1.0) AS rank FROM items_fts "
                       "WHERE items_fts MATCH :match").bindparams(match=match).columns(
            entry_id=sa.Integer, rank=sa.Float).subquery("hits")
        return statement.join(hits, hits.c.entry_id == Item.id).order_by(hits.c.rank, Item.id.desc())
    document, query = postgres_search(tokens)
    # ts_match_vq is `@@` written as a function, which no index serves: a student's search reads their own ~100s of
    # items through the owner index and tests each stored document. Given the operator, the planner ANDs the GIN
    # index's lists for each word (~100,000 items each in a district) before narrowing to the student: measured
    # 47-125 ms for two-word searches at 2 M items, growing with the table (bench/RESULTS.md).
    return statement.where(sa.func.ts_match_vq(document, query)).order_by(
        sa.func.ts_rank(document, query).desc(), Item.id.desc())


def postgres_search(tokens: list[str]) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """PostgreSQL's searched document and the query matching every word as a prefix, accents ignored on both sides.

    The document is items.search_document, a stored column generated by folio_search_document(title, body) and
    indexed by ix_items_search (the i11_search_accents migration; PostgreSQL only, so not in the model). Each word is
    unaccented and quoted on its own, so no word (whatever unaccent turns it into) can be read as query syntax."""
    words = [sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"),
                                sa.func.quote_literal(sa.func.folio_unaccent(t)).op("||")(":*")) for t in tokens]
    query = words[0]
    for word in words[1:]:
        query = query.op("&&")(word)
    return sa.literal_column(f"{Item.__tablename__}.search_document"), query


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

    Recordings are not items of their own here, for anyone: they come with their reflection (or comment). A constant
    number of queries whatever the page holds: count, page, and one per item type shown.
    """
    statement = _filtered(select(Item).where(Item.owner_id == owner_id, not_an_attached_recording()),
                          owner_id=owner_id, filters=filters, audiences=audiences, session=session)
    if not viewer_is_owner:
        statement = statement.where(sa.not_(sa.and_(Item.type == ItemType.reflection,
                                                    Item.kind == ReflectionStatus.draft.value)))
    tokens = search_tokens(filters.q)
    if tokens:
        statement = _ranked_search(statement, session=session, tokens=tokens)
    else:
        statement = statement.order_by(Item.occurred_on.desc(), Item.id.desc())
    entries = paginate(session, statement, number=number, size=size)
    items = load_items(session=session, entries=entries.items)
    return Page(items=[TimelineItem(e, items[e.id]) for e in entries.items if e.id in items],
                number=entries.number, size=entries.size, total=entries.total)


def load_items(*, session: Session, entries: list[Item]) -> dict[int, Artefact | Reflection | Goal]:
    """The artefacts, reflections and goals behind item rows, by id: one query per type present."""
    wanted: dict[ItemType, list[int]] = {}
    for entry in entries:
        wanted.setdefault(entry.type, []).append(entry.id)
    found: dict[int, object] = {}
    for item_type, ids in wanted.items():
        model = MODEL_OF[item_type]
        for item in session.exec(select(model).where(model.id.in_(ids))).all():
            found[item.id] = item
    return found
