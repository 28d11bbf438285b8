"""What a guardian sees of their children: the family home's cards, a child's family feed, shared goals,
competency growth in plain words, and showcases; and a student's own list of linked guardians.

The family rule in SQL (app.access.rules.family_items), so pages stay a constant number of queries: items with the
"family" audience, never a draft reflection, and where any active class of the student asks for it, only items a
teacher approved. The guardian must be linked to the student (checked first, on every request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.models import (
    Artefact, Audience, BadgeAssertion, Comment, CommentKind, CommentStatus, Competency, Framework, Goal, GoalStep, GuardianLink, Item,
    ItemType, MediaKind, ProficiencyLevel, RatingSource, Reflection, Role, SchoolClass, Showcase, User,
)
from app.models.base import utcnow
from app.pagination import Page, paginate
from app.services.portfolio.goals import GoalProgress
from app.services.portfolio.shown_pictures import first_pictures
from app.access import not_found, relationships, student_visible_to
from app.config import Settings
from app.access.rules import approved_for_families, family_items, students_needing_family_approval, visible_items
from app.services.family.reactions import ReactionBar, bars_for
from app.services.family.invitations import record_unlinked
from app.services.accounts.people import ChildView, children_of
from app.services.badges.credentials import CredentialView, standing_credentials
from app.services.badges.imported import badges_of
from app.services.competencies.ratings import latest_ratings
from app.services.showcases.showcase_items import showcases_visible_to

RECENT_DAYS = 7
FEED_PAGE_SIZE = 12


def child_for_guardian(*, session: Session, guardian: User, student_id: int) -> User:
    """A child linked to `guardian`, or 404 (checked against the link on every request)."""
    if guardian.role is not Role.guardian:
        raise not_found()
    return student_visible_to(session=session, viewer=guardian, student_id=student_id)


# --- the feed ------------------------------------------------------------------------------------


@dataclass
class TeacherWords:
    """The latest comment a teacher left on the item that families see."""

    comment: Comment
    author_name: str


@dataclass
class FeedItem:
    """One card of a family feed: the item, what shows it (the artefact and its spoken caption, a reflection's
    recording), the teacher's words where there are some, and its reactions."""

    entry: Item
    artefact: Artefact | None = None
    audio_id: int | None = None
    teacher: TeacherWords | None = None
    reactions: ReactionBar | None = None
    child_name: str = ""
    caption_id: int | None = None  # an artefact's spoken caption
    picture_id: int | None = None  # the first picture a reflection's text shows (seen with it: artefacts.file_visible_to)
    badge: BadgeAssertion | None = None  # the Open Badge an artefact carried

    @property
    def link(self) -> str:
        return f"/{self.entry.type.value}s/{self.entry.id}"


def feed_page(*, session: Session, guardian: User, children: list[User], number: int = 1, size: int = FEED_PAGE_SIZE
              ) -> Page[FeedItem]:
    """One page of what the guardian's `children` share with them, newest first, each item with its media, the
    teacher's latest words, the badge it carried and its reactions (nine queries, whatever the number of items or
    children)."""
    names = {child.id: child.display_name for child in children}
    statement = (
        select(Item).where(Item.owner_id.in_(list(names)), visible_items(guardian), family_items())
        .order_by(Item.occurred_on.desc(), Item.id.desc())
    )
    entries = paginate(session, statement, number=number, size=size)
    ids = [e.id for e in entries.items]
    by_type = {kind: [e.id for e in entries.items if e.type is kind] for kind in ItemType}
    # A spoken caption comes with its photo (the guardian may see the photo, so may hear it): same query.
    caption = aliased(Artefact)
    rows = session.exec(
        select(Artefact, caption.id).outerjoin(caption, sa.and_(
            caption.id == Artefact.audio_artefact_id, caption.owner_id == Artefact.owner_id,
            caption.media_kind == MediaKind.audio))
        .where(Artefact.id.in_(by_type[ItemType.artefact]))).all()
    artefacts = {a.id: a for a, _caption_id in rows}
    captions = {a.id: caption_id for a, caption_id in rows if caption_id}
    recordings = dict(session.exec(
        select(Reflection.id, Reflection.audio_artefact_id)
        .where(Reflection.id.in_(by_type[ItemType.reflection]), Reflection.audio_artefact_id.is_not(None))).all())
    pictures = first_pictures(session=session, reflections=[e for e in entries.items if e.type is ItemType.reflection])
    teacher_words = _latest_teacher_words(session=session, item_ids=ids)
    bars = bars_for(session=session, viewer=guardian, item_ids=ids, can_react=True)
    badges = badges_of(session=session, artefact_ids=list(artefacts))
    items = [FeedItem(e, artefacts.get(e.id), recordings.get(e.id), teacher_words.get(e.id), bars[e.id],
                      names.get(e.owner_id, ""), captions.get(e.id),
                      pictures[e.id].id if e.id in pictures else None, badges.get(e.id))
             for e in entries.items
             if e.type is not ItemType.artefact or e.id in artefacts]
    return Page(items=items, number=entries.number, size=entries.size, total=entries.total)


