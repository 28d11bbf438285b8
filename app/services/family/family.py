"""What a guardian sees of their children: the family home's cards, a child's family feed, shared goals,
competency growth in plain words, and showcases; and a student's own list of linked guardians.

The family rule in SQL (app.access.rules.family_items), so pages stay a constant number of queries: items with the
"family" audience, never a draft reflection, and where any active class of the student asks for it, only items a
teacher approved. The guardian must be linked to the student (checked first, on every request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from app.models import (
    Artefact, Audience, Competency, Framework, Goal, GoalStep, GuardianLink, ItemType, ProficiencyLevel, RatingSource,
    Role, SchoolClass, Showcase, Item, User,
)
from app.models.base import utcnow
from app.pagination import Page, paginate
from app.services.portfolio.goals import GoalProgress
from app.access import not_found, relationships, student_visible_to, visible_among
from app.access.rules import approved_for_families, family_items, students_needing_family_approval
from app.services.family.invitations import record_unlinked
from app.services.accounts.people import ChildView, children_of
from app.services.competencies.ratings import latest_ratings
from app.services.showcases.showcase_items import showcases_visible_to

RECENT_DAYS = 7
RECENT_ON_CARD = 3
FEED_PAGE_SIZE = 20


def child_for_guardian(*, session: Session, guardian: User, student_id: int) -> User:
    """A child linked to `guardian`, or 404 (checked against the link on every request)."""
    if guardian.role is not Role.guardian:
        raise not_found()
    return student_visible_to(session=session, viewer=guardian, student_id=student_id)


# --- the family home -----------------------------------------------------------------------------


@dataclass
class RecentItem:
    entry: Item

    @property
    def link(self) -> str:
        return f"/{self.entry.type.value}s/{self.entry.id}"


@dataclass
class ChildCard:
    child: User
    classes: list[SchoolClass]
    recent_count: int = 0
    newest: list[RecentItem] = field(default_factory=list)


def family_home(*, session: Session, guardian: User) -> list[ChildCard]:
    """Each linked child with their classes, how many items they shared lately and the newest few
    (five queries whatever the number of children or items)."""
    views: list[ChildView] = children_of(session=session, guardian=guardian)
    cards = [ChildCard(view.child, view.classes) for view in views]
    if not cards:
        return cards
    ids = [card.child.id for card in cards]
    by_id = {card.child.id: card for card in cards}
    visible = sa.and_(Item.owner_id.in_(ids), family_items())
    since = utcnow() - timedelta(days=RECENT_DAYS)
    for owner_id, count in session.exec(
        select(Item.owner_id, sa.func.count()).where(visible, Item.updated_at >= since)
        .group_by(Item.owner_id)
    ).all():
        by_id[owner_id].recent_count = int(count)
    ranked = (
        select(Item.id.label("entry_id"),
               sa.func.row_number().over(partition_by=Item.owner_id,
                                         order_by=(Item.updated_at.desc(), Item.id.desc())).label("rank"))
        .where(visible)
        .subquery("ranked")
    )
    rows = session.exec(
        select(Item).join(ranked, ranked.c.entry_id == Item.id).where(ranked.c.rank <= RECENT_ON_CARD)
        .order_by(Item.updated_at.desc(), Item.id.desc())
    ).all()
    for entry in rows:
        by_id[entry.owner_id].newest.append(RecentItem(entry))
    return cards


# --- one child's page ----------------------------------------------------------------------------


@dataclass
class FeedItem:
    entry: Item
    artefact: Artefact | None = None  # for files: the thumbnail

    @property
    def link(self) -> str:
        return f"/{self.entry.type.value}s/{self.entry.id}"

    @property
    def thumbnail(self) -> str | None:
        if self.artefact is not None and self.artefact.thumb_small:
            return f"/files/{self.artefact.id}/small"
        return None


@dataclass
class Growth:
    """One competency in plain words: the latest level each side gave, with what the level means."""

    competency: Competency
    framework: Framework
    self_level: ProficiencyLevel | None
    teacher_level: ProficiencyLevel | None


@dataclass
class ChildPage:
    child: User
    feed: Page[FeedItem]
    goals: list[GoalProgress]
    growth: list[Growth]
    showcases: list[Showcase]


def feed_page(*, session: Session, guardian: User, child: User, number: int = 1, size: int = FEED_PAGE_SIZE) -> Page[FeedItem]:
    """One page of the child's items a guardian may see, newest first (a constant number of queries)."""
    statement = (
        select(Item).where(Item.owner_id == child.id, family_items())
        .order_by(Item.occurred_on.desc(), Item.id.desc())
    )
    entries = paginate(session, statement, number=number, size=size)
    artefact_ids = [e.id for e in entries.items if e.type is ItemType.artefact]
    artefacts: dict[int, Artefact] = {}
    if artefact_ids:
        loaded = session.exec(select(Artefact).where(Artefact.id.in_(artefact_ids), Artefact.owner_id == child.id)).all()
        # The same rule once more, from the access module, for the files the page will show.
        artefacts = {a.id: a for a in visible_among(session=session, viewer=guardian, owner_id=child.id,
                                                    items=list(loaded))}
    items = [FeedItem(e, artefacts.get(e.id)) for e in entries.items
             if e.type is not ItemType.artefact or e.id in artefacts]
    return Page(items=items, number=entries.number, size=entries.size, total=entries.total)


