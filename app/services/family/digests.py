"""Family digests: a calm email to each guardian with what their children shared, goals achieved and teachers' highlights.

A guardian chooses weekly (the default), daily or off. Each digest covers [period_start, period_end): it starts where
the last one ended (DigestLog), so nothing is told twice and nothing is missed. A period with nothing new is recorded
but sends no email. `send_due` is run by `folio send-digests` (cron); the preview at /family/digest shows the next one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.lists import format_list
from jinja2 import Environment
from sqlalchemy import and_, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app import i18n
from app.config import Settings
from app.i18n import _
from app.mail import Mailer, open_mailer
from app.models import (
    ApprovalStatus, Comment, CommentKind, CommentStatus, DigestFrequency, DigestLog, Goal, GoalStatus,
    ItemApproval, ItemType, Role, Item, User,
)
from app.models.base import utcnow
from app.models.evidence import Audience
from app import access
from app.access import relationships
from app.services.portfolio.markdown import plain_text

logger = logging.getLogger(__name__)

INTERVALS = {DigestFrequency.daily.value: timedelta(days=1), DigestFrequency.weekly.value: timedelta(days=7)}
# A cron job at the same hour every day finishes a few seconds later each time; without some slack a daily
# digest would wait a whole extra day whenever the last run ended a moment after this one started.
DUE_SLACK = timedelta(hours=1)
ITEM_PATHS = {ItemType.artefact: "/artefacts/{id}", ItemType.reflection: "/reflections/{id}", ItemType.goal: "/goals/{id}"}


# --- frequency and period ----------------------------------------------------------------------


def frequency_options() -> list[tuple[str, str, str]]:
    """The digest frequencies a guardian can choose: (value, label, plain explanation), in the reader's language."""
    return [
        (DigestFrequency.weekly.value, _("Weekly"),
         _("One email a week with what your children shared, the goals they reached and their teachers' highlights.")),
        (DigestFrequency.daily.value, _("Daily"), _("One email a day, only on days when there is something new.")),
        (DigestFrequency.off.value, _("Off"), _("No digest emails. Everything is still in Folio when you sign in.")),
    ]


def digest_interval(*, frequency: str) -> timedelta | None:
    """How long one digest period lasts for this frequency (None: digests are off)."""
    return INTERVALS.get(frequency)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def digest_period(*, session: Session, guardian: User, now: datetime) -> tuple[datetime, datetime]:
    """The period the guardian's next digest covers, ending `now` (two queries).

    It starts where the last digest ended; with none yet, when the guardian was first linked to a child (or
    created), but never more than one interval back. A last digest from long ago (digests were off for a while)
    is not caught up beyond two intervals: old news stays in Folio."""
    interval = digest_interval(frequency=guardian.digest_frequency) or INTERVALS[DigestFrequency.weekly.value]
    last_end = session.exec(
        select(DigestLog.period_end).where(DigestLog.guardian_id == guardian.id)
        .order_by(DigestLog.period_end.desc()).limit(1)
    ).first()
    if last_end is not None:
        start = max(_aware(last_end), now - 2 * interval)
    else:
        linked = relationships.first_linked_at(session=session, guardian_id=guardian.id)
        start = max(_aware(linked or guardian.created_at), now - interval)
    return min(start, now), now


def is_due(*, frequency: str, period_start: datetime, now: datetime) -> bool:
    """True when a digest starting at `period_start` has run its course by `now` ("off" never is)."""
    interval = digest_interval(frequency=frequency)
    return interval is not None and now - period_start >= interval - DUE_SLACK


# --- composition -------------------------------------------------------------------------------


@dataclass
class DigestItem:
    title: str
    kind: str  # for kind_label: file/note/link, reflection, goal
    url: str
    when: datetime


@dataclass
class Highlight:
    teacher_name: str
    excerpt: str
    item_title: str
    url: str
    when: datetime


@dataclass
class ChildDigest:
    child: User
    url: str
    shared: list[DigestItem] = field(default_factory=list)
    achieved: list[DigestItem] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return len(self.shared) + len(self.achieved) + len(self.highlights)


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
    # What access.visible_among needs of an item: its id, audience and (reflections) whether it is a draft.
    status = entry.kind if entry.type is ItemType.reflection else None
    return SimpleNamespace(id=entry.id, audience=entry.audience, status=status)