def _latest_teacher_words(*, session: Session, item_ids: list[int]) -> dict[int, TeacherWords]:
    """Each item's newest visible teacher comment, with its author's name (one query)."""
    if not item_ids:
        return {}
    ranked = (
        select(Comment.id.label("comment_id"),
               sa.func.row_number().over(partition_by=Comment.item_id,
                                         order_by=(Comment.created_at.desc(), Comment.id.desc())).label("rank"))
        .where(Comment.item_id.in_(item_ids), Comment.kind == CommentKind.teacher,
               Comment.status == CommentStatus.visible)
        .subquery("ranked")
    )
    rows = session.exec(
        select(Comment, User.display_name).join(ranked, ranked.c.comment_id == Comment.id)
        .join(User, User.id == Comment.author_id).where(ranked.c.rank == 1)
    ).all()
    return {comment.item_id: TeacherWords(comment, name) for comment, name in rows}


# --- the family home -----------------------------------------------------------------------------


@dataclass
class ChildCard:
    child: User
    classes: list[SchoolClass]
    recent_count: int = 0


@dataclass
class FamilyHome:
    children: list[ChildCard]
    feed: Page[FeedItem]


def family_home(*, session: Session, guardian: User, number: int = 1) -> FamilyHome:
    """Each linked child with their classes and how many items they shared lately, and one feed of everything they
    share, newest first (a constant number of queries, whatever the number of children or items)."""
    views: list[ChildView] = children_of(session=session, guardian=guardian)
    cards = [ChildCard(view.child, view.classes) for view in views]
    by_id = {card.child.id: card for card in cards}
    if cards:
        since = utcnow() - timedelta(days=RECENT_DAYS)
        for owner_id, count in session.exec(
            select(Item.owner_id, sa.func.count())
            .where(Item.owner_id.in_(list(by_id)), family_items(), Item.updated_at >= since)
            .group_by(Item.owner_id)
        ).all():
            by_id[owner_id].recent_count = int(count)
    feed = feed_page(session=session, guardian=guardian, children=[card.child for card in cards], number=number)
    return FamilyHome(cards, feed)


# --- one child's page ----------------------------------------------------------------------------


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
    credentials: list[CredentialView]


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


def child_page(*, session: Session, settings: Settings, guardian: User, student_id: int, number: int = 1) -> ChildPage:
    """Everything a guardian's page about one child shows, or 404 when the child isn't theirs."""
    child = child_for_guardian(session=session, guardian=guardian, student_id=student_id)
    return ChildPage(
        child=child,
        feed=feed_page(session=session, guardian=guardian, children=[child], number=number),
        goals=shared_goals(session=session, child=child),
        growth=growth_of(session=session, child=child),
        showcases=showcases_visible_to(session=session, viewer=guardian, owner_id=child.id),
        credentials=standing_credentials(session=session, settings=settings, viewer=guardian, student=child),
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
