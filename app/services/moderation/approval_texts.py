"""What an approval covers: the family-visible words of an item or showcase, their fingerprint, and what changed
since a teacher approved them (for the inbox)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, select

from app.i18n import _
from app.models import (
    Artefact, ArtefactTag, CheckIn, Goal, GoalStep, ItemApproval, ItemType, Reflection, Showcase, Tag,
)

SHOWCASE = "showcase"  # the kind of an approval's target besides the ItemType values

# (kind, id): ("artefact", 3), ("goal", 7), ("showcase", 2)...
Key = tuple[str, int]
# A field's family-visible words: text, or a list of entries (tags, steps, check-ins) whose order doesn't matter.
FamilyText = dict[str, str | list[str]]


# --- what an approval covers -------------------------------------------------------------------
# The words the student wrote, and which recording speaks for the item. Dates, statuses, ticks and competencies picked
# from a list can't say anything a teacher would need to see first; files are artefacts with approvals of their own.
# A recording (a reflection's, or an artefact's spoken caption) is never shared on its own but goes with its item, so
# the item's approval covers it: a new recording is something no teacher has heard, and the item waits again.
RECORDING_FIELDS = ("recording", "spoken_caption")


def _recording(audio_artefact_id: int | None) -> str:
    # Which recording, not its words: a new one gets a new id (recordings are replaced, never edited in place).
    return f"audio:{audio_artefact_id}" if audio_artefact_id else ""


def _artefact_texts(session: Session, ids: list[int]) -> dict[int, FamilyText]:
    tags: dict[int, list[str]] = defaultdict(list)
    for artefact_id, name in session.exec(
        select(ArtefactTag.artefact_id, Tag.name).join(Tag, Tag.id == ArtefactTag.tag_id)
        .where(ArtefactTag.artefact_id.in_(ids))
    ).all():
        tags[artefact_id].append(name)
    rows = session.exec(select(Artefact.id, Artefact.title, Artefact.description, Artefact.body, Artefact.url,
                               Artefact.audio_artefact_id).where(Artefact.id.in_(ids))).all()
    return {artefact_id: {"title": title, "description": description or "", "body": body or "", "url": url or "",
                          "tags": sorted(tags[artefact_id]), "spoken_caption": _recording(caption_id)}
            for artefact_id, title, description, body, url, caption_id in rows}


def _reflection_texts(session: Session, ids: list[int]) -> dict[int, FamilyText]:
    rows = session.exec(select(Reflection.id, Reflection.title, Reflection.body, Reflection.audio_artefact_id)
                        .where(Reflection.id.in_(ids))).all()
    return {reflection_id: {"title": title, "body": body or "", "recording": _recording(recording_id)}
            for reflection_id, title, body, recording_id in rows}


def _goal_texts(session: Session, ids: list[int]) -> dict[int, FamilyText]:
    steps: dict[int, list[str]] = defaultdict(list)
    for goal_id, text in session.exec(select(GoalStep.goal_id, GoalStep.text).where(GoalStep.goal_id.in_(ids))).all():
        steps[goal_id].append(text)
    checkins: dict[int, list[str]] = defaultdict(list)
    for goal_id, occurred_on, note in session.exec(
        select(CheckIn.goal_id, CheckIn.occurred_on, CheckIn.note).where(CheckIn.goal_id.in_(ids), CheckIn.note != "")
    ).all():
        checkins[goal_id].append(f"{occurred_on.isoformat()}: {note}")
    rows = session.exec(select(Goal.id, Goal.title, Goal.why, Goal.success_criteria).where(Goal.id.in_(ids))).all()
    return {goal_id: {"title": title, "why": why or "", "success_criteria": criteria or "",
                      "steps": sorted(steps[goal_id]), "checkins": sorted(checkins[goal_id])}
            for goal_id, title, why, criteria in rows}


def _showcase_texts(session: Session, ids: list[int]) -> dict[int, FamilyText]:
    rows = session.exec(select(Showcase.id, Showcase.title, Showcase.introduction).where(Showcase.id.in_(ids))).all()
    return {showcase_id: {"title": title, "introduction": introduction or ""} for showcase_id, title, introduction in rows}


_LOADERS = {ItemType.artefact.value: _artefact_texts, ItemType.reflection.value: _reflection_texts,
            ItemType.goal.value: _goal_texts, SHOWCASE: _showcase_texts}


def family_texts(*, session: Session, keys: Iterable[Key]) -> dict[Key, FamilyText]:
    """The family-visible words of these items and showcases, by (kind, id); two queries at most per kind."""
    by_kind: dict[str, list[int]] = defaultdict(list)
    for kind, item_id in keys:
        by_kind[kind].append(item_id)
    found: dict[Key, FamilyText] = {}
    for kind, ids in by_kind.items():
        for item_id, text in _LOADERS[kind](session, sorted(set(ids))).items():
            found[(kind, item_id)] = text
    return found


def same_text(approved: FamilyText, current: FamilyText) -> bool:
    """Whether the item still reads as approved; a field added to what approvals cover since counts as empty then."""
    return not changes_between(approved, current) and set(approved) <= set(current)


def fingerprint(text: FamilyText | None) -> str:
    """A short digest of an item's words: the inbox sends it back, so a teacher approves only the version they saw."""
    return hashlib.sha256(json.dumps(text, sort_keys=True).encode()).hexdigest()[:16]


def key_of(approval: ItemApproval, item_type: ItemType | None) -> Key:
    """The (kind, id) of what an approval covers; `item_type` is its item's type (None for a showcase)."""
    if approval.showcase_id is not None:
        return (SHOWCASE, approval.showcase_id)
    return (ItemType(item_type).value, approval.item_id)


def field_label(name: str) -> str:
    """What a field of an item's family-visible words is called in the inbox, in the reader's language."""
    return {
        "title": _("Title"), "description": _("Description"), "body": _("Text"), "url": _("Web address"),
        "tags": _("Tags"), "why": _("Why it matters"), "success_criteria": _("Success criteria"),
        "steps": _("Steps"), "checkins": _("Check-ins"), "introduction": _("Introduction"),
        "recording": _("Recording"), "spoken_caption": _("Spoken caption"),
    }.get(name, name)


@dataclass
class Change:
    """One field changed since the last approval: text before and after, or the entries added and removed."""

    name: str
    before: str = ""
    after: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return field_label(self.name)

    @property
    def is_list(self) -> bool:
        return bool(self.added or self.removed)

    @property
    def recording_news(self) -> str:
        """For a recording: what happened to it, in words (the card plays the one it has now); else ""."""
        if self.name not in RECORDING_FIELDS:
            return ""
        if not self.after:
            return _("The recording was taken out.")
        return _("A new recording: listen to it above.") if self.before else _("A recording was added: listen to it above.")


def changes_between(approved: FamilyText, current: FamilyText) -> list[Change]:
    """The fields whose words differ, in the item's own field order (entries of a list compared as a multiset)."""
    changes = []
    for name, now in current.items():
        then = approved.get(name, [] if isinstance(now, list) else "")
        if isinstance(now, list):
            before, after = Counter(then if isinstance(then, list) else [then]), Counter(now)
            if before != after:
                changes.append(Change(name, added=sorted((after - before).elements()),
                                      removed=sorted((before - after).elements())))
        elif now != then:
            changes.append(Change(name, before=str(then), after=now))
    return changes
