"""The digest as words and pictures, in the guardian's language: the email (plain text, HTML with its photos
inline) and the preview page, from the same templates and the same composed Digest."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from babel.lists import format_list
from jinja2 import Environment
from PIL import Image

from app import dates, i18n, storage
from app.config import Settings
from app.i18n import _, ngettext
from app.mail import InlineImage
from app.models import DigestFrequency, User
from app.services.family.digests.compose import Card, ChildDigest, Digest, absolute_url
from app.services.family.digests.links import settings_url

logger = logging.getLogger(__name__)
IMAGE_PX = 600  # wide enough for a phone's two pixels per point in a 300-point card


@dataclass
class DigestEmail:
    subject: str
    text: str
    html: str
    images: list[InlineImage] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


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


def digest_subject(*, digest: Digest) -> str:
    """The email's subject in the current language: "Folio: what Maya shared this week"."""
    children = digest.with_news or digest.children
    if not children:
        return _("Folio: your family digest")
    names = format_list([child.child.display_name for child in children], locale=i18n.get_locale())
    awarded = sum(len(child.credentials) for child in children)
    if awarded and awarded == sum(child.item_count for child in children):  # nothing shared: "shared" would be wrong
        if digest.guardian.digest_frequency == DigestFrequency.daily.value:
            return ngettext("Folio: %(names)s earned a credential today", "Folio: %(names)s earned credentials today",
                            awarded, names=names)
        return ngettext("Folio: %(names)s earned a credential this week",
                        "Folio: %(names)s earned credentials this week", awarded, names=names)
    if digest.guardian.digest_frequency == DigestFrequency.daily.value:
        return _("Folio: what %(names)s shared today", names=names)
    return _("Folio: what %(names)s shared this week", names=names)


def card_heading(card: Card, name: str) -> str:
    """What the card is, as a sentence about the child: "Maya added a photo" (never a bare "(File)")."""
    words = {
        "photo": _("%(name)s added a photo", name=name),
        "video": _("%(name)s added a video", name=name),
        "recording": _("%(name)s added a recording", name=name),
        "note": _("%(name)s wrote a note", name=name),
        "link": _("%(name)s shared a link", name=name),
        "reflection": _("%(name)s wrote a reflection", name=name),
        "goal": _("%(name)s set a goal", name=name),
    }
    return words.get(card.kind, _("%(name)s added a file", name=name))


def child_summary(child: ChildDigest) -> str:
    """The child's news in one line: "3 things shared · 1 goal reached · 1 credential earned · 2 comments from
    teachers"."""
    parts = []
    if child.shared:
        parts.append(ngettext("%(num)s thing shared", "%(num)s things shared", len(child.shared)))
    if child.achieved:
        parts.append(ngettext("%(num)s goal reached", "%(num)s goals reached", len(child.achieved)))
    if child.credentials:
        parts.append(ngettext("%(num)s credential earned", "%(num)s credentials earned", len(child.credentials)))
    if child.highlights:
        parts.append(ngettext("%(num)s comment from a teacher", "%(num)s comments from teachers",
                              len(child.highlights)))
    if child.growth:
        parts.append(ngettext("%(num)s step of growth", "%(num)s steps of growth", len(child.growth)))
    return " · ".join(parts)


def digest_context(*, settings: Settings, digest: Digest, image_urls: dict[int, str], settings_link: str | None = None
                   ) -> dict:
    """What the digest templates need (the email's parts and the preview), in the current language.

    `image_urls` maps a photo card's artefact id to where its picture is: "cid:..." in the email, the file's
    address on the preview page; a card without one shows no picture."""
    def day(value: datetime) -> str:
        return dates.day(value, timezone=settings.timezone)

    start, end = (dates.day(moment, timezone=settings.timezone, in_words=True)
                  for moment in (digest.period_start, digest.period_end))
    return {
        "digest": digest,
        "subject": digest_subject(digest=digest),
        "period_words": _("From %(start)s to %(end)s.", start=start, end=end),
        "day": day,
        "home_url": absolute_url(settings=settings, path="/family"),
        "settings_url": settings_link or settings_url(settings=settings, guardian=digest.guardian),
        "account_url": absolute_url(settings=settings, path="/account"),
        "image_urls": image_urls,
        "card_heading": card_heading,
        "child_summary": child_summary,
        "lang": i18n.get_locale(),
    }


@lru_cache(maxsize=512)
def _jpeg(store: storage.Storage, key: str) -> bytes:
    # The thumbnails are WebP, which several mail clients don't show; sibling digests reuse the conversion.
    with Image.open(io.BytesIO(store.read_bytes(key))) as image:
        image.thumbnail((IMAGE_PX, IMAGE_PX))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80, optimize=True, progressive=True)
        return out.getvalue()


def inline_images(*, settings: Settings, digest: Digest) -> tuple[list[InlineImage], dict[int, str]]:
    """The photos the email shows, read from the file store and carried in the message (nothing is loaded
    from a server when it is opened, so nobody learns who opened it); a missing file just shows no picture."""
    store = storage.uploads(settings)
    images: list[InlineImage] = []
    urls: dict[int, str] = {}
    for child in digest.children:
        for card in child.cards:
            if card.thumbnail_key is None or card.artefact_id in urls:
                continue
            try:
                data = _jpeg(store, card.thumbnail_key)
            except (OSError, ValueError, Image.DecompressionBombError):
                logger.warning("The digest shows artefact %s without its picture", card.artefact_id, exc_info=True)
                continue
            cid = f"photo-{card.artefact_id}@folio"
            images.append(InlineImage(cid=cid, data=data, filename=f"photo-{card.artefact_id}.jpg"))
            urls[card.artefact_id] = f"cid:{cid}"
    return images, urls


def preview_image_urls(*, digest: Digest) -> dict[int, str]:
    """On the preview page the same photos come from Folio (the guardian is signed in)."""
    return {card.artefact_id: f"/files/{card.artefact_id}/small"
            for child in digest.children for card in child.cards if card.thumbnail_key}


def render_parts(*, settings: Settings, digest: Digest, image_urls: dict[int, str], settings_link: str | None = None
                 ) -> tuple[str, str, str]:
    """(subject, plain text, HTML) in the current language."""
    env = email_environment(settings)
    context = digest_context(settings=settings, digest=digest, image_urls=image_urls, settings_link=settings_link)
    return (context["subject"], env.get_template("email/digest.txt").render(context),
            env.get_template("email/digest.html").render(context))


def digest_email(*, settings: Settings, digest: Digest) -> DigestEmail:
    """The email as it will be sent to the guardian, in their language, with the headers that let them stop it."""
    images, urls = inline_images(settings=settings, digest=digest)
    # One link for the header and the text: a signed link made a second later would differ from it.
    unsubscribe = settings_url(settings=settings, guardian=digest.guardian)
    with locale_of(user_locale(settings=settings, user=digest.guardian)):
        subject, text, html = render_parts(settings=settings, digest=digest, image_urls=urls,
                                           settings_link=unsubscribe)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058: the mail app's button POSTs there
        "List-Id": f"Folio family digest <digest.{urlsplit(settings.base_url).hostname or 'localhost'}>",
    }
    return DigestEmail(subject=subject, text=text, html=html, images=images, headers=headers)
