"""Reflections: journal entries, their links, prompts, and edits that never silently overwrite each other."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact,
    Audience,
    Competency,
    Goal,
    MediaKind,
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    ReflectionGoal,
    ReflectionStatus,
    SchoolClass,
    User,
)
from app.models.base import utcnow
from app.services.edit_versions import saved_now
from app.services.moderation import approvals
from app.services.portfolio import artefacts as artefact_service
from app.services.portfolio import tags as tag_service
from app.services.portfolio import timeline
from app.access import attached_recordings_among, load_own, load_visible, visible_among
from app.access.relationships import active_classes_of_student


def default_prompts() -> list[str]:
    """Folio's prompts, used when no class of the student sets its own."""
    return [_("What did I do?"), _("What did I learn?"), _("What was hard?"), _("What will I do next?")]


def prompts_for(*, session: Session, student: User) -> list[str]:
    """The prompts of the student's first class that sets some, else the defaults."""
    custom = session.exec(
        select(SchoolClass.reflection_prompts)
        .where(SchoolClass.id.in_(active_classes_of_student(student.id)), SchoolClass.reflection_prompts.is_not(None))
        .order_by(SchoolClass.id)
    ).first()
    lines = [line.strip() for line in (custom or "").splitlines() if line.strip()]
    return lines or default_prompts()


@dataclass
class ReflectionInput:
    title: str = ""
    body: str = ""
    audience: Audience = Audience.private
    status: ReflectionStatus = ReflectionStatus.published
    artefact_ids: set[int] = field(default_factory=set)
    goal_ids: set[int] = field(default_factory=set)
    competency_ids: set[int] = field(default_factory=set)
    tags: list[str] | None = None  # None: leave the reflection's tags as they are
    version: int = 0
    errors: dict[str, str] = field(default_factory=dict)


def compose_guided(prompts: list[str], answers: list[str]) -> str:
    """Answers to prompts as one Markdown body, each under its prompt (unanswered prompts left out)."""
    parts = [f"**{prompt}**\n\n{answer.strip()}" for prompt, answer in zip(prompts, answers) if answer.strip()]
    return "\n\n".join(parts)


def parse_input(
    first: Callable[[str], str], every: Callable[[str], list[str]], *, owned_artefacts: set[int],
    owned_goals: set[int], allowed_competencies: set[int], prompts: list[str], has_audio: bool = False,
) -> ReflectionInput:
    """Read and check a reflection form (free text, or one answer per prompt when guided)."""
    data = ReflectionInput()
    data.title = first("title").strip()
    if not data.title:
        data.errors["title"] = _("Give your reflection a title.")
    elif len(data.title) > 200:
        data.errors["title"] = _("Keep the title under 200 characters (it has %(n)s).", n=len(data.title))
    if first("guided") == "1":
        data.body = compose_guided(prompts, [first(f"prompt_{i}") for i in range(len(prompts))])
    else:
        data.body = first("body").strip()
    data.status = ReflectionStatus.draft if first("action") == "draft" else ReflectionStatus.published
    if not data.body and not has_audio and data.status is ReflectionStatus.published:
        data.errors["body"] = _("Write (or record) your reflection before you publish it; you can save a draft without it.")
    if len(data.body) > 100_000:
        data.errors["body"] = _("That is very long; split it into two reflections.")
    try:
        data.audience = Audience(first("audience") or Audience.private.value)
    except ValueError:
        data.errors["audience"] = _("Choose who can see it from the list.")
    data.artefact_ids = {int(v) for v in every("artefact_ids") if v.isdigit()} & owned_artefacts
    data.goal_ids = {int(v) for v in every("goal_ids") if v.isdigit()} & owned_goals
    data.competency_ids = {int(v) for v in every("competency_ids") if v.isdigit()} & allowed_competencies
    data.tags = tag_service.normalise(first("tags"))
    if len(data.tags) > tag_service.MAX_TAGS:
        data.errors["tags"] = _("Use at most %(max)s tags.", max=tag_service.MAX_TAGS)
    version = first("version")
    data.version = int(version) if version.isdigit() else 0
    return data


class EditConflict(Exception):
    """The reflection changed since the form was opened; carries the saved version."""

    def __init__(self, current: Reflection) -> None:
        super().__init__("edit conflict")
        self.current = current