def shared_goals(*, session: Session, child: User) -> list[GoalProgress]:
    """The child's goals shared with family (approved where needed), with steps done / total (one query)."""
    counts = (
        select(GoalStep.goal_id.label("goal_id"), sa.func.count().label("total"),
               sa.func.sum(sa.case((GoalStep.done == True, 1), else_=0)).label("done"))  # noqa: E712
        .where(GoalStep.goal_id.in_(select(Goal.id).where(Goal.owner_id == child.id)))  # not every goal's steps
        .group_by(GoalStep.goal_id)
        .subquery("step_counts")
    )
    rows = session.exec(
        select(Goal, sa.func.coalesce(counts.c.done, 0), sa.func.coalesce(counts.c.total, 0))
        .outerjoin(counts, counts.c.goal_id == Goal.id)
        .where(Goal.owner_id == child.id, Goal.audience == Audience.family,
               sa.or_(Goal.owner_id.not_in(students_needing_family_approval()), approved_for_families(Goal.id)))
        .order_by(Goal.updated_at.desc(), Goal.id.desc())
    ).all()
    return [GoalProgress(goal, int(done), int(total)) for goal, done, total in rows]


def growth_of(*, session: Session, child: User) -> list[Growth]:
    """Each competency the child or a teacher rated, with the latest level of each (three queries)."""
    own = latest_ratings(session=session, student_id=child.id, source=RatingSource.self)
    teacher = latest_ratings(session=session, student_id=child.id, source=RatingSource.teacher)
    ids = set(own) | set(teacher)
    if not ids:
        return []
    rows = session.exec(
        select(Competency, Framework).join(Framework, Framework.id == Competency.framework_id)
        .where(Competency.id.in_(ids)).order_by(Framework.name, Competency.position, Competency.code)
    ).all()
    return [Growth(competency, framework, own[competency.id].level if competency.id in own else None,
                   teacher[competency.id].level if competency.id in teacher else None)
            for competency, framework in rows]


def child_page(*, session: Session, guardian: User, student_id: int, number: int = 1) -> ChildPage:
    """Everything a guardian's page about one child shows, or 404 when the child isn't theirs."""
    child = child_for_guardian(session=session, guardian=guardian, student_id=student_id)
    return ChildPage(
        child=child,
        feed=feed_page(session=session, guardian=guardian, child=child, number=number),
        goals=shared_goals(session=session, child=child),
        growth=growth_of(session=session, child=child),
        showcases=showcases_visible_to(session=session, viewer=guardian, owner_id=child.id),
    )


# --- a student's own family list -------------------------------------------------------------------


def my_guardians(*, session: Session, student: User) -> list[tuple[User, GuardianLink]]:
    """The guardians linked to `student`, by name (one query)."""
    return relationships.guardian_links_of(session=session, student_id=student.id)


def my_guardian(*, session: Session, student: User, guardian_id: int) -> User:
    """One guardian linked to `student`, or 404."""
    guardian = relationships.linked_guardian(session=session, student_id=student.id, guardian_id=guardian_id)
    if guardian is None:
        raise not_found()
    return guardian


def remove_my_guardian(*, session: Session, student: User, guardian_id: int, address: str | None) -> User:
    """End the link between `student` and one of their guardians (404 when not theirs); returns the guardian."""
    guardian = my_guardian(session=session, student=student, guardian_id=guardian_id)
    relationships.unlink(session=session, guardian_id=guardian_id, student_id=student.id)
    record_unlinked(session=session, actor=student, student=student, guardian=guardian, address=address)
    return guardian