def compose_digest(
    *, session: Session, settings: Settings, guardian: User, period_start: datetime, period_end: datetime
) -> Digest:
    """What the guardian's digest for this period says, per child (a fixed number of queries per child, whatever the items)."""
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
        select(Item, ItemApproval.reviewed_at)
        .outerjoin(ItemApproval, and_(ItemApproval.item_id == Item.id,
                                      ItemApproval.status == ApprovalStatus.approved))
        .where(Item.owner_id.in_(child_ids), Item.audience == Audience.family, access.not_an_attached_recording(),
               or_(in_period(Item.updated_at), in_period(ItemApproval.reviewed_at)))
        .order_by(Item.updated_at, Item.id)
    ).all()
    achieved_goals = session.exec(
        select(Goal).where(Goal.owner_id.in_(child_ids), Goal.status == GoalStatus.achieved,
                           Goal.audience == Audience.family, in_period(Goal.achieved_at))
        .order_by(Goal.achieved_at, Goal.id)
    ).all()
    comment_rows = session.exec(
        select(Comment, User.display_name, Item)
        .join(User, User.id == Comment.author_id)
        .join(Item, Item.id == Comment.item_id)
        .where(Comment.owner_id.in_(child_ids), Comment.kind == CommentKind.teacher,
               Comment.status == CommentStatus.visible, in_period(Comment.created_at),
               Item.audience == Audience.family)
        .order_by(Comment.created_at, Comment.id)
    ).all()

    # Which of those the guardian may see: the access rules, once per child and item type.
    candidates: dict[tuple[int, ItemType], dict[int, SimpleNamespace]] = defaultdict(dict)
    for entry, _reviewed in shared_rows:
        candidates[(entry.owner_id, entry.type)][entry.id] = _candidate(entry)
    for goal in achieved_goals:
        candidates[(goal.owner_id, ItemType.goal)][goal.id] = SimpleNamespace(id=goal.id, audience=goal.audience, status=None)
    for _comment, _name, entry in comment_rows:
        candidates[(entry.owner_id, entry.type)][entry.id] = _candidate(entry)
    visible: set[tuple[ItemType, int]] = set()
    for (owner_id, item_type), items in candidates.items():
        shown = access.visible_among(session=session, viewer=guardian, owner_id=owner_id,
                                     items=list(items.values()))
        visible.update((item_type, item.id) for item in shown)

    by_child = {child_digest.child.id: child_digest for child_digest in digest.children}
    achieved_ids = {goal.id for goal in achieved_goals}
    for goal in achieved_goals:
        if (ItemType.goal, goal.id) in visible:
            by_child[goal.owner_id].achieved.append(DigestItem(
                title=goal.title, kind=ItemType.goal.value, url=_item_url(settings, ItemType.goal, goal.id),
                when=_aware(goal.achieved_at)))
    for entry, reviewed_at in shared_rows:
        if (entry.type, entry.id) not in visible:
            continue
        if entry.type is ItemType.goal and entry.id in achieved_ids:
            continue  # told once, as an achieved goal
        kind = entry.kind if entry.type is ItemType.artefact else entry.type.value
        when = max(_aware(entry.updated_at), _aware(reviewed_at)) if reviewed_at else _aware(entry.updated_at)
        by_child[entry.owner_id].shared.append(DigestItem(
            title=entry.title, kind=kind, url=_item_url(settings, entry.type, entry.id), when=when))
    for comment, teacher_name, entry in comment_rows:
        if (entry.type, entry.id) not in visible:
            continue
        by_child[entry.owner_id].highlights.append(Highlight(
            teacher_name=teacher_name, excerpt=plain_text(comment.body or comment.next_step, 280),
            item_title=entry.title, url=_item_url(settings, entry.type, entry.id),
            when=_aware(comment.created_at)))
    return digest


# --- rendering ---------------------------------------------------------------------------------


@dataclass
class RenderedDigest:
    subject: str
    text: str
    html: str


def email_environment(settings: Settings) -> Environment:
    """Folio's Jinja environment, for emails: .html templates are autoescaped, .txt ones are not."""
    from app.templating import environment_for

    return environment_for(settings)


@contextmanager
def locale_of(locale: str) -> Iterator[None]:
    """Translate in `locale` inside the block, then go back to the language before it."""
    previous = i18n.get_locale()
    i18n.set_locale(locale)
    try:
        yield
    finally:
        i18n.set_locale(previous)


def user_locale(*, settings: Settings, user: User) -> str:
    """The language to write to `user` in: their own choice, else the school's default."""
    return i18n.choose_locale(user_locale=user.locale, accept_language=None, available=i18n.available_locales(),
                              default=settings.default_locale)


def _local_date(settings: Settings, value: datetime) -> date:
    try:
        zone = ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return _aware(value).astimezone(zone).date()