def _replace_links(session: Session, reflection_id: int, model, column: str, ids: Iterable[int]) -> None:
    session.exec(sa.delete(model).where(model.reflection_id == reflection_id))
    for item_id in sorted(set(ids)):
        session.add(model(reflection_id=reflection_id, **{column: item_id}))


def _save_links(session: Session, reflection: Reflection, data: ReflectionInput) -> None:
    _replace_links(session, reflection.id, ReflectionArtefact, "artefact_id", data.artefact_ids)
    _replace_links(session, reflection.id, ReflectionGoal, "goal_id", data.goal_ids)
    _replace_links(session, reflection.id, ReflectionCompetency, "competency_id", data.competency_ids)
    if data.tags is not None:
        tag_service.set_tags(session=session, kind="reflection", item_id=reflection.id, owner_id=reflection.owner_id,
                             names=data.tags)


def create_reflection(*, session: Session, owner: User, data: ReflectionInput, audio_artefact_id: int | None = None) -> Reflection:
    """A new reflection (draft or published) with its links; its recording is part of it, not linked evidence."""
    now = utcnow()
    reflection = Reflection(
        owner_id=owner.id, title=data.title, body=data.body, audience=data.audience, status=data.status,
        audio_artefact_id=audio_artefact_id, published_at=now if data.status is ReflectionStatus.published else None,
    )
    session.add(reflection)
    session.flush()
    _save_links(session, reflection, data)
    timeline.sync_reflection(session=session, reflection=reflection)
    approvals.request_if_needed(session=session, owner_id=reflection.owner_id, item_id=reflection.id, audience=reflection.audience, title=reflection.title, draft=reflection.status is ReflectionStatus.draft)
    return reflection


def update_reflection(
    *, session: Session, reflection: Reflection, data: ReflectionInput, audio_artefact_id: int | None = None
) -> Reflection:
    """Save edits only if nobody saved since `data.version` was read; else raise EditConflict."""
    values = {
        "title": data.title, "body": data.body, "audience": data.audience, "status": data.status,
        "version": Reflection.version + 1, "updated_at": utcnow(),
    }
    if data.status is ReflectionStatus.published and reflection.published_at is None:
        values["published_at"] = utcnow()
    if audio_artefact_id:
        values["audio_artefact_id"] = audio_artefact_id
    # The version check is part of the UPDATE itself, so two saves racing can't both pass it.
    result = session.exec(
        sa.update(Reflection).where(Reflection.id == reflection.id, Reflection.version == data.version).values(**values)
    )
    if result.rowcount != 1:
        raise EditConflict(saved_now(session=session, row=reflection))
    session.refresh(reflection)
    _save_links(session, reflection, data)
    timeline.sync_reflection(session=session, reflection=reflection)
    approvals.request_if_needed(session=session, owner_id=reflection.owner_id, item_id=reflection.id, audience=reflection.audience, title=reflection.title, draft=reflection.status is ReflectionStatus.draft)
    return reflection


def delete_reflection(*, session: Session, reflection: Reflection) -> list[str]:
    """Delete a reflection with its recording, which is part of it (unless another reflection or comment plays it
    too); its linked evidence stays. Returns the recording's stored file names for the caller to remove after commit."""
    recording = recording_of(session=session, reflection=reflection)
    timeline.delete_item(session=session, item_id=reflection.id)
    return _drop_recording(session, recording)


def set_recording(*, session: Session, reflection: Reflection, version: int, audio_artefact_id: int | None) -> list[str]:
    """Give the reflection this recording (None: take it out), unless it changed since `version` was read: then raise
    EditConflict. The recording it had goes (it was part of the reflection); returns that one's stored file names for
    the caller to remove after commit."""
    previous = reflection.audio_artefact_id
    # The version check is part of the UPDATE itself, as for update_reflection: two saves racing can't both pass it.
    result = session.exec(sa.update(Reflection).where(Reflection.id == reflection.id, Reflection.version == version)
                          .values(audio_artefact_id=audio_artefact_id, version=Reflection.version + 1,
                                  updated_at=utcnow()))
    if result.rowcount != 1:
        session.rollback()
        current = session.get(Reflection, reflection.id)
        session.refresh(current)
        raise EditConflict(current)
    session.refresh(reflection)
    timeline.sync_reflection(session=session, reflection=reflection)
    approvals.request_if_needed(session=session, owner_id=reflection.owner_id, item_id=reflection.id,
                                audience=reflection.audience, title=reflection.title,
                                draft=reflection.status is ReflectionStatus.draft)
    if previous is None or previous == audio_artefact_id:
        return []
    recording = session.get(Artefact, previous)
    if recording is None or recording.owner_id != reflection.owner_id or recording.media_kind is not MediaKind.audio:
        return []
    return _drop_recording(session, recording)


