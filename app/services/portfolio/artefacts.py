"""Evidence: creating, editing and deleting artefacts (files, notes, links), their tags and competencies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    ArtefactTag,
    Audience,
    Comment,
    CommentStatus,
    Item,
    ItemType,
    MediaKind,
    Reflection,
    ReflectionStatus,
    Tag,
    User,
)
from app.models.base import utcnow
from app.services.badges import imported as imported_badges
from app.services.moderation import approvals
from app.services.portfolio import storage
from app.services.portfolio import tags as tag_service
from app.services.portfolio import timeline
from app.access import NotFound, attached_recordings_among, can_see, load, load_own, not_an_attached_recording, not_found
from app.access.relationships import is_teacher_of
from app.services.portfolio.markdown import embedded_file_ids

MAX_TAGS = tag_service.MAX_TAGS


@dataclass
class ArtefactInput:
    """What a student typed in an artefact form, parsed and checked."""

    title: str = ""
    description: str = ""
    occurred_on: date = field(default_factory=date.today)
    audience: Audience = Audience.private
    tags: list[str] = field(default_factory=list)
    competency_ids: set[int] = field(default_factory=set)
    body: str = ""
    url: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def parse_input(
    first: Callable[[str], str], every: Callable[[str], list[str]], *, kind: ArtefactKind, allowed_competencies: set[int]
) -> ArtefactInput:
    """Read and validate the shared artefact fields from any form source (plain or streamed multipart)."""
    data = ArtefactInput()
    errors = data.errors
    data.title = first("title").strip()
    if len(data.title) > 200:
        errors["title"] = _("Keep the title under 200 characters (it has %(n)s).", n=len(data.title))
    if kind is not ArtefactKind.file and not data.title:
        errors["title"] = _("Give it a title, so you can find it later.")
    data.description = first("description").strip()[:5000]
    raw_date = first("occurred_on").strip()
    if raw_date:
        try:
            data.occurred_on = date.fromisoformat(raw_date)
        except ValueError:
            errors["occurred_on"] = _("Use a date like 2026-11-23.")
    try:
        data.audience = Audience(first("audience") or Audience.private.value)
    except ValueError:
        errors["audience"] = _("Choose who can see it from the list.")
    data.tags = normalise_tags(first("tags"))
    if len(data.tags) > MAX_TAGS:
        errors["tags"] = _("Use at most %(max)s tags.", max=MAX_TAGS)
    data.competency_ids = {int(v) for v in every("competency_ids") if v.isdigit()} & allowed_competencies
    if kind is ArtefactKind.note:
        data.body = first("body").strip()
        if not data.body:
            errors["body"] = _("Write something in your note.")
        elif len(data.body) > 100_000:
            errors["body"] = _("That note is too long; split it into two.")
    if kind is ArtefactKind.link:
        data.url = first("url").strip()
        parts = urlsplit(data.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors["url"] = _("Paste a full web address starting with https://")
        elif len(data.url) > 2000:
            errors["url"] = _("That web address is too long.")
    return data


def normalise_tags(raw: str) -> list[str]:
    """Comma-separated tags, trimmed, with their case, without duplicates, in the order typed."""
    return tag_service.normalise(raw)


def _set_tags(session: Session, artefact: Artefact, names: list[str]) -> None:
    tag_service.set_tags(session=session, kind="artefact", item_id=artefact.id, owner_id=artefact.owner_id, names=names)


def _set_competencies(session: Session, artefact: Artefact, competency_ids: set[int]) -> None:
    session.exec(sa.delete(ArtefactCompetency).where(ArtefactCompetency.artefact_id == artefact.id))
    for competency_id in sorted(competency_ids):
        session.add(ArtefactCompetency(artefact_id=artefact.id, competency_id=competency_id))


def _apply(artefact: Artefact, data: ArtefactInput) -> None:
    artefact.description = data.description
    artefact.occurred_on = data.occurred_on
    artefact.audience = data.audience
    if artefact.kind is ArtefactKind.note:
        artefact.body = data.body
    if artefact.kind is ArtefactKind.link:
        artefact.url = data.url


def _save(session: Session, artefact: Artefact, data: ArtefactInput) -> Artefact:
    session.add(artefact)
    session.flush()
    _set_tags(session, artefact, data.tags)
    _set_competencies(session, artefact, data.competency_ids)
    timeline.sync_artefact(session=session, artefact=artefact)
    approvals.request_if_needed(session=session, owner_id=artefact.owner_id, item_id=artefact.id, audience=artefact.audience, title=artefact.title)
    return artefact


def create_text_artefact(*, session: Session, owner: User, kind: ArtefactKind, data: ArtefactInput) -> Artefact:
    """A new note or link."""
    artefact = Artefact(owner_id=owner.id, kind=kind, title=data.title, occurred_on=data.occurred_on)
    _apply(artefact, data)
    return _save(session, artefact, data)


def create_file_artefacts(*, session: Session, owner: User, files: list, data: ArtefactInput,
                          quota_bytes: int | None = None) -> list[Artefact]:
    """One artefact per stored upload, each counted against the owner's quota (None: demo data, not limited).

    The title is the typed one (numbered) or the file's name; a badge baked into an image is kept beside it.
    Raises storage.QuotaExceeded for a file that doesn't fit; the caller rolls back what was already added and
    removes the stored files."""
    created = []
    for number, stored in enumerate(files, start=1):
        storage.reserve(session=session, user_id=owner.id, size_bytes=stored.stored_bytes, quota_bytes=quota_bytes,
                        name=stored.original_name)
        if data.title:
            title = data.title if len(files) == 1 else f"{data.title} ({number})"
        else:
            title = Path(stored.original_name).stem[:200] or _("Untitled file")
        artefact = Artefact(
            owner_id=owner.id, kind=ArtefactKind.file, title=title[:200], occurred_on=data.occurred_on,
            stored_name=stored.stored_name, original_name=stored.original_name[:255],
            content_type=stored.content_type, media_kind=stored.media_kind, size_bytes=stored.size_bytes,
            width=stored.width, height=stored.height, thumb_small=stored.thumb_small, thumb_large=stored.thumb_large,
            thumb_print=stored.thumb_print, reencoded=stored.reencoded, derived_bytes=stored.derived_bytes,
        )
        _apply(artefact, data)
        created.append(_save(session, artefact, data))
        if stored.badge_version:
            imported_badges.record(session=session, artefact=artefact, version=stored.badge_version,
                                   payload=stored.badge_payload, unreadable=stored.badge_unreadable)
    return created


def add_caption(*, session: Session, owner: User, artefact: Artefact, recording, quota_bytes: int | None) -> Artefact:
    """Save a stored recording as the artefact's spoken caption: private, since whoever may see the artefact hears it
    with it (artefact_visible_to), so changing the artefact's audience later carries it along."""
    data = ArtefactInput(title=_("Caption: %(title)s", title=artefact.title)[:200], occurred_on=artefact.occurred_on,
                         audience=Audience.private)
    caption = create_file_artefacts(session=session, owner=owner, files=[recording], data=data, quota_bytes=quota_bytes)[0]
    artefact.audio_artefact_id = caption.id
    session.add(artefact)
    # Families hear the caption with the artefact: the artefact's approval covers it.
    approvals.request_if_needed(session=session, owner_id=artefact.owner_id, item_id=artefact.id,
                                audience=artefact.audience, title=artefact.title)
    return caption