def digest_subject(*, digest: Digest) -> str:
    """The email's subject in the current language: "Folio: what Maya shared this week"."""
    children = digest.with_news or digest.children
    if not children:
        return _("Folio: your family digest")
    names = format_list([child.child.display_name for child in children], locale=i18n.get_locale())
    if digest.guardian.digest_frequency == DigestFrequency.daily.value:
        return _("Folio: what %(names)s shared today", names=names)
    return _("Folio: what %(names)s shared this week", names=names)


def digest_context(*, settings: Settings, digest: Digest) -> dict:
    """What the digest templates need (the email parts and the preview page)."""
    return {
        "digest": digest,
        "subject": digest_subject(digest=digest),
        "start_date": _local_date(settings, digest.period_start),
        "end_date": _local_date(settings, digest.period_end),
        "account_url": absolute_url(settings=settings, path="/account"),
        "home_url": absolute_url(settings=settings, path="/family"),
    }


def render_digest(*, settings: Settings, digest: Digest) -> RenderedDigest:
    """The digest email (subject, plain text, HTML) in the guardian's language."""
    env = email_environment(settings)
    with locale_of(user_locale(settings=settings, user=digest.guardian)):
        context = {**digest_context(settings=settings, digest=digest), "lang": i18n.get_locale()}
        return RenderedDigest(
            subject=context["subject"],
            text=env.get_template("email/digest.txt").render(context),
            html=env.get_template("email/digest.html").render(context),
        )


@dataclass
class DigestPreview:
    digest: Digest
    due: bool
    frequency: str


def preview_digest(*, session: Session, settings: Settings, guardian: User, now: datetime | None = None) -> DigestPreview:
    """The guardian's next digest as it would be sent now."""
    now = now or utcnow()
    start, end = digest_period(session=session, guardian=guardian, now=now)
    digest = compose_digest(session=session, settings=settings, guardian=guardian, period_start=start, period_end=end)
    return DigestPreview(digest=digest, due=is_due(frequency=guardian.digest_frequency, period_start=start, now=now),
                         frequency=guardian.digest_frequency)


# --- sending -----------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0  # emails that went out
    empty: int = 0  # periods with nothing new: recorded, no email
    skipped: int = 0  # guardians with digests off or no email address
    failed: int = 0  # could not be sent; not recorded, so the next run tries again
    not_due: int = 0


def _send_one(*, session: Session, settings: Settings, mailer: Mailer, guardian_id: int, now: datetime) -> str:
    """Send (or record as empty) one guardian's digest if it is due; returns what happened, as a SendReport field."""
    # The lock (PostgreSQL) makes a second run running at the same moment wait, then see this run's DigestLog.
    guardian = session.exec(
        select(User).where(User.id == guardian_id).with_for_update().execution_options(populate_existing=True)
    ).one_or_none()
    if guardian is None or guardian.digest_frequency not in INTERVALS or not guardian.email:
        session.rollback()
        return "skipped"
    start, end = digest_period(session=session, guardian=guardian, now=now)
    if not is_due(frequency=guardian.digest_frequency, period_start=start, now=now):
        session.rollback()
        return "not_due"
    digest = compose_digest(session=session, settings=settings, guardian=guardian, period_start=start, period_end=end)
    session.add(DigestLog(guardian_id=guardian.id, period_start=start, period_end=end, item_count=digest.item_count,
                          sent_at=now))
    session.flush()  # a duplicate (guardian_id, period_end) stops here, before anything is sent
    if digest.item_count:
        rendered = render_digest(settings=settings, digest=digest)
        mailer.send(to=guardian.email, subject=rendered.subject, text=rendered.text, html=rendered.html)
    session.commit()
    return "sent" if digest.item_count else "empty"


def send_due(*, session: Session, settings: Settings, now: datetime | None = None) -> SendReport:
    """Send every guardian's digest that is due; each is recorded with its send, and a failure doesn't stop the rest."""
    now = now or utcnow()
    report = SendReport()
    guardian_ids = session.exec(
        select(User.id).where(User.role == Role.guardian, User.is_active == True).order_by(User.id)  # noqa: E712
    ).all()
    session.rollback()
    with open_mailer(settings=settings) as mailer:
        for guardian_id in guardian_ids:
            try:
                outcome = _send_one(session=session, settings=settings, mailer=mailer, guardian_id=guardian_id, now=now)
            except IntegrityError:
                session.rollback()
                outcome = "not_due"  # another run recorded this very period first
            except Exception:  # noqa: BLE001 - one guardian's failure must not stop the others
                session.rollback()
                logger.exception("Could not send the digest to guardian %s", guardian_id)
                outcome = "failed"
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report
