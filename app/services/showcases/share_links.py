"""Secret links: a read-only, expiring, revocable address for one showcase, for someone without an account.

The token (256 random bits) is shown once; only its SHA-256 is stored. A link works only while it is unexpired,
unrevoked, and every active class of the student allows secret links (checked at each visit)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact, ArtefactKind, AuditEventKind, MediaKind, Reflection, ReflectionStatus, Role, SchoolClass, ShareLink,
    ShareLinkView, Showcase, ShowcaseItem, ShowcaseItemType, User,
)
from app.models.base import utcnow
from app.services.accounts import audit
from app.services.forms import FormInput
from app.access import attached_recordings_among, not_an_attached_recording, not_found
from app.access.relationships import active_classes_of_student
from app.services.portfolio.artefacts import reflections_showing
from app.services.showcases.showcase_items import valid_id


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def _blocking_classes(student_id: int, what=SchoolClass):
    return select(what).where(SchoolClass.id.in_(active_classes_of_student(student_id)),
                              SchoolClass.secret_links_allowed == False)  # noqa: E712


def classes_blocking_links(*, session: Session, student_id: int) -> list[SchoolClass]:
    """The student's active classes whose teacher turned secret links off (any one is enough to stop them)."""
    return list(session.exec(_blocking_classes(student_id).order_by(SchoolClass.name, SchoolClass.id)).all())


def links_allowed(*, session: Session, student_id: int) -> bool:
    """True unless an active class of the student has secret links turned off."""
    return session.exec(_blocking_classes(student_id, SchoolClass.id).limit(1)).first() is None


# --- creating, listing, revoking ---------------------------------------------------------------


def default_expiry(*, today: date, max_days: int) -> date:
    """The expiry date the form suggests: as late as allowed."""
    return today + timedelta(days=max_days)


@dataclass
class ExpiryInput(FormInput):
    expires_on: date | None = None


def parse_expiry(*, expires_on: str, today: date, max_days: int) -> ExpiryInput:
    """The chosen last day of the link (from tomorrow up to `max_days` ahead), or a message saying what to fix."""
    refused = ExpiryInput()
    try:
        chosen = date.fromisoformat(expires_on.strip())
    except ValueError:
        refused.errors["expires_on"] = _("Use a date like %(example)s.",
                                         example=default_expiry(today=today, max_days=max_days).isoformat())
        return refused
    if chosen <= today:
        refused.errors["expires_on"] = _("Choose a date after today.")
    elif chosen > today + timedelta(days=max_days):
        refused.errors["expires_on"] = _("A secret link can last at most %(days)s days: choose %(date)s or earlier.",
                                         days=max_days, date=default_expiry(today=today, max_days=max_days).isoformat())
    return refused if refused.errors else ExpiryInput(expires_on=chosen)


def today_in(timezone: str) -> date:
    """Today's date where the school is."""
    return datetime.now(ZoneInfo(timezone)).date()


def create_link(
    *, session: Session, owner: User, showcase: Showcase, expires_on: date, address: str | None, timezone: str = "UTC"
) -> tuple[ShareLink, str]:
    """A new link that works until the end of `expires_on` (school time), and its token, which is never stored."""
    token = secrets.token_urlsafe(32)
    end = datetime.combine(expires_on + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))
    link = ShareLink(showcase_id=showcase.id, token_hash=hash_token(token), expires_at=end.astimezone(ZoneInfo("UTC")))
    session.add(link)
    session.flush()
    audit.record(session=session, event=AuditEventKind.share_link_created, actor=owner, subject=owner,
                 object_description=f"showcase {showcase.id}", address=address,
                 details={"showcase_id": showcase.id, "link_id": link.id, "expires_at": link.expires_at.isoformat()})
    return link, token


@dataclass
class LinkRow:
    link: ShareLink
    views: int
    active: bool


