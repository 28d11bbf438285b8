"""When a guardian's next digest is due and what period it covers.

Periods are contiguous: each starts where the last recorded one ended (or, for the first, when the guardian was
first linked to a child), whatever the cron schedule and however long since the last run, so nothing shared falls
between two digests. An unfinished claim is itself the next period: it is being sent, or will be sent again once
the run that claimed it is known to have died (CLAIM_TIMEOUT).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from app.access import relationships
from app.i18n import _
from app.models import DigestFrequency, DigestLog, DigestState, User

INTERVALS = {DigestFrequency.daily.value: timedelta(days=1), DigestFrequency.weekly.value: timedelta(days=7)}
# A cron job at the same hour every day finishes a few seconds later each time; without some slack a daily
# digest would wait a whole extra day whenever the last run ended a moment after this one started.
DUE_SLACK = timedelta(hours=1)
# A claim this old belongs to a run that died (sending one digest takes seconds): another run sends it again.
CLAIM_TIMEOUT = timedelta(minutes=30)


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


def aware(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands some back naive)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class NextPeriod:
    start: datetime
    end: datetime
    claim: DigestLog | None = None  # the unfinished claim this period is (being sent, or left by a run that died)

    def claim_is_stale(self, *, now: datetime) -> bool:
        """True when the claim's run has had long enough to send it: it died, and the period is sent again."""
        return self.claim is not None and aware(self.claim.claimed_at or self.start) <= now - CLAIM_TIMEOUT


def last_digest(*, session: Session, guardian_id: int) -> DigestLog | None:
    """The guardian's latest recorded (or claimed) digest period."""
    return session.exec(
        select(DigestLog).where(DigestLog.guardian_id == guardian_id)
        .order_by(DigestLog.period_end.desc()).limit(1).execution_options(populate_existing=True)
    ).first()


def next_period(*, session: Session, guardian: User, now: datetime) -> NextPeriod:
    """The period the guardian's next digest covers (two queries at most): an unfinished claim, else from where
    the last one ended (or the first link) to `now`."""
    last = last_digest(session=session, guardian_id=guardian.id)
    if last is not None and last.state == DigestState.claimed.value:
        return NextPeriod(aware(last.period_start), aware(last.period_end), last)
    if last is not None:
        start = aware(last.period_end)
    else:
        linked = relationships.first_linked_at(session=session, guardian_id=guardian.id)
        start = aware(linked or guardian.created_at)
    return NextPeriod(min(start, now), now)


def is_due(*, frequency: str, period_start: datetime, now: datetime) -> bool:
    """True when a digest starting at `period_start` has run its course by `now` ("off" never is)."""
    interval = digest_interval(frequency=frequency)
    return interval is not None and now - period_start >= interval - DUE_SLACK
