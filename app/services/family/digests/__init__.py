"""Family digests: a calm email to each guardian with what their children shared, goals reached, credentials
awarded, teachers' words and growth, photos first.

A guardian chooses weekly (the default), daily or off. Each digest covers [period_start, period_end), starting
where the last one ended (periods.py), so nothing is told twice and nothing is missed; it is claimed before it
is sent (sending.py), so overlapping runs send it once. The preview at /family/digest is the next email, composed
(compose.py) and rendered (render.py) by the same code; links.py is the sign-in-free settings link in each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.models import User
from app.models.base import utcnow
from app.services.family.digests.compose import (
    Card, ChildDigest, Digest, GrowthNote, Highlight, absolute_url, compose_digest,
)
from app.services.family.digests.links import guardian_for_token, set_frequency, settings_token, settings_url
from app.services.family.digests.periods import (
    CLAIM_TIMEOUT, NextPeriod, aware, digest_interval, frequency_options, is_due, next_period,
)
from app.services.family.digests.render import (
    DigestEmail, digest_email, email_environment, locale_of, preview_image_urls, render_parts, user_locale,
)
from app.services.family.digests.sending import SendReport, send_due, send_one


@dataclass
class DigestPreview:
    digest: Digest
    due: bool
    frequency: str
    subject: str
    text: str
    html: str


def preview_digest(*, session: Session, settings: Settings, guardian: User, now: datetime | None = None) -> DigestPreview:
    """The guardian's next digest exactly as it would be sent now (same period, same content, same templates),
    its photos shown from Folio instead of carried in the message."""
    now = now or utcnow()
    period = next_period(session=session, guardian=guardian, now=now)
    digest = compose_digest(session=session, settings=settings, guardian=guardian,
                            period_start=period.start, period_end=period.end)
    subject, text, html = render_parts(settings=settings, digest=digest, image_urls=preview_image_urls(digest=digest))
    return DigestPreview(digest=digest, due=is_due(frequency=guardian.digest_frequency, period_start=period.start,
                                                   now=now),
                         frequency=guardian.digest_frequency, subject=subject, text=text, html=html)


__all__ = [
    "CLAIM_TIMEOUT", "Card", "ChildDigest", "Digest", "DigestEmail", "DigestPreview", "GrowthNote", "Highlight",
    "NextPeriod", "SendReport", "absolute_url", "aware", "compose_digest", "digest_email", "digest_interval", "email_environment", "frequency_options",
    "guardian_for_token", "is_due", "locale_of", "next_period", "preview_digest", "render_parts", "send_due",
    "send_one", "set_frequency", "settings_token", "settings_url", "user_locale",
]