def links_of(*, session: Session, showcase: Showcase) -> list[LinkRow]:
    """The showcase's links, newest first, with how often each was opened (one grouped query)."""
    rows = session.exec(
        select(ShareLink, sa.func.count(ShareLinkView.id))
        .outerjoin(ShareLinkView, ShareLinkView.link_id == ShareLink.id)
        .where(ShareLink.showcase_id == showcase.id)
        .group_by(ShareLink.id)
        .order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    ).all()
    now = utcnow()
    return [LinkRow(link, views, link.revoked_at is None and _aware(link.expires_at) > now) for link, views in rows]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def revoke_link(*, session: Session, owner: User, showcase: Showcase, link_id: int, address: str | None) -> ShareLink:
    """Stop one of the showcase's links for good (404 for anyone else's link)."""
    link = session.get(ShareLink, link_id) if valid_id(link_id) else None
    if link is None or link.showcase_id != showcase.id:
        raise not_found()
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        session.add(link)
        audit.record(session=session, event=AuditEventKind.share_link_revoked, actor=owner, subject=owner,
                     object_description=f"showcase {showcase.id}", address=address,
                     details={"showcase_id": showcase.id, "link_id": link.id})
    return link


# --- visiting ----------------------------------------------------------------------------------


def showcase_for_token(*, session: Session, token: str) -> tuple[ShareLink, Showcase]:
    """The link and its showcase, if the token opens one right now; otherwise 404 (saying nothing about why)."""
    if not token or len(token) > 100:
        raise not_found()
    row = session.exec(
        select(ShareLink, Showcase)
        .join(Showcase, Showcase.id == ShareLink.showcase_id)
        .join(User, User.id == Showcase.owner_id)
        .where(ShareLink.token_hash == hash_token(token), ShareLink.revoked_at.is_(None),
               ShareLink.expires_at > utcnow(), User.is_active == True, User.role == Role.student)  # noqa: E712
    ).first()
    if row is None:
        raise not_found()
    link, showcase = row
    if not links_allowed(session=session, student_id=showcase.owner_id):
        raise not_found()
    return link, showcase


def log_view(*, session: Session, link: ShareLink) -> None:
    """Count one visit through the link."""
    session.add(ShareLinkView(link_id=link.id))


def artefact_via_link(*, session: Session, showcase: Showcase, artefact_id: int) -> Artefact:
    """A file artefact the link may serve: an item of this showcase (not a recording: that is part of its
    reflection), the recording of a (published) reflection in it or a picture its text shows, or the spoken caption
    of an artefact in it.
    Anything else: 404."""
    artefact = session.get(Artefact, artefact_id) if valid_id(artefact_id) else None
    if artefact is None or artefact.owner_id != showcase.owner_id or artefact.kind is not ArtefactKind.file:
        raise not_found()
    as_item = session.exec(select(ShowcaseItem.id).where(
        ShowcaseItem.showcase_id == showcase.id, ShowcaseItem.item_type == ShowcaseItemType.artefact,
        ShowcaseItem.item_id == artefact_id)).first()
    if as_item is not None and not attached_recordings_among(session=session, ids=[artefact_id]):
        return artefact
    as_recording = session.exec(
        select(Reflection.id).join(ShowcaseItem, sa.and_(ShowcaseItem.item_id == Reflection.id,
                                                         ShowcaseItem.item_type == ShowcaseItemType.reflection))
        .where(ShowcaseItem.showcase_id == showcase.id, Reflection.audio_artefact_id == artefact_id,
               Reflection.owner_id == showcase.owner_id, Reflection.status == ReflectionStatus.published)
    ).first()
    if as_recording is not None:
        return artefact
    # A picture shown in the text of a (published) reflection in it, as on the reflection's page.
    shown_in = {r.id for r in reflections_showing(session=session, artefact=artefact)
                if r.status is ReflectionStatus.published}
    if shown_in and session.exec(select(ShowcaseItem.id).where(
            ShowcaseItem.showcase_id == showcase.id, ShowcaseItem.item_type == ShowcaseItemType.reflection,
            ShowcaseItem.item_id.in_(shown_in))).first() is not None:
        return artefact
    # A spoken caption is heard with its artefact, which the link shows.
    captioned = aliased(Artefact)
    as_caption = session.exec(
        select(captioned.id).join(ShowcaseItem, sa.and_(ShowcaseItem.item_id == captioned.id,
                                                        ShowcaseItem.item_type == ShowcaseItemType.artefact))
        .where(ShowcaseItem.showcase_id == showcase.id, captioned.audio_artefact_id == artefact_id,
               captioned.owner_id == showcase.owner_id, not_an_attached_recording(captioned.id))
    ).first()
    if as_caption is None or artefact.media_kind is not MediaKind.audio:
        raise not_found()
    return artefact
