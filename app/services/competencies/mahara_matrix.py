"""Reading a Mahara SmartEvidence `.matrix` file (htdocs/module/framework/matrices/*.matrix) as a framework.

A .matrix is JSON: {"framework": {name, description (HTML), evidencestatuses, standards, standardelements}}.
Standards become the top-level competencies; their elements nest under them, or under another element named by
`parentelementid`. Older files (Mahara's own example.matrix) nest elements inside each standard as
`standardelement`, marking a sub-element with `"parent": true` under the element before it.

Evidence statuses become the scale, lowest first: "Doesn't meet", "Partially meets", "Meets". Mahara's first status,
"Ready for assessment" (begun), is a request for a teacher to look, not a level reached: Folio's feedback requests
do that, so it is left out of the scale (the preview says so).

A .matrix has no identifiers: Folio makes stable ones from the framework's name and each standard's and element's
id (or short name), so importing the same file again updates the framework instead of adding a second one.
"""

from __future__ import annotations

import uuid

from app.i18n import _
from app.services.competencies.framework_files import (
    FileFramework,
    FileItem,
    FrameworkFileProblem,
    finish,
    one_line,
    text_of,
)
from app.services.exports.leap2a_feed import html_to_markdown

# Namespace of the identifiers made for .matrix files (a fixed, random UUID: never change it).
MATRIX_NAMESPACE = uuid.UUID("8a0f3d4e-6c1b-4f7a-9a55-2f1e3c7b9d10")
STATUS_ORDER = ("incomplete", "partialcomplete", "completed")  # Mahara's statuses 1, 2, 3
STATUS_NUMBERS = {"1": "incomplete", "2": "partialcomplete", "3": "completed", "0": "begun"}


def default_statuses() -> dict[str, str]:
    """Mahara's own words for the statuses, for a .matrix that doesn't name them."""
    return {"incomplete": _("Doesn't meet the standard"), "partialcomplete": _("Partially meets the standard"),
            "completed": _("Meets the standard")}


def is_matrix(document: object) -> bool:
    """Whether parsed JSON looks like a Mahara .matrix file."""
    return isinstance(document, dict) and isinstance(document.get("framework"), dict)


def read_matrix(document: dict) -> FileFramework:
    """The framework in a .matrix file; FrameworkFileProblem when a part Folio needs is missing or malformed."""
    source = document["framework"]
    name = one_line(text_of(source.get("name")))
    if not name:
        raise FrameworkFileProblem(_("That .matrix file's framework has no name."))
    standards = source.get("standards")
    if not isinstance(standards, list) or not standards:
        raise FrameworkFileProblem(_("That .matrix file has no standards."))
    key = f"mahara-matrix:{name.casefold()}"
    framework = FileFramework(kind="matrix", identifier=str(uuid.uuid5(MATRIX_NAMESPACE, key)), name=name,
                              description=html_to_markdown(text_of(source.get("description"))), items=[])
    framework.levels = _levels(source.get("evidencestatuses"), framework.notes)
    elements = source.get("standardelements")
    if elements is not None and not isinstance(elements, list):
        raise FrameworkFileProblem(_("In that .matrix file, standardelements must be a list."))
    standard_ids = _standards(framework, standards, key)
    if elements:
        _flat_elements(framework, elements, standard_ids, key)
    return finish(framework)


def _item_id(key: str, *parts: str) -> str:
    return str(uuid.uuid5(MATRIX_NAMESPACE, "/".join((key, *parts))))


def _code_like(text: str) -> bool:
    return bool(text) and len(text) <= 20 and not any(ch.isspace() for ch in text)


def _levels(statuses: object, notes: list[str]) -> list[tuple[str, str]]:
    words = default_statuses()
    if isinstance(statuses, list):
        for choice in statuses:
            if isinstance(choice, dict) and len(choice) == 1:
                (status, label), = choice.items()
                status = STATUS_NUMBERS.get(str(status), str(status))
                if status in words and text_of(label):
                    words[status] = one_line(text_of(label))
                elif status == "begun":
                    notes.append(_("“%(label)s” (Mahara's request for assessment) isn't a level: in Folio, students "
                                   "ask for feedback instead.", label=one_line(text_of(label)) or status))
    return [(words[status], "") for status in STATUS_ORDER]


