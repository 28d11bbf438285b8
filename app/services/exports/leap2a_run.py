"""One Leap2A import under way: what it has to work with (session, student, files, ledger), what it has made so far,
and its summary, naming every entry it skipped with its type and title. Shared by the leap2a_* import modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.i18n import _
from app.models import User
from app.services.exports.import_keys import Ledger
from app.services.exports.leap2a_feed import Entry, category_terms
from app.services.portfolio.stored_files import StoredFile
from app.services.portfolio.goal_forms import MAX_TITLE


@dataclass
class SkippedEntry:
    kind: str  # what it was in Mahara, in words ("comment", "journal entry")
    title: str
    reason: str = ""  # why it wasn't imported; empty when it was already here

    def line(self) -> str:
        """“- Comment “Nice work”: comments aren't imported.” as one line of the summary."""
        if self.reason:
            return _("- %(kind)s “%(title)s”: %(reason)s", kind=self.kind, title=self.title, reason=self.reason)
        return _("- %(kind)s “%(title)s”", kind=self.kind, title=self.title)


@dataclass
class ImportSummary:
    artefacts: int = 0
    reflections: int = 0
    goals: int = 0
    showcases: int = 0
    about: bool = False  # the profile's "about me" went to the account
    not_imported: list[SkippedEntry] = field(default_factory=list)
    already_here: list[SkippedEntry] = field(default_factory=list)  # imported before, from this Mahara account
    messages: list[str] = field(default_factory=list)
    # Files put in the file store: if the caller rolls back, it removes them with stored_files.discard().
    stored_files: list[StoredFile] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Entries not imported this time, for any reason."""
        return len(self.not_imported) + len(self.already_here)


@dataclass
class Run:
    session: Session
    settings: Settings
    student: User
    files: dict[str, Path]
    summary: ImportSummary
    ledger: Ledger | None
    source: str  # the Mahara account the feed comes from (leap2a_feed.feed_source)
    by_id: dict[str, Entry] = field(default_factory=dict)
    imported: dict[str, int] = field(default_factory=dict)  # entry id → the item made of it (or found)
    earlier: dict[str, int | None] = field(default_factory=dict)  # entry key → item an earlier import made
    images: dict[int, bool] = field(default_factory=dict)  # file artefact → whether it has a large thumbnail
    file_entries: dict[str, str] | None = None  # a file's name in the archive → its entry id

    def key(self, entry: Entry, index: int = 0) -> str:
        """The entry's key in the import ledger: the same in every export of the same Mahara account."""
        return f"leap:{self.source}|{entry.id or index}"

    def skip(self, entry: Entry, reason: str) -> None:
        self.summary.not_imported.append(SkippedEntry(kind=entry_kind(entry), title=title_of(entry, "?"), reason=reason))

    def record(self, entry: Entry, item_id: int, index: int = 0) -> None:
        if entry.id:
            self.imported[entry.id] = item_id
        if self.ledger is not None:
            self.ledger.record(self.key(entry, index), item_id)

    def resumed(self, entry: Entry, index: int = 0) -> int | None:
        """The item this very import made of `entry` before its runner stopped, if it did."""
        return self.ledger.existing(self.key(entry, index)) if self.ledger is not None else None

    def here_already(self, entry: Entry, index: int = 0) -> bool:
        """Whether an earlier import brought `entry` in and it is still here: then it is named and skipped."""
        key = self.key(entry, index)
        if key not in self.earlier or self.earlier[key] is None:
            return False
        if entry.id:
            self.imported[entry.id] = self.earlier[key]
        self.already(entry)
        return True

    def already(self, entry: Entry) -> None:
        self.summary.already_here.append(SkippedEntry(kind=entry_kind(entry), title=title_of(entry, "?")))


def title_of(entry: Entry, fallback: str) -> str:
    return (entry.title or fallback)[:MAX_TITLE]


def entry_kind(entry: Entry) -> str:
    """What the entry was in Mahara, as a noun for the summary."""
    kinds = {
        "blogpost": _("Journal entry"), "blog": _("Journal"), "comment": _("Comment"), "plan": _("Plan"),
        "task": _("Task"), "file": _("File"), "image": _("Image"), "folder": _("Folder"), "html": _("Note"),
        "personalgoal": _("Personal goal"), "academicgoal": _("Academic goal"), "careergoal": _("Career goal"),
        "personalskill": _("Personal skill"), "academicskill": _("Academic skill"), "workskill": _("Work skill"),
        "certification": _("Certification"), "book": _("Publication"), "membership": _("Membership"),
        "employmenthistory": _("Employment"), "educationhistory": _("Education"), "interest": _("Interests"),
        "coverletter": _("Cover letter"), "introduction": _("About me"), "aboutme": _("About me"),
    }
    kind = entry.mahara_type.removeprefix("pseudo:")
    if kind in kinds:
        return kinds[kind]
    if entry.leap_type == "selection" or entry.id.startswith(("portfolio:view", "portfolio:collection")):
        if entry.id.startswith("portfolio:collection") or "collection" in category_terms(entry, "selection_type"):
            return _("Collection")
        return _("Page")
    return {"resource": _("File"), "plan": _("Plan"), "person": _("Profile"), "ability": _("Skill"),
            "achievement": _("Achievement"), "activity": _("Activity")}.get(entry.leap_type, _("Entry"))
