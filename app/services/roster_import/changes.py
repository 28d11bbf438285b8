"""A roster import's plan: the changes it makes (each a Change) and the rows it can't use, with a fingerprint so
confirming applies only the plan that was previewed. Made by app.services.roster_import.plan."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from app.i18n import _
from app.services.roster_import.csv_reader import Problem, Row


@dataclass
class Change:
    """One thing an import does. `action`: create, update, deactivate, reactivate, archive, add or remove."""

    kind: str  # term, person, class, enrolment, link
    action: str
    key: str  # the sourcedId (for enrolments and links: both ends, "class|user", "guardian|student")
    label: str  # what the admin reads: a name, "Maya Chen in Grade 5"
    values: dict = field(default_factory=dict)  # what to write (json-safe)
    existing_id: int | None = None
    undoes: str = ""  # what the admin reads when this undoes a change made in Folio ("switched off in Folio on …")


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rows left out, with the reason
    notes: list[Problem] = field(default_factory=list)  # rows used, with something the admin should know
    unchanged: dict[str, int] = field(default_factory=dict)  # kind -> records already as the set says
    version: str = ""

    def of(self, kind: str, action: str | None = None) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and (action is None or c.action == action)]

    def undoing(self) -> list[Change]:
        """The changes that undo something done in Folio since the last import (the roster wins; the admin is told)."""
        return [c for c in self.changes if c.undoes]

    def count(self, kind: str, action: str) -> int:
        return len(self.of(kind, action))

    @property
    def digest(self) -> str:
        """A fingerprint of the changes: confirming applies the plan only if it is still the one previewed."""
        # Labels are left out: they are in the reader's language, which the job may not share with the preview.
        payload = json.dumps([{k: v for k, v in asdict(c).items() if k not in ("label", "undoes")} for c in self.changes],
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def sorted_problems(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.file, p.row or 0))

    def sorted_notes(self) -> list[Problem]:
        return sorted(self.notes, key=lambda p: (p.file, p.row or 0))

    def problem(self, row: Row, reason: str) -> None:
        self.problems.append(Problem(row.file, row.number, reason))

    def new_sourced_id(self, row: Row, seen: set[str]) -> str | None:
        """The row's sourcedId the first time it is met; None (the row reported) when it has none or came before."""
        sid = row.get("sourcedId")
        if not sid:
            self.problem(row, _("This row has no sourcedId, so Folio can't keep it in step later."))
            return None
        if sid in seen:
            self.problem(row, _("The sourcedId “%(id)s” is on an earlier row too; this row was left out.", id=sid))
            return None
        seen.add(sid)
        return sid

    def note(self, row: Row, reason: str) -> None:
        self.notes.append(Problem(row.file, row.number, reason))

    def same(self, kind: str) -> None:
        self.unchanged[kind] = self.unchanged.get(kind, 0) + 1
