"""What a guardian's digest says for one period, per child: what they shared (photos first), the goals they
reached with their own closing words, the credentials they were awarded, their teachers' words and their growth.
Nothing here depends on the reader's language: the words around it are chosen when it is rendered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from app import access
from app.access import relationships
from app.config import Settings
from app.models import (
    ApprovalStatus, Artefact, Comment, CommentKind, CommentStatus, Competency, CompetencyRating, Goal, GoalStatus,
    Item, ItemApproval, ItemType, MediaKind, ProficiencyLevel, Role, User,
)
from app.models.evidence import Audience
from app.services.badges.credentials import CredentialView, awarded_between
from app.services.family.digests.periods import aware
from app.services.portfolio.markdown import plain_text
from app.services.portfolio.shown_pictures import first_pictures

ITEM_PATHS = {ItemType.artefact: "/artefacts/{id}", ItemType.reflection: "/reflections/{id}", ItemType.goal: "/goals/{id}"}
# Cards shown per child: a digest is read in seconds on a phone; the rest is one tap away ("and 4 more").
MAX_CARDS = 6
EXCERPT_CHARS = 160
MEDIA_KINDS = {MediaKind.image: "photo", MediaKind.audio: "recording", MediaKind.video: "video"}


@dataclass
class Card:
    """One thing the child shared: its picture first when it has one, what it is, its title and a few words."""

    title: str
    kind: str  # photo, video, recording, file, note, link, reflection, goal (what the words around it say)
    url: str
    when: datetime
    excerpt: str = ""
    artefact_id: int | None = None  # a photo (or the picture a reflection shows), whose small thumbnail is shown
    thumbnail_key: str | None = None


@dataclass
class Highlight:
    teacher_name: str
    excerpt: str
    item_title: str
    url: str
    when: datetime


@dataclass
class GrowthNote:
    """A competency rated in the period, in plain words: the level's name and what it means."""

    competency: str
    level: str
    descriptor: str
    by_teacher: bool
    rater_name: str


@dataclass
class ChildDigest:
    child: User
    url: str
    shared: list[Card] = field(default_factory=list)
    achieved: list[Card] = field(default_factory=list)  # excerpt: the child's closing words
    highlights: list[Highlight] = field(default_factory=list)
    growth: list[GrowthNote] = field(default_factory=list)
    credentials: list[CredentialView] = field(default_factory=list)  # awarded in the period, still standing

    @property
    def item_count(self) -> int:
        return len(self.shared) + len(self.achieved) + len(self.highlights) + len(self.growth) + len(self.credentials)

    @property
    def cards(self) -> list[Card]:
        """The shared things shown, photos first (the rest are counted in `more`)."""
        ordered = sorted(self.shared, key=lambda card: (card.thumbnail_key is None, card.when))
        return ordered[:MAX_CARDS]

    @property
    def more(self) -> int:
        return max(0, len(self.shared) - MAX_CARDS)


@dataclass
class Digest:
    guardian: User
    period_start: datetime
    period_end: datetime
    children: list[ChildDigest]

    @property
    def item_count(self) -> int:
        return sum(child.item_count for child in self.children)

    @property
    def with_news(self) -> list[ChildDigest]:
        return [child for child in self.children if child.item_count]


def absolute_url(*, settings: Settings, path: str) -> str:
    """A link back into this Folio, for an email."""
    return settings.base_url.rstrip("/") + path


def _item_url(settings: Settings, item_type: ItemType, item_id: int) -> str:
    return absolute_url(settings=settings, path=ITEM_PATHS[item_type].format(id=item_id))


def _candidate(entry: Item) -> SimpleNamespace:
    # What access.visible_among_owners needs of an item: its id, audience and (reflections) whether it is a draft; and
    # its type, to tell which one it was.
    status = entry.kind if entry.type is ItemType.reflection else None
    return SimpleNamespace(id=entry.id, audience=entry.audience, status=status, type=entry.type)


def _card(settings: Settings, entry: Item, artefact: Artefact | None, when: datetime,
          picture: Artefact | None = None) -> Card:
    """`picture`: the first picture a reflection's text shows, shown as the family feed's card shows it."""
    kind = entry.type.value if entry.type is not ItemType.artefact else entry.kind
    thumbnail = picture.thumb_small if picture is not None else None
    if artefact is not None and artefact.media_kind is not None:
        kind = MEDIA_KINDS.get(artefact.media_kind, kind)
        if artefact.media_kind is MediaKind.image and artefact.thumb_small:
            thumbnail, picture = artefact.thumb_small, artefact
    # An artefact's own words (a note's text, a file's description); the item's search text also holds file names.
    words = (artefact.body or artefact.description) if artefact is not None else entry.body
    return Card(title=entry.title, kind=kind, url=_item_url(settings, entry.type, entry.id), when=when,
                excerpt=plain_text(words, EXCERPT_CHARS) if words else "",
                artefact_id=picture.id if thumbnail else None, thumbnail_key=thumbnail)


