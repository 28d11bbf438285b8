"""What a Folio import has created so far: each archive ref's new database id, and its title for messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FolioRefs:
    artefact_ids: dict[str, int] = field(default_factory=dict)
    goal_ids: dict[str, int] = field(default_factory=dict)
    reflection_ids: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)  # of every kind of item

    def ids_of(self, item_type: str) -> dict[str, int]:
        """The ids by ref of one kind of item: "artefact", "reflection" or "goal"."""
        return {"artefact": self.artefact_ids, "reflection": self.reflection_ids, "goal": self.goal_ids}[item_type]
