"""Sending the digests that are due, each exactly once even when runs overlap (cron and a manual run, two hosts).

For each guardian a run first claims the next period: it inserts the period's row as "claimed" and commits,
and the unique (guardian, period start) lets only one of two runs do so, on SQLite and PostgreSQL alike. Then
it composes and sends, holding no lock while the mail server is slow, and marks the row "sent". A send that
fails deletes the claim (the next run tries again, from the same start, so nothing is lost). A run that dies
between sending and marking leaves a claim that another run takes over after CLAIM_TIMEOUT: at worst that one
digest goes twice; none is ever silently dropped.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.config import Settings
from app.mail import Mailer, open_mailer
from app.models import DigestLog, DigestState, Role, User
from app.models.base import utcnow
from app.services.family.digests.compose import compose_digest
from app.services.family.digests.periods import INTERVALS, is_due, next_period
from app.services.family.digests.render import digest_email

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    sent: int = 0  # emails that went out
    empty: int = 0  # periods with nothing new: recorded, no email
    skipped: int = 0  # guardians with digests off or no email address
    failed: int = 0  # could not be sent; the claim is let go, so the next run tries again
    not_due: int = 0
    busy: int = 0  # another run is sending it right now


def _claim(*, session: Session, guardian_id: int, now: datetime, run: str) -> tuple[User, DigestLog] | str:
    """Claim the guardian's next period for this run, committed; or say why not (a SendReport field)."""
    guardian = session.exec(
        select(User).where(User.id == guardian_id).execution_options(populate_existing=True)
    ).one_or_none()
    if guardian is None or guardian.digest_frequency not in INTERVALS or not guardian.email:
        session.rollback()
        return "skipped"
    period = next_period(session=session, guardian=guardian, now=now)
    if period.claim is not None:
        if not period.claim_is_stale(now=now):
            session.rollback()
            return "busy"
        # The run that claimed it died: take it over, if no other run has just done so.
        taken = session.execute(
            update(DigestLog).where(DigestLog.id == period.claim.id, DigestLog.state == DigestState.claimed.value,
                                    DigestLog.claimed_by == period.claim.claimed_by)
            .values(claimed_by=run, claimed_at=now)
        ).rowcount
        session.commit()
        if taken != 1:
            return "busy"
        return guardian, session.get(DigestLog, period.claim.id, populate_existing=True)
    if not is_due(frequency=guardian.digest_frequency, period_start=period.start, now=now):
        session.rollback()
        return "not_due"
    row = DigestLog(guardian_id=guardian.id, period_start=period.start, period_end=period.end,
                    state=DigestState.claimed.value, claimed_at=now, claimed_by=run)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:  # another run claimed this very period first
        session.rollback()
        return "busy"
    return guardian, row


def _finish(*, session: Session, row_id: int, run: str, state: DigestState, item_count: int, now: datetime) -> None:
    session.execute(
        update(DigestLog).where(DigestLog.id == row_id, DigestLog.claimed_by == run)
        .values(state=state.value, item_count=item_count, sent_at=now)
    )
    session.commit()


def _release(*, session: Session, row_id: int, run: str) -> None:
    session.rollback()
    session.execute(delete(DigestLog).where(DigestLog.id == row_id, DigestLog.claimed_by == run,
                                            DigestLog.state == DigestState.claimed.value))
    session.commit()


def send_one(*, session: Session, settings: Settings, mailer: Mailer, guardian_id: int, now: datetime, run: str) -> str:
    """Claim, send and record one guardian's digest if it is due; what happened, as a SendReport field."""
    claimed = _claim(session=session, guardian_id=guardian_id, now=now, run=run)
    if isinstance(claimed, str):
        return claimed
    guardian, row = claimed
    try:
        digest = compose_digest(session=session, settings=settings, guardian=guardian,
                                period_start=row.period_start, period_end=row.period_end)
        if digest.item_count:
            email = digest_email(settings=settings, digest=digest)
            mailer.send(to=guardian.email, subject=email.subject, text=email.text, html=email.html,
                        images=email.images, headers=email.headers)
    except Exception:
        _release(session=session, row_id=row.id, run=run)
        raise
    # Sent: from here a failure leaves the claim, and it goes once more after CLAIM_TIMEOUT (never dropped).
    _finish(session=session, row_id=row.id, run=run, state=DigestState.sent if digest.item_count else DigestState.empty,
            item_count=digest.item_count, now=now)
    return "sent" if digest.item_count else "empty"


def send_due(*, session: Session, settings: Settings, now: datetime | None = None) -> SendReport:
    """Send every guardian's digest that is due, each once; a failure doesn't stop the rest."""
    now = now or utcnow()
    run = uuid.uuid4().hex
    report = SendReport()
    guardian_ids = session.exec(
        select(User.id).where(User.role == Role.guardian, User.is_active == True).order_by(User.id)  # noqa: E712
    ).all()
    session.rollback()
    with open_mailer(settings=settings) as mailer:
        for guardian_id in guardian_ids:
            try:
                outcome = send_one(session=session, settings=settings, mailer=mailer, guardian_id=guardian_id,
                                   now=now, run=run)
            except Exception:  # noqa: BLE001 - one guardian's failure must not stop the others
                session.rollback()
                logger.exception("Could not send the digest to guardian %s", guardian_id)
                outcome = "failed"
            setattr(report, outcome, getattr(report, outcome) + 1)
    return report