def update_artefact(*, session: Session, artefact: Artefact, data: ArtefactInput) -> Artefact:
    """Save edits to an artefact (its file, if any, stays). A recording stays private: who hears it is decided by
    what it belongs to, so it is never shared (or sent for approval) on its own."""
    if data.title:
        artefact.title = data.title
    if is_attached_recording(session=session, artefact=artefact):
        data.audience = Audience.private
    _apply(artefact, data)
    artefact.updated_at = utcnow()
    return _save(session, artefact, data)


def delete_artefact(*, session: Session, artefact: Artefact) -> list[str]:
    """Delete the row (links cascade) with its spoken caption, which is part of it (unless something else plays it
    too), give their space back, and return the stored file names for the caller to remove after commit."""
    names = [n for n in (artefact.stored_name, artefact.thumb_small, artefact.thumb_large, artefact.thumb_print) if n]
    storage.release(session=session, user_id=artefact.owner_id,
                    size_bytes=(artefact.size_bytes or 0) + (artefact.derived_bytes or 0))
    caption = caption_of(session=session, artefact=artefact)
    timeline.delete_item(session=session, item_id=artefact.id)
    if caption is not None:
        session.flush()
        if not attached_recordings_among(session=session, ids=[caption.id]):
            names += delete_artefact(session=session, artefact=caption)
    return names