def _standards(framework: FileFramework, standards: list, key: str) -> dict[str, str]:
    """Add the standards (and the elements nested inside old-style ones); their ids -> their identifiers."""
    identifiers: dict[str, str] = {}
    codes = [text_of(s.get("shortname")) if isinstance(s, dict) else "" for s in standards]
    use_shortnames = all(_code_like(c) for c in codes) and len(set(codes)) == len(codes)
    for number, standard in enumerate(standards, start=1):
        if not isinstance(standard, dict):
            raise FrameworkFileProblem(_("Standard number %(n)s isn't an object.", n=number))
        shortname = text_of(standard.get("shortname"))
        standard_id = text_of(standard.get("standardid")) or shortname or str(number)
        identifier = _item_id(key, "standard", standard_id)
        title = one_line(text_of(standard.get("name"))) or one_line(shortname)
        if not title:
            raise FrameworkFileProblem(_("Standard number %(n)s has no name.", n=number))
        code = shortname if use_shortnames else (standard_id if _code_like(standard_id) else str(number))
        framework.items.append(FileItem(identifier=identifier, code=code, name=title,
                                        description=html_to_markdown(text_of(standard.get("description")))))
        identifiers[standard_id] = identifier
        nested = standard.get("standardelement")
        if isinstance(nested, list):
            _nested_elements(framework, nested, identifier, key, standard_id)
    return identifiers


def _element(framework: FileFramework, raw: dict, *, identifier: str, parent: str, number: int, code: str) -> FileItem:
    shortname = text_of(raw.get("shortname"))
    title = one_line(text_of(raw.get("name"))) or one_line(shortname)
    if not title:
        raise FrameworkFileProblem(_("Element number %(n)s has no name.", n=number))
    item = FileItem(identifier=identifier, code=code, name=title, parent=parent,
                    description=html_to_markdown(text_of(raw.get("description"))))
    framework.items.append(item)
    return item


def _element_codes(framework: FileFramework, elements: list) -> str:
    """Which field gives the elements their codes: "shortname" or "elementid" when every element has a usable,
    distinct one that no standard uses (real files number elements 1, 2... like their standards), else "" (the
    element's place in the tree)."""
    taken = {item.code.casefold() for item in framework.items}
    for name in ("shortname", "elementid"):
        codes = [text_of(raw.get(name)).casefold() for raw in elements if isinstance(raw, dict)]
        if all(_code_like(code) for code in codes) and not (set(codes) & taken) \
                and len(set(codes)) >= len({(text_of(raw.get("standardid")), text_of(raw.get("elementid")))
                                             for raw in elements if isinstance(raw, dict)}):
            return name
    return ""


def _flat_elements(framework: FileFramework, elements: list, standards: dict[str, str], key: str) -> None:
    code_field = _element_codes(framework, elements)
    by_element_id: dict[str, FileItem] = {}
    wanted_parents: list[tuple[FileItem, str]] = []
    for number, raw in enumerate(elements, start=1):
        if not isinstance(raw, dict):
            raise FrameworkFileProblem(_("Element number %(n)s isn't an object.", n=number))
        standard = standards.get(text_of(raw.get("standardid")))
        if standard is None:
            raise FrameworkFileProblem(_("Element number %(n)s belongs to standard %(id)s, which the file doesn't "
                                         "have.", n=number, id=text_of(raw.get("standardid")) or "?"))
        element_id = text_of(raw.get("elementid")) or text_of(raw.get("shortname")) or str(number)
        scoped = f"{text_of(raw.get('standardid'))}/{element_id}"
        if scoped in by_element_id:
            framework.notes.append(_("%(code)s is in the file twice; the first is kept.", code=element_id))
            continue
        item = _element(framework, raw, identifier=_item_id(key, "element", scoped), parent=standard, number=number,
                        code=text_of(raw.get(code_field)) if code_field else "")
        by_element_id[scoped] = item
        parent_id = text_of(raw.get("parentelementid"))
        if parent_id:
            wanted_parents.append((item, f"{text_of(raw.get('standardid'))}/{parent_id}"))
    for item, scoped_parent in wanted_parents:
        parent = by_element_id.get(scoped_parent)
        if parent is None:
            framework.notes.append(_("Element %(code)s names a parent the file doesn't have; it sits under its "
                                     "standard.", code=item.code or item.name[:40]))
        else:
            item.parent = parent.identifier


def _nested_elements(framework: FileFramework, elements: list, standard: str, key: str, standard_id: str) -> None:
    last_top: FileItem | None = None
    for number, raw in enumerate(elements, start=1):
        if not isinstance(raw, dict):
            raise FrameworkFileProblem(_("Element number %(n)s isn't an object.", n=number))
        element_id = text_of(raw.get("elementid")) or text_of(raw.get("shortname")) or str(number)
        shortname = text_of(raw.get("shortname"))
        sub = raw.get("parent") is True and last_top is not None
        item = _element(framework, raw, identifier=_item_id(key, "element", f"{standard_id}/{element_id}"),
                        parent=last_top.identifier if sub else standard, number=number,
                        code=shortname if _code_like(shortname) else "")
        if not sub:
            last_top = item
