"""Matching a Folio archive's competencies and levels to the importing student's school: by framework name and code
(competencies) or label (levels), case-insensitively. Used by app.services.exports.import_folio."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Competency, Framework, ProficiencyLevel, User


class Matcher:
    """Competencies and levels of the student's school, by framework name and code / label (a few queries)."""

    def __init__(self, session: Session, student: User, document: dict) -> None:
        frameworks = session.exec(select(Framework).where(Framework.school_id == student.school_id)
                                  .order_by(Framework.archived, Framework.id)).all()
        self.frameworks: dict[str, Framework] = {}
        for framework in frameworks:
            self.frameworks.setdefault(framework.name.casefold(), framework)
        ids = [f.id for f in self.frameworks.values()]
        self.competencies: dict[tuple[int, str], Competency] = {}
        self.levels: dict[tuple[int, str], ProficiencyLevel] = {}
        if ids:
            for competency in session.exec(select(Competency).where(Competency.framework_id.in_(ids))).all():
                self.competencies[(competency.framework_id, competency.code.casefold())] = competency
            for level in session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id.in_(ids))).all():
                self.levels.setdefault((level.framework_id, level.label.casefold()), level)
        self.names = {(f["name"], c["code"]): c["name"] for f in document["frameworks"] for c in f["competencies"]}
        self.unknown: set[tuple[str, str]] = set()

    def competency(self, ref: dict) -> Competency | None:
        framework = self.frameworks.get(ref["framework"].casefold())
        found = self.competencies.get((framework.id, ref["code"].casefold())) if framework else None
        if found is None:
            self.unknown.add((ref["framework"], ref["code"]))
        return found

    def level(self, competency: Competency, label: str) -> ProficiencyLevel | None:
        return self.levels.get((competency.framework_id, label.casefold()))

    def label(self, ref: dict) -> str:
        name = self.names.get((ref["framework"], ref["code"]), "")
        return f"{ref['code']} {name}".strip()

    def split(self, refs: list[dict]) -> tuple[set[int], list[dict]]:
        """Matched competency ids, and the refs that didn't match."""
        matched, unmatched = set(), []
        for ref in refs:
            competency = self.competency(ref)
            if competency is None:
                unmatched.append(ref)
            else:
                matched.add(competency.id)
        return matched, unmatched
