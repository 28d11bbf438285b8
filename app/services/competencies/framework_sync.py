"""Bringing a framework file into a school: a preview of what changes, then the change itself.

A file updates the school's framework with the same CASE identifier (a .matrix gets one made from its name), or
makes a new one. Its items are matched to competencies by identifier: new ones are added, changed ones updated in
place (code, name, description, parent, order), and competencies the file no longer has are
- deleted when nothing of a student's points at them (or at anything under them), and
- otherwise kept, archived: hidden from pickers, with every rating, evidence tag, reflection and goal still there.
A competency the admin archived stays archived. The scale comes from a .matrix (levels renamed in place, missing
ones added, none removed: ratings use them); a CASE package has none, so a new framework gets the usual four levels
and an existing one keeps its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, select

from app.i18n import _, ngettext
from app.models import Competency, Framework, ProficiencyLevel
from app.models.competencies import CODE_MAX_LENGTH
from app.services.competencies.case_import import is_case_package, read_case_package
from app.services.competencies.framework_files import MAX_ITEMS, FileFramework, FileItem, FrameworkFileProblem, load_json
from app.services.competencies.mahara_matrix import is_matrix, read_matrix
from app.services.competencies.framework_usage import Usage, usage_by_competency
from app.services.competencies.frameworks import DEFAULT_SCALE, levels_in_order


def read_framework_file(data: bytes) -> tuple[FileFramework, str]:
    """The framework in an uploaded CASE package or Mahara .matrix, and the file as compact JSON (what the preview
    posts back: no line breaks for a browser to double, rarely longer than the file); FrameworkFileProblem says
    what is wrong."""
    document = load_json(data)
    return read_document(document), json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def read_document(document: object) -> FileFramework:
    """The framework in parsed JSON, whichever of the two formats it is."""
    if is_case_package(document):
        return read_case_package(document)
    if is_matrix(document):
        return read_matrix(document)
    raise FrameworkFileProblem(_("That JSON file is neither a CASE package (it has no CFDocument) nor a Mahara "
                                 "SmartEvidence .matrix file (it has no framework)."))


def describe_changes(keys: list[str]) -> str:
    """What changes, in words: "code, name"."""
    words = {"code": _("code"), "name": _("name"), "description": _("description"),
             "parent": _("place in the tree"), "order": _("order")}
    return ", ".join(words[key] for key in keys)


@dataclass
class Update:
    item: FileItem
    competency: Competency
    changes: list[str]  # "code", "name", "description", "parent", "order"

    @property
    def described(self) -> str:
        return describe_changes(self.changes)


@dataclass
class ImportPlan:
    """What applying `file` would do; shown to the admin before anything changes."""

    file: FileFramework
    framework: Framework | None
    name: str  # what the framework will be called
    added: list[FileItem] = field(default_factory=list)
    updated: list[Update] = field(default_factory=list)
    unchanged: int = 0
    still_retired: int = 0
    archived_in_file: list[Competency] = field(default_factory=list)  # in the file, but archived here
    retired: list[tuple[Competency, Usage]] = field(default_factory=list)  # kept, archived
    deleted: list[Competency] = field(default_factory=list)
    framework_changes: list[str] = field(default_factory=list)
    levels_renamed: list[tuple[str, str]] = field(default_factory=list)
    levels_added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def framework_changes_described(self) -> str:
        return describe_changes(self.framework_changes)

    @property
    def changes_anything(self) -> bool:
        return bool(self.framework is None or self.added or self.updated or self.retired or self.deleted
                    or self.framework_changes or self.levels_renamed or self.levels_added)

    @property
    def digest(self) -> str:
        """A fingerprint of the plan: confirming a preview applies only the plan the admin saw."""
        summary = {
            "framework": self.framework.id if self.framework else None, "name": self.name,
            "added": [item.identifier for item in self.added],
            "updated": [(u.competency.id, u.changes) for u in self.updated],
            "retired": [c.id for c, _usage in self.retired], "deleted": [c.id for c in self.deleted],
            "framework_changes": self.framework_changes, "levels": [self.levels_renamed, self.levels_added],
        }
        return hashlib.sha256(json.dumps(summary, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _find_framework(session: Session, school_id: int, identifier: str) -> Framework | None:
    return session.exec(select(Framework).where(Framework.school_id == school_id,
                                                Framework.case_identifier == identifier)).first()


def _free_name(session: Session, school_id: int, name: str, except_id: int | None) -> str:
    """`name`, or `name (2)`... when another framework of the school already has it."""
    statement = select(Framework.name).where(Framework.school_id == school_id)
    if except_id is not None:
        statement = statement.where(Framework.id != except_id)
    taken = {existing.casefold() for existing in session.exec(statement).all()}
    candidate, number = name, 2
    while candidate.casefold() in taken:
        suffix = f" ({number})"
        candidate, number = name[: 200 - len(suffix)] + suffix, number + 1
    return candidate


def plan_import(*, session: Session, school_id: int, file: FileFramework) -> ImportPlan:
    """What importing `file` into the school would add, update, archive and delete (nothing is changed)."""
    framework = _find_framework(session, school_id, file.identifier)
    name = _free_name(session, school_id, file.name, framework.id if framework else None)
    plan = ImportPlan(file=file, framework=framework, name=name, notes=list(file.notes))
    if name != file.name:
        plan.notes.append(_("Your school already has a framework called “%(name)s”; this one will be called "
                            "“%(new)s”.", name=file.name, new=name))
    if framework is None:
        plan.added = list(file.items)
        return plan
    if framework.name != name:
        plan.framework_changes.append("name")
    if framework.description != file.description:
        plan.framework_changes.append("description")
    existing = list(session.exec(select(Competency).where(Competency.framework_id == framework.id)).all())
    by_identifier = {c.case_identifier: c for c in existing}
    by_id = {c.id: c for c in existing}
    for item in file.items:
        competency = by_identifier.get(item.identifier)
        if competency is None:
            plan.added.append(item)
            continue
        if competency.archived:
            plan.archived_in_file.append(competency)
        changes = _changes(item, competency, by_id)
        if changes:
            plan.updated.append(Update(item, competency, changes))
        else:
            plan.unchanged += 1
    _plan_removals(session, plan, existing, {item.identifier for item in file.items})
    _plan_levels(session, plan, framework)
    return plan


def _changes(item: FileItem, competency: Competency, by_id: dict[int, Competency]) -> list[str]:
    parent = by_id.get(competency.parent_id) if competency.parent_id else None
    changes = []
    if competency.code != item.code:
        changes.append("code")
    if competency.name != item.name:
        changes.append("name")
    if competency.description != item.description:
        changes.append("description")
    if (parent.case_identifier if parent else None) != item.parent:
        changes.append("parent")
    elif competency.position != item.position:
        changes.append("order")
    return changes


def _plan_removals(session: Session, plan: ImportPlan, existing: list[Competency], kept: set[str]) -> None:
    """Competencies the file no longer has: archived if they (or anything under them) hold history, else deleted."""
    gone = [c for c in existing if c.case_identifier not in kept]
    if not gone:
        return
    usage = usage_by_competency(session=session, competency_ids=[c.id for c in gone])
    children: dict[int | None, list[int]] = {}
    for competency in gone:
        children.setdefault(competency.parent_id, []).append(competency.id)

    def used(competency_id: int) -> bool:
        # Only competencies leaving with it can still sit under a leaving one: the others move to their file parents.
        return usage[competency_id].total > 0 or any(used(child) for child in children.get(competency_id, []))

    for competency in gone:
        if not used(competency.id):
            plan.deleted.append(competency)
        elif competency.archived and competency.position >= MAX_ITEMS:
            plan.still_retired += 1  # retired by an earlier import: nothing changes
        else:
            plan.retired.append((competency, usage[competency.id]))


def _plan_levels(session: Session, plan: ImportPlan, framework: Framework) -> None:
    if plan.file.levels is None:
        return
    levels = levels_in_order(session, framework.id)
    for index, (label, _descriptor) in enumerate(plan.file.levels):
        if index < len(levels):
            if levels[index].label != label:
                plan.levels_renamed.append((levels[index].label, label))
        else:
            plan.levels_added.append(label)


def apply_import(*, session: Session, school_id: int, plan: ImportPlan) -> Framework:
    """Make the changes `plan` describes (plan it again first if the database may have changed since)."""
    file = plan.file
    framework = plan.framework
    if framework is None:
        framework = Framework(school_id=school_id, case_identifier=file.identifier, name=plan.name,
                              description=file.description)
        session.add(framework)
        session.flush()
        scale = file.levels if file.levels is not None else DEFAULT_SCALE
        for position, (label, descriptor) in enumerate(scale, start=1):
            session.add(ProficiencyLevel(framework_id=framework.id, position=position, label=label, descriptor=descriptor))
    else:
        framework.name, framework.description = plan.name, file.description
        session.add(framework)
        _apply_levels(session, plan, framework)
    _apply_competencies(session, plan, framework)
    return framework


def _apply_levels(session: Session, plan: ImportPlan, framework: Framework) -> None:
    if plan.file.levels is None:
        return
    levels = levels_in_order(session, framework.id)
    top = max((level.position for level in levels), default=0)
    for index, (label, _descriptor) in enumerate(plan.file.levels):
        if index < len(levels):
            levels[index].label = label
            session.add(levels[index])
        else:
            top += 1
            session.add(ProficiencyLevel(framework_id=framework.id, position=top, label=label))


def _apply_competencies(session: Session, plan: ImportPlan, framework: Framework) -> None:
    deleted_ids = {c.id for c in plan.deleted}
    existing = [c for c in session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()
                if c.id not in deleted_ids]
    by_identifier = {c.case_identifier: c for c in existing}
    items = {item.identifier: item for item in plan.file.items}
    final_codes = {c.id: items[c.case_identifier].code for c in existing if c.case_identifier in items}
    taken = {item.code.casefold() for item in plan.file.items}
    for competency in existing:
        if competency.id not in final_codes:  # no longer in the file: kept, archived, its code out of the way
            final_codes[competency.id] = _spare_code(competency.code, taken)
            taken.add(final_codes[competency.id].casefold())
            competency.archived = True
            competency.position = MAX_ITEMS + competency.position % MAX_ITEMS  # after the file's competencies
    # Codes may swap between competencies, or pass from one being deleted to another: park the ones that change (and
    # those of the competencies about to go) so the unique (framework, code) never trips.
    moving = [c for c in existing if c.code != final_codes[c.id]] + list(plan.deleted)
    for competency in moving:
        competency.code = f"~{competency.id}"
    session.add_all(moving)
    session.flush()
    for competency in existing:
        competency.code = final_codes[competency.id]
    for item in plan.file.items:
        competency = by_identifier.get(item.identifier)
        if competency is None:
            competency = Competency(framework_id=framework.id, case_identifier=item.identifier, code=item.code,
                                    name=item.name)
            by_identifier[item.identifier] = competency
        competency.name, competency.description, competency.position = item.name, item.description, item.position
        competency.parent_id = by_identifier[item.parent].id if item.parent else None
        session.add(competency)
        if competency.id is None:
            session.flush()  # its children need its id (items come parents first)
    session.add_all(existing)
    session.flush()
    if deleted_ids:
        # Last, once the competencies the file kept have moved to their new parents: deleting a parent deletes what
        # is still under it (ON DELETE CASCADE), and by now that is only competencies nobody used.
        session.exec(sa.delete(Competency).where(Competency.id.in_(deleted_ids)))
        for competency in plan.deleted:
            session.expunge(competency)


def _spare_code(code: str, taken: set[str]) -> str:
    code = "".join(code.split())[:CODE_MAX_LENGTH] or "old"
    if code.casefold() not in taken:
        return code
    number = 1
    while True:
        candidate = f"{code[: CODE_MAX_LENGTH - 6]}-old{number if number > 1 else ''}"
        if candidate.casefold() not in taken:
            return candidate
        number += 1


def describe_result(plan: ImportPlan) -> str:
    """What an applied import did, in one sentence for the flash message."""
    parts = []
    if plan.added:
        parts.append(ngettext("%(num)s competency added", "%(num)s competencies added", len(plan.added)))
    if plan.updated:
        parts.append(ngettext("%(num)s updated", "%(num)s updated", len(plan.updated)))
    if plan.retired:
        parts.append(ngettext("%(num)s archived (students' work points at it)",
                              "%(num)s archived (students' work points at them)", len(plan.retired)))
    if plan.deleted:
        parts.append(ngettext("%(num)s deleted", "%(num)s deleted", len(plan.deleted)))
    if not parts:
        return _("“%(name)s” was already up to date; nothing changed.", name=plan.name)
    verb = _("“%(name)s” is imported: %(changes)s.", name=plan.name, changes=", ".join(parts)) if plan.framework is None \
        else _("“%(name)s” is updated: %(changes)s.", name=plan.name, changes=", ".join(parts))
    return verb