def compose_digest(
    *, session: Session, settings: Settings, guardian: User, period_start: datetime, period_end: datetime
) -> Digest:
    """What the guardian's digest for this period says, per child (a fixed number of queries, whatever the number of
    children or items)."""
    children = session.exec(
        select(User).where(User.id.in_(relationships.children_of(guardian.id)), User.role == Role.student)
        .order_by(User.display_name, User.id)
    ).all()
    digest = Digest(guardian=guardian, period_start=period_start, period_end=period_end, children=[
        ChildDigest(child=child, url=absolute_url(settings=settings, path=f"/family/children/{child.id}"))
        for child in children
    ])
    if not children:
        return digest
    child_ids = [child.id for child in children]
    in_period = lambda column: and_(column >= period_start, column < period_end)  # noqa: E731

    # Items shared with the family: new or changed in the period, or approved for families in it.
    shared_rows = session.exec(
        select(Item, ItemApproval.reviewed_at, Artefact)
        .outerjoin(ItemApproval, and_(ItemApproval.item_id == Item.id,
                                      ItemApproval.status == ApprovalStatus.approved))
        .outerjoin(Artefact, Artefact.id == Item.id)
        .where(Item.owner_id.in_(child_ids), Item.audience == Audience.family, access.not_an_attached_recording(),
               or_(in_period(Item.updated_at), in_period(ItemApproval.reviewed_at)))
        .order_by(Item.updated_at, Item.id)
    ).all()
    achieved_goals = session.exec(
        select(Goal).where(Goal.owner_id.in_(child_ids), Goal.status == GoalStatus.achieved,
                           Goal.audience == Audience.family, in_period(Goal.achieved_at))
        .order_by(Goal.achieved_at, Goal.id)
    ).all()
    closing_ids = [goal.closing_reflection_id for goal in achieved_goals if goal.closing_reflection_id]
    closing_items = {entry.id: entry for entry in session.exec(select(Item).where(Item.id.in_(closing_ids))).all()} \
        if closing_ids else {}
    comment_rows = session.exec(
        select(Comment, User.display_name, Item)
        .join(User, User.id == Comment.author_id)
        .join(Item, Item.id == Comment.item_id)
        .where(Comment.owner_id.in_(child_ids), Comment.kind == CommentKind.teacher,
               Comment.status == CommentStatus.visible, in_period(Comment.created_at),
               Item.audience == Audience.family)
        .order_by(Comment.created_at, Comment.id)
    ).all()
    rating_rows = session.exec(
        select(CompetencyRating, Competency.name, ProficiencyLevel, User.display_name)
        .join(Competency, Competency.id == CompetencyRating.competency_id)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .join(User, User.id == CompetencyRating.rated_by_id)
        .where(CompetencyRating.student_id.in_(child_ids), in_period(CompetencyRating.created_at))
        .order_by(CompetencyRating.created_at.desc(), CompetencyRating.id.desc())
    ).all()
    # Only those still standing as it is composed: a guardian may not see a revoked one (nor would the child's page).
    awarded = awarded_between(session=session, settings=settings, viewer=guardian, student_ids=child_ids,
                              start=period_start, end=period_end)

    # Which of those the guardian may see: the access rules, once for every child and item together.
    candidates: dict[tuple[ItemType, int], tuple[int, SimpleNamespace]] = {}
    for entry, _reviewed, _artefact in shared_rows:
        candidates[(entry.type, entry.id)] = (entry.owner_id, _candidate(entry))
    for goal in achieved_goals:
        candidates[(ItemType.goal, goal.id)] = (goal.owner_id, SimpleNamespace(id=goal.id, audience=goal.audience,
                                                                               status=None, type=ItemType.goal))
    for entry in closing_items.values():
        candidates[(entry.type, entry.id)] = (entry.owner_id, _candidate(entry))
    for _comment, _name, entry in comment_rows:
        candidates[(entry.type, entry.id)] = (entry.owner_id, _candidate(entry))
    visible: set[tuple[ItemType, int]] = {
        (item.type, item.id)
        for item in access.visible_among_owners(session=session, viewer=guardian, pairs=list(candidates.values()))}

    by_child = {child_digest.child.id: child_digest for child_digest in digest.children}
    told: set[int] = set()  # an achieved goal is told once, with its closing words: not again as shared items
    for goal in achieved_goals:
        if (ItemType.goal, goal.id) not in visible:
            continue
        closing = closing_items.get(goal.closing_reflection_id)
        words = closing.body if closing is not None and (ItemType.reflection, closing.id) in visible else ""
        by_child[goal.owner_id].achieved.append(Card(
            title=goal.title, kind=ItemType.goal.value, url=_item_url(settings, ItemType.goal, goal.id),
            when=aware(goal.achieved_at), excerpt=plain_text(words, EXCERPT_CHARS) if words else ""))
        told.update(i for i in (goal.id, goal.closing_reflection_id) if i)
    pictures = first_pictures(session=session, reflections=[
        entry for entry, _reviewed, _artefact in shared_rows
        if entry.type is ItemType.reflection and (entry.type, entry.id) in visible and entry.id not in told])
    for entry, reviewed_at, artefact in shared_rows:
        if (entry.type, entry.id) not in visible or entry.id in told:
            continue
        when = max(aware(entry.updated_at), aware(reviewed_at)) if reviewed_at else aware(entry.updated_at)
        by_child[entry.owner_id].shared.append(_card(settings, entry, artefact, when, pictures.get(entry.id)))
    for comment, teacher_name, entry in comment_rows:
        if (entry.type, entry.id) not in visible:
            continue
        by_child[entry.owner_id].highlights.append(Highlight(
            teacher_name=teacher_name, excerpt=plain_text(comment.body or comment.next_step, 280),
            item_title=entry.title, url=_item_url(settings, entry.type, entry.id),
            when=aware(comment.created_at)))
    rated: set[tuple[int, int, str]] = set()  # the latest rating of each competency by each side, newest first
    for rating, competency_name, level, rater_name in rating_rows:
        key = (rating.student_id, rating.competency_id, rating.source.value)
        if key in rated:
            continue
        rated.add(key)
        by_child[rating.student_id].growth.append(GrowthNote(
            competency=competency_name, level=level.label, descriptor=plain_text(level.descriptor, EXCERPT_CHARS),
            by_teacher=rating.source.value == "teacher", rater_name=rater_name))
    for view in awarded:
        by_child[view.credential.student_id].credentials.append(view)
    return digest