def caption_of(*, session: Session, artefact: Artefact) -> Artefact | None:
    """The artefact's spoken caption, for a viewer already let in to the artefact (it follows the artefact)."""
    if not artefact.audio_artefact_id:
        return None
    caption = session.get(Artefact, artefact.audio_artefact_id)
    if caption is None or caption.owner_id != artefact.owner_id or caption.media_kind is not MediaKind.audio:
        return None  # only a sound file of the owner's is a caption (artefact_visible_to agrees)
    return caption


# --- loading, with access checks ---------------------------------------------------------------


def artefact_for_owner(*, session: Session, owner: User, artefact_id: int) -> Artefact:
    """The owner's own artefact (for editing), or 404."""
    return load_own(session, Artefact, artefact_id, owner)


def artefact_visible_to(*, session: Session, viewer: User, artefact_id: int) -> Artefact:
    """An artefact `viewer` may see under the audience rules, or 404.

    A recording follows what it belongs to instead, whatever audience it was saved with: a reflection's recording is
    heard by whoever may read the reflection (any, if several use it), an evidence's caption by whoever may see the
    evidence, a teacher's spoken feedback by whoever may see
    its comment (app.services.moderation.feedback's rule); nobody else."""
    artefact = load(session, Artefact, artefact_id)
    recorded_for = _reflections_recorded_in(session, artefact)
    if recorded_for:
        if not any(can_see(session=session, viewer=viewer, owner_id=r.owner_id, audience=r.audience,
                           draft=r.status is ReflectionStatus.draft, item_id=r.id)
                   for r in recorded_for):
            raise not_found()
        return artefact
    captioned = _artefacts_captioned_by(session, artefact)
    if captioned:
        if not any(can_see(session=session, viewer=viewer, owner_id=a.owner_id, audience=a.audience, item_id=a.id)
                   for a in captioned):
            raise not_found()
        return artefact
    spoken_in = _comments_recorded_in(session, artefact)
    if spoken_in:
        if not any(_comment_recording_visible(session, viewer=viewer, comment=c) for c in spoken_in):
            raise not_found()
        return artefact
    if not can_see(session=session, viewer=viewer, owner_id=artefact.owner_id, audience=artefact.audience,
                   item_id=artefact.id):
        raise not_found()
    return artefact


def file_visible_to(*, session: Session, viewer: User, artefact_id: int) -> Artefact:
    """An artefact whose file `viewer` may fetch, or 404: one they may see (artefact_visible_to), or a picture shown in
    the text of a reflection of its owner's they may read (a Mahara journal post's photos, imported private), which is
    seen with it and no wider: not its page, not in any list."""
    try:
        return artefact_visible_to(session=session, viewer=viewer, artefact_id=artefact_id)
    except NotFound:
        artefact = session.get(Artefact, artefact_id)
        if artefact is not None and any(
                can_see(session=session, viewer=viewer, owner_id=r.owner_id, audience=r.audience,
                        draft=r.status is ReflectionStatus.draft, item_id=r.id)
                for r in reflections_showing(session=session, artefact=artefact)):
            return artefact
        raise