def drop_replaced_recording(*, session: Session, reflection: Reflection, artefact_id: int | None) -> list[str]:
    """Delete the recording a new one replaced in `reflection` (it was part of the reflection, so it goes rather
    than stay behind as evidence of its own); returns its stored file names for the caller to remove after commit."""
    if artefact_id is None or artefact_id == reflection.audio_artefact_id:
        return []
    recording = session.get(Artefact, artefact_id)
    if recording is None or recording.owner_id != reflection.owner_id or recording.media_kind is not MediaKind.audio:
        return []
    return _drop_recording(session, recording)


def _drop_recording(session: Session, recording: Artefact | None) -> list[str]:
    if recording is None or attached_recordings_among(session=session, ids=[recording.id]):
        return []  # another reflection or comment still plays it
    return artefact_service.delete_artefact(session=session, artefact=recording)


def reflection_for_owner(*, session: Session, owner: User, reflection_id: int) -> Reflection:
    """The owner's own reflection, or 404."""
    return load_own(session, Reflection, reflection_id, owner)


def reflection_visible_to(*, session: Session, viewer: User, reflection_id: int) -> Reflection:
    """A reflection `viewer` may read (drafts are the owner's alone), or 404."""
    return load_visible(session, Reflection, reflection_id, viewer)


def recording_of(*, session: Session, reflection: Reflection) -> Artefact | None:
    """The reflection's recording, for a viewer already let in by reflection_visible_to (it follows the reflection)."""
    if not reflection.audio_artefact_id:
        return None
    recording = session.get(Artefact, reflection.audio_artefact_id)
    if recording is None or recording.owner_id != reflection.owner_id or recording.media_kind is not MediaKind.audio:
        return None  # only a sound file of the owner's is a recording (artefacts.artefact_visible_to agrees)
    return recording


@dataclass
class ReflectionLinks:
    artefacts: list[Artefact]
    goals: list[Goal]
    competencies: list[Competency]
    tags: list[str] = field(default_factory=list)


def links_of(*, session: Session, reflection: Reflection, viewer: User) -> ReflectionLinks:
    """What a reflection is linked to, as far as `viewer` may see it (a constant number of queries)."""
    artefacts = session.exec(select(Artefact).join(ReflectionArtefact, ReflectionArtefact.artefact_id == Artefact.id)
                             .where(ReflectionArtefact.reflection_id == reflection.id).order_by(Artefact.occurred_on.desc())).all()
    goals = session.exec(select(Goal).join(ReflectionGoal, ReflectionGoal.goal_id == Goal.id)
                         .where(ReflectionGoal.reflection_id == reflection.id).order_by(Goal.title)).all()
    competencies = session.exec(select(Competency).join(ReflectionCompetency, ReflectionCompetency.competency_id == Competency.id)
                                .where(ReflectionCompetency.reflection_id == reflection.id).order_by(Competency.code)).all()
    artefacts = visible_among(session=session, viewer=viewer, owner_id=reflection.owner_id, items=list(artefacts))
    goals = visible_among(session=session, viewer=viewer, owner_id=reflection.owner_id, items=list(goals))
    tags = tag_service.tags_of(session=session, kind="reflection", item_ids=[reflection.id]).get(reflection.id, [])
    return ReflectionLinks(artefacts, goals, list(competencies), tags)


def owned_ids(*, session: Session, owner: User) -> tuple[set[int], set[int]]:
    """Ids of the owner's artefacts and goals (what a reflection may link to)."""
    artefacts = set(session.exec(select(Artefact.id).where(Artefact.owner_id == owner.id)).all())
    goals = set(session.exec(select(Goal.id).where(Goal.owner_id == owner.id)).all())
    return artefacts, goals
