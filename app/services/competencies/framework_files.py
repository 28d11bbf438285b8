"""A framework read from a file (a CASE package or a Mahara .matrix), before it touches the database.

The readers (case_import, mahara_matrix) turn a file into items that know their parent; `finish` puts them in
order, gives every item a code unique in the file (its own, or its place in the tree: 1, 1.2, 1.2.3 as OpenSALT's
"smart level"), and cuts what is too long for Folio's columns, noting what it changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from app.i18n import _
from app.models.competencies import CASE_IDENTIFIER_MAX_LENGTH, CODE_MAX_LENGTH

MAX_FILE_BYTES = 1024 * 1024  # frameworks are small; a whole state's standards in CASE is rarely more
MAX_ITEMS = 5000
NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 20_000
LABEL_MAX_LENGTH = 60


class FrameworkFileProblem(ValueError):
    """A file Folio can't read as a framework; `message` is user-facing and already translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class FileItem:
    """One competency as the file has it; `parent` is another item's identifier, None at the top."""

    identifier: str
    code: str
    name: str
    description: str = ""
    parent: str | None = None
    sequence: float | None = None  # CASE sequenceNumber among its siblings
    depth: int = 0
    position: int = 0


@dataclass
class FileFramework:
    """A whole framework from a file, its items in tree order (parents before children, siblings in order)."""

    kind: str  # "case" or "matrix"
    identifier: str
    name: str
    description: str
    items: list[FileItem]
    levels: list[tuple[str, str]] | None = None  # (label, descriptor), lowest first; None: the file has no scale
    notes: list[str] = field(default_factory=list)


def load_json(data: bytes) -> object:
    """The JSON in an uploaded file, or a FrameworkFileProblem saying in plain words what is wrong."""
    if len(data) > MAX_FILE_BYTES:
        raise FrameworkFileProblem(_("That file is %(size)s KB; the limit for a framework file is 1,024 KB.",
                                     size=len(data) // 1024))
    if not data.strip():
        raise FrameworkFileProblem(_("That file is empty."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FrameworkFileProblem(_("That file isn't UTF-8 text, so it can't be a CASE package or a .matrix file.")) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FrameworkFileProblem(_("That file isn't valid JSON (line %(line)s, column %(column)s: %(reason)s).",
                                     line=error.lineno, column=error.colno, reason=error.msg)) from None


def text_of(value: object) -> str:
    """A string field of the file, or "" when it is missing, null or not text (numbers are kept as text)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def check_identifier(identifier: str, what: str) -> str:
    if not identifier:
        raise FrameworkFileProblem(_("%(what)s has no identifier, so Folio couldn't recognise it when the file is "
                                     "imported again.", what=what))
    if len(identifier) > CASE_IDENTIFIER_MAX_LENGTH:
        raise FrameworkFileProblem(_("%(what)s has an identifier longer than %(max)s characters.",
                                     what=what, max=CASE_IDENTIFIER_MAX_LENGTH))
    return identifier


def natural_key(code: str) -> list:
    """Sort key that puts 1.2 before 1.10 (and letters after numbers at the same place)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in re.split(r"(\d+)", code) if part]


def finish(framework: FileFramework) -> FileFramework:
    """Order the items as a tree, give each a unique code, and cut names and codes that are too long."""
    items = framework.items
    if len(items) > MAX_ITEMS:
        raise FrameworkFileProblem(_("That framework has %(n)s items; Folio imports up to %(max)s.", n=len(items), max=MAX_ITEMS))
    by_id: dict[str, FileItem] = {}
    for item in items:
        if item.identifier in by_id:
            framework.notes.append(_("%(code)s is in the file twice; the first is kept.", code=item.code or item.name[:40]))
        else:
            by_id[item.identifier] = item
    items = list(by_id.values())
    for item in items:
        if item.parent is not None and item.parent not in by_id:
            item.parent = None
    _break_loops(items, by_id, framework.notes)
    children: dict[str | None, list[FileItem]] = {}
    for item in items:
        children.setdefault(item.parent, []).append(item)
    ordered: list[FileItem] = []

    def walk(parent: str | None, depth: int, prefix: str) -> None:
        siblings = sorted(children.get(parent, []), key=_sibling_key(children.get(parent, [])))
        for position, item in enumerate(siblings):
            item.depth, item.position = depth, position
            level = f"{prefix}{position + 1}"
            if not item.code:
                item.code = level  # OpenSALT's smart level: where the item sits in the tree
            ordered.append(item)
            walk(item.identifier, depth + 1, f"{level}.")

    walk(None, 0, "")
    framework.items = ordered
    _unique_codes(ordered, framework.notes)
    for item in ordered:
        item.description = item.description[:DESCRIPTION_MAX_LENGTH]
        if len(item.name) > NAME_MAX_LENGTH:
            # The whole statement stays as the description; the name is its beginning.
            if not item.description:
                item.description = item.name
            item.name = item.name[: NAME_MAX_LENGTH - 1].rstrip() + "…"
        if not item.name:
            item.name = item.code
    framework.name = framework.name[:NAME_MAX_LENGTH]
    framework.description = framework.description[:DESCRIPTION_MAX_LENGTH]
    if framework.levels is not None:
        framework.levels = [(label[:LABEL_MAX_LENGTH], descriptor) for label, descriptor in framework.levels]
    return framework


def _sibling_key(siblings: list[FileItem]):
    """Numbered siblings first by sequenceNumber, then the rest by code (naturally), then as the file lists them."""
    index = {id(item): number for number, item in enumerate(siblings)}

    def key(item: FileItem):
        if item.sequence is not None:
            return (0, item.sequence, [], index[id(item)])
        return (1, 0, natural_key(item.code) if item.code else [], index[id(item)])

    return key


def _break_loops(items: list[FileItem], by_id: dict[str, FileItem], notes: list[str]) -> None:
    for item in items:
        seen = {item.identifier}
        current = item.parent
        while current is not None:
            if current in seen:
                notes.append(_("%(code)s sat inside itself (through its parents); it is put at the top level.",
                               code=item.code or item.name[:40]))
                item.parent = None
                break
            seen.add(current)
            current = by_id[current].parent


def _unique_codes(items: list[FileItem], notes: list[str]) -> None:
    taken: set[str] = set()
    for item in items:
        code = "".join(item.code.split())[:CODE_MAX_LENGTH] or "?"
        if code != item.code:
            notes.append(_("The code “%(old)s” is shortened to “%(new)s” (codes have no spaces and at most %(max)s "
                           "characters).", old=item.code[:80], new=code, max=CODE_MAX_LENGTH))
        if code.casefold() in taken:
            number = 2
            while f"{code[: CODE_MAX_LENGTH - 4]}-{number}".casefold() in taken:
                number += 1
            new = f"{code[: CODE_MAX_LENGTH - 4]}-{number}"
            notes.append(_("Two items share the code %(code)s; the second is called %(new)s.", code=code, new=new))
            code = new
        taken.add(code.casefold())
        item.code = code