def reflections_showing(*, session: Session, artefact: Artefact) -> list[Reflection]:
    """The owner's reflections whose text shows this picture ("![…](/files/12/large)")."""
    if artefact.media_kind is not MediaKind.image:
        return []
    candidates = session.exec(select(Reflection).where(
        Reflection.owner_id == artefact.owner_id, Reflection.body.contains(f"](/files/{artefact.id}/"))).all()
    return [r for r in candidates if artefact.id in embedded_file_ids(r.body)]


def _reflections_recorded_in(session: Session, artefact: Artefact) -> list[Reflection]:
    if artefact.media_kind is not MediaKind.audio:
        return []
    return list(session.exec(select(Reflection).where(Reflection.audio_artefact_id == artefact.id,
                                                      Reflection.owner_id == artefact.owner_id)).all())


def _artefacts_captioned_by(session: Session, artefact: Artefact) -> list[Artefact]:
    if artefact.media_kind is not MediaKind.audio:
        return []
    return list(session.exec(select(Artefact).where(Artefact.audio_artefact_id == artefact.id,
                                                    Artefact.owner_id == artefact.owner_id)).all())


def _comments_recorded_in(session: Session, artefact: Artefact) -> list[Comment]:
    if artefact.media_kind is not MediaKind.audio:
        return []
    return list(session.exec(select(Comment).where(Comment.audio_artefact_id == artefact.id,
                                                   Comment.owner_id == artefact.owner_id)).all())


def _comment_recording_visible(session: Session, *, viewer: User, comment: Comment) -> bool:
    # The rule of app.services.moderation.feedback (which imports this module, so it is not called from here): a
    # comment is seen by whoever may see its item while it is visible; held, by its author and the owner's teachers;
    # reported, by the teachers; removed, by nobody.
    item = session.get(Item, comment.item_id)
    if item is None or not can_see(session=session, viewer=viewer, owner_id=item.owner_id, audience=item.audience,
                                   draft=item.type is ItemType.reflection and item.kind == ReflectionStatus.draft.value,
                                   item_id=item.id):
        return False
    if comment.status is CommentStatus.visible:
        return True
    if comment.status is CommentStatus.removed:
        return False
    if comment.status is CommentStatus.pending and comment.author_id == viewer.id:
        return True
    return is_teacher_of(session=session, viewer=viewer, student_id=item.owner_id)


def is_attached_recording(*, session: Session, artefact: Artefact) -> bool:
    """True when the artefact is a reflection's recording or a comment's spoken feedback (part of that, not evidence
    of its own)."""
    return bool(attached_recordings_among(session=session, ids=[artefact.id]))


@dataclass
class ArtefactDetails:
    tags: list[str]
    competencies: list  # Competency rows


def details_of(*, session: Session, artefact: Artefact) -> ArtefactDetails:
    """Tags and competencies of one artefact (two queries)."""
    from app.models import Competency

    tags = session.exec(
        select(Tag.name).join(ArtefactTag, ArtefactTag.tag_id == Tag.id).where(ArtefactTag.artefact_id == artefact.id).order_by(Tag.name)
    ).all()
    competencies = session.exec(
        select(Competency).join(ArtefactCompetency, ArtefactCompetency.competency_id == Competency.id)
        .where(ArtefactCompetency.artefact_id == artefact.id).order_by(Competency.code)
    ).all()
    return ArtefactDetails(list(tags), list(competencies))


def recent_artefacts(*, session: Session, owner: User, limit: int = 50) -> list[Artefact]:
    """The owner's newest artefacts (for evidence pickers), recordings aside: they are part of something already."""
    return list(session.exec(
        select(Artefact).where(Artefact.owner_id == owner.id, not_an_attached_recording(Artefact.id))
        .order_by(Artefact.occurred_on.desc(), Artefact.id.desc()).limit(limit)
    ).all())


def is_viewable_inline(artefact: Artefact) -> bool:
    return artefact.media_kind in (MediaKind.image, MediaKind.audio, MediaKind.video, MediaKind.pdf)
