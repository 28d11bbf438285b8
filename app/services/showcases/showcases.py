"""Showcases: a student's curated, ordered selection of work with talking points (creating, editing, items, order)."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact, Audience, Competency, CompetencyRating, Credential, Framework, Goal, RatingSource, Reflection,
    ReflectionStatus, ShareLink, ShareLinkView, Showcase, ShowcaseItem, ShowcaseItemType, User,
)
from app.models.showcases import target_column
from app.models.base import utcnow
from app.pagination import Page, paginate
from app.services.edit_versions import saved_now
from app.services.moderation import approvals
from app.access import not_an_attached_recording, not_found
from app.access import valid_id
from app.services.showcases.showcase_items import ResolvedItem, entries_of

MAX_TITLE = 200
MAX_INTRODUCTION = 20_000
MAX_TALKING_POINTS = 2000


# --- the showcase itself -------------------------------------------------------------------------


@dataclass
class ShowcaseInput:
    """What a student typed in the showcase form, checked."""

    title: str = ""
    introduction: str = ""
    audience: Audience = Audience.private
    ready: bool = False
    version: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def parse_showcase(*, title: str, introduction: str, audience: str, ready: bool = False, version: str = "") -> ShowcaseInput:
    """Read and check the showcase form (title required, at most 200 characters)."""
    data = ShowcaseInput(title=title.strip(), introduction=introduction.strip(), ready=ready)
    if not data.title:
        data.errors["title"] = _("Give your showcase a title, for example “My best work this term”.")
    elif len(data.title) > MAX_TITLE:
        data.errors["title"] = _("Keep the title under 200 characters (it has %(n)s).", n=len(data.title))
    if len(data.introduction) > MAX_INTRODUCTION:
        data.errors["introduction"] = _("Keep the introduction under %(max)s characters (it has %(n)s).",
                                        max=MAX_INTRODUCTION, n=len(data.introduction))
    try:
        data.audience = Audience(audience or Audience.private.value)
    except ValueError:
        data.errors["audience"] = _("Choose who can see it from the list.")
    data.version = int(version) if version.strip().isdigit() else 0
    return data


class EditConflict(Exception):
    """The showcase was saved elsewhere since the form was opened; carries the saved showcase."""

    def __init__(self, current: Showcase) -> None:
        super().__init__("edit conflict")
        self.current = current


def create_showcase(*, session: Session, owner: User, data: ShowcaseInput) -> Showcase:
    """A new, empty showcase (for families, it waits for a teacher's approval where a class asks for one)."""
    showcase = Showcase(owner_id=owner.id, title=data.title, introduction=data.introduction, audience=data.audience,
                        ready=data.ready)
    session.add(showcase)
    session.flush()
    approvals.request_showcase_if_needed(session=session, showcase=showcase)
    return showcase


def update_showcase(*, session: Session, showcase: Showcase, data: ShowcaseInput) -> Showcase:
    """Save edits only if nobody saved since `data.version` was read; else raise EditConflict."""
    result = session.exec(
        sa.update(Showcase).where(Showcase.id == showcase.id, Showcase.version == data.version).values(
            title=data.title, introduction=data.introduction, audience=data.audience, ready=data.ready,
            version=Showcase.version + 1, updated_at=utcnow(),
        )
    )
    if result.rowcount != 1:
        raise EditConflict(saved_now(session=session, row=showcase))
    session.refresh(showcase)
    approvals.request_showcase_if_needed(session=session, showcase=showcase)
    return showcase


def delete_showcase(*, session: Session, showcase: Showcase) -> None:
    """Delete the showcase with its entries and secret links (the work in it stays)."""
    link_ids = select(ShareLink.id).where(ShareLink.showcase_id == showcase.id)
    session.exec(sa.delete(ShareLinkView).where(ShareLinkView.link_id.in_(link_ids)))
    session.exec(sa.delete(ShareLink).where(ShareLink.showcase_id == showcase.id))
    session.exec(sa.delete(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase.id))
    session.delete(showcase)


def touch(showcase: Showcase) -> None:
    """Mark the showcase as changed now (every change to its items does this)."""
    showcase.updated_at = utcnow()


# --- the student's list ------------------------------------------------------------------------


@dataclass
class ShowcaseRow:
    showcase: Showcase
    items: int
    views: int


def showcase_list(*, session: Session, owner: User, number: int = 1, size: int = 20) -> Page[ShowcaseRow]:
    """The owner's showcases, newest first, with how many items each holds and how often its secret links
    were opened (four queries, whatever the page size)."""
    page = paginate(session, select(Showcase).where(Showcase.owner_id == owner.id)
                    .order_by(Showcase.created_at.desc(), Showcase.id.desc()), number=number, size=size)
    ids = [s.id for s in page.items]
    items: dict[int, int] = {}
    views: dict[int, int] = {}
    if ids:
        items = dict(session.exec(
            select(ShowcaseItem.showcase_id, sa.func.count(ShowcaseItem.id))
            .where(ShowcaseItem.showcase_id.in_(ids)).group_by(ShowcaseItem.showcase_id)
        ).all())
        views = dict(session.exec(
            select(ShareLink.showcase_id, sa.func.count(ShareLinkView.id))
            .join(ShareLinkView, ShareLinkView.link_id == ShareLink.id)
            .where(ShareLink.showcase_id.in_(ids)).group_by(ShareLink.showcase_id)
        ).all())
    rows = [ShowcaseRow(s, items.get(s.id, 0), views.get(s.id, 0)) for s in page.items]
    return Page(items=rows, number=page.number, size=page.size, total=page.total)


# --- items ---------------------------------------------------------------------------------------


def entry_of(*, session: Session, showcase: Showcase, entry_id: int) -> ShowcaseItem:
    """One entry of this showcase, or 404."""
    entry = session.get(ShowcaseItem, entry_id) if valid_id(entry_id) else None
    if entry is None or entry.showcase_id != showcase.id:
        raise not_found()
    return entry


def parse_item_type(raw: str) -> ShowcaseItemType:
    """An item type from a form, or 404 (only a tampered form sends anything else)."""
    try:
        return ShowcaseItemType(raw)
    except ValueError:
        raise not_found() from None


def owns_item(*, session: Session, owner: User, item_type: ShowcaseItemType, item_id: int) -> bool:
    """True when the item is the owner's own: their artefact (not a recording: that is shown with its reflection),
    published reflection or goal, a competency they have rated themselves, or a credential issued to them."""
    if item_type is ShowcaseItemType.artefact:
        found = session.exec(select(Artefact.id).where(Artefact.id == item_id, Artefact.owner_id == owner.id,
                                                       not_an_attached_recording(Artefact.id))).first()
    elif item_type is ShowcaseItemType.reflection:
        found = session.exec(select(Reflection.id).where(
            Reflection.id == item_id, Reflection.owner_id == owner.id, Reflection.status == ReflectionStatus.published)).first()
    elif item_type is ShowcaseItemType.goal:
        found = session.exec(select(Goal.id).where(Goal.id == item_id, Goal.owner_id == owner.id)).first()
    elif item_type is ShowcaseItemType.credential:
        found = session.exec(select(Credential.id).where(Credential.id == item_id, Credential.student_id == owner.id)).first()
    else:
        found = session.exec(select(CompetencyRating.id).where(
            CompetencyRating.competency_id == item_id, CompetencyRating.student_id == owner.id,
            CompetencyRating.source == RatingSource.self)).first()
    return found is not None


def add_item(*, session: Session, owner: User, showcase: Showcase, item_type: ShowcaseItemType, item_id: int) -> ShowcaseItem | None:
    """Put one of the owner's items at the end of the showcase; None when it is already there. Anything that
    is not the owner's: 404."""
    if not valid_id(item_id) or not owns_item(session=session, owner=owner, item_type=item_type, item_id=item_id):
        raise not_found()
    target = getattr(ShowcaseItem, target_column(item_type))
    existing = session.exec(select(ShowcaseItem.id).where(ShowcaseItem.showcase_id == showcase.id, target == item_id)).first()
    if existing is not None:
        return None
    last = session.exec(select(sa.func.max(ShowcaseItem.position)).where(ShowcaseItem.showcase_id == showcase.id)).one()
    entry = ShowcaseItem.to(showcase_id=showcase.id, item_type=item_type, target_id=item_id, position=(last or 0) + 1)
    session.add(entry)
    touch(showcase)
    session.add(showcase)
    session.flush()
    return entry


def remove_item(*, session: Session, showcase: Showcase, entry: ShowcaseItem) -> None:
    """Take an entry out of the showcase (the work itself stays)."""
    session.delete(entry)
    touch(showcase)
    session.add(showcase)


def set_talking_points(*, session: Session, showcase: Showcase, entry: ShowcaseItem, text: str) -> str | None:
    """Save the student's notes for presenting this item, or say what to fix."""
    text = text.strip()
    if len(text) > MAX_TALKING_POINTS:
        return _("Keep your talking points under %(max)s characters (they have %(n)s).", max=MAX_TALKING_POINTS, n=len(text))
    entry.talking_points = text
    session.add(entry)
    touch(showcase)
    session.add(showcase)
    return None


def _renumber(session: Session, entries: list[ShowcaseItem]) -> None:
    for position, entry in enumerate(entries, start=1):
        if entry.position != position:
            entry.position = position
            session.add(entry)


def move_item(*, session: Session, showcase: Showcase, entry: ShowcaseItem, direction: str) -> bool:
    """Move an entry one place up or down; False when it can't go that way."""
    entries = entries_of(session=session, showcase=showcase)
    index = next(i for i, e in enumerate(entries) if e.id == entry.id)
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else -1
    if not 0 <= target < len(entries):
        return False
    entries[index], entries[target] = entries[target], entries[index]
    _renumber(session, entries)
    touch(showcase)
    session.add(showcase)
    return True


def parse_order(raw: str) -> list[int] | None:
    """Entry ids from "3,1,2", or None when it isn't a list of ids."""
    parts = [p.strip() for p in raw.split(",")]
    if not parts or not all(p.isdigit() and len(p) <= 10 for p in parts):
        return None
    ids = [int(p) for p in parts]
    return ids if all(valid_id(i) for i in ids) else None


def reorder(*, session: Session, showcase: Showcase, order: list[int]) -> bool:
    """Put the entries in this order; False (nothing changed) unless it names each entry exactly once."""
    entries = {e.id: e for e in entries_of(session=session, showcase=showcase)}
    if len(order) != len(entries) or set(order) != set(entries):
        return False
    _renumber(session, [entries[i] for i in order])
    touch(showcase)
    session.add(showcase)
    return True


def audience_warning(*, showcase: Showcase, item: ResolvedItem) -> str | None:
    """Why some of the showcase's audience won't see this item (the rule resolve_items applies), or None."""
    audience = item.audience
    obj = item.obj
    if isinstance(obj, Reflection) and obj.status is ReflectionStatus.draft:
        return _("This reflection is a draft again, so only you can see it. Publish it to show it here.")
    if audience is None or audience is showcase.audience or showcase.audience is Audience.private:
        return None
    if showcase.audience is Audience.family:
        return _("Your family won't see this one unless you share it with them.")
    return _("Your classmates won't see this one unless you share it with your class.")


# --- the picker ----------------------------------------------------------------------------------


@dataclass
class RatedCompetency:
    competency: Competency
    framework: Framework


@dataclass
class Picker:
    """What the student may add to a showcase, and what is in it already (item_type, item_id)."""

    artefacts: list[Artefact]
    reflections: list[Reflection]
    goals: list[Goal]
    competencies: list[RatedCompetency]
    credentials: list[Credential]
    added: set[tuple[str, int]]

    @property
    def empty(self) -> bool:
        return not (self.artefacts or self.reflections or self.goals or self.competencies or self.credentials)


def picker(*, session: Session, owner: User, showcase: Showcase, limit: int = 200) -> Picker:
    """The owner's artefacts, published reflections, goals, self-rated competencies and credentials, newest first
    (six queries, whatever the numbers)."""
    artefacts = session.exec(select(Artefact)
                             .where(Artefact.owner_id == owner.id, not_an_attached_recording(Artefact.id))
                             .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(limit)).all()
    reflections = session.exec(select(Reflection).where(Reflection.owner_id == owner.id,
                                                        Reflection.status == ReflectionStatus.published)
                               .order_by(Reflection.created_at.desc(), Reflection.id.desc()).limit(limit)).all()
    goals = session.exec(select(Goal).where(Goal.owner_id == owner.id)
                         .order_by(Goal.created_at.desc(), Goal.id.desc()).limit(limit)).all()
    rated = select(CompetencyRating.competency_id).where(CompetencyRating.student_id == owner.id,
                                                         CompetencyRating.source == RatingSource.self)
    competencies = session.exec(
        select(Competency, Framework).join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id.in_(rated)).order_by(Framework.name, Competency.position, Competency.code)
    ).all()
    credentials = session.exec(select(Credential).where(Credential.student_id == owner.id)
                               .order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(limit)).all()
    added = {(entry.item_type.value, entry.target_id) for entry in session.exec(
        select(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase.id)).all()}
    return Picker(list(artefacts), list(reflections), list(goals),
                  [RatedCompetency(c, f) for c, f in competencies], list(credentials), added)
