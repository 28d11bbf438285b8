"""Reading a CASE 1.0 / 1.1 package (1EdTech Competencies and Academic Standards Exchange) as a framework.

What Folio takes: the CFDocument (title, description, identifier), every CFItem (humanCodingScheme as its code,
abbreviatedStatement or fullStatement as its name, the fullStatement as its description when they differ) and the
`isChildOf` CFAssociations that nest them, ordered by sequenceNumber. Other associations (exactMatchOf, precedes...)
and CFDefinitions are read past. Node references may be LinkGenURI objects or bare URI strings, as real exports
have both.
"""

from __future__ import annotations

from app.i18n import _
from app.services.competencies.framework_files import (
    FileFramework,
    FileItem,
    FrameworkFileProblem,
    check_identifier,
    finish,
    one_line,
    text_of,
)


def is_case_package(document: object) -> bool:
    """Whether parsed JSON looks like a CASE package (possibly wrapped as {"CFPackage": ...})."""
    return isinstance(document, dict) and ("CFDocument" in document or "CFPackage" in document)


def read_case_package(document: dict) -> FileFramework:
    """The framework in a CASE package; FrameworkFileProblem when a part Folio needs is missing or malformed."""
    package = document.get("CFPackage", document)
    if not isinstance(package, dict) or not isinstance(package.get("CFDocument"), dict):
        raise FrameworkFileProblem(_("That CASE package has no CFDocument (the framework itself)."))
    cf_document = package["CFDocument"]
    identifier = check_identifier(text_of(cf_document.get("identifier")), _("The CFDocument"))
    title = one_line(text_of(cf_document.get("title")))
    if not title:
        raise FrameworkFileProblem(_("The CFDocument has no title."))
    raw_items = package.get("CFItems", [])
    raw_associations = package.get("CFAssociations", [])
    if not isinstance(raw_items, list) or not isinstance(raw_associations, list):
        raise FrameworkFileProblem(_("In that CASE package, CFItems and CFAssociations must be lists."))
    items, uris = _items(raw_items)
    uris[text_of(cf_document.get("uri"))] = identifier
    framework = FileFramework(kind="case", identifier=identifier, name=title,
                              description=text_of(cf_document.get("description")), items=items)
    _nest(framework, raw_associations, uris, document_identifier=identifier)
    return finish(framework)


def _items(raw_items: list) -> tuple[list[FileItem], dict[str, str]]:
    items: list[FileItem] = []
    seen: set[str] = set()
    uris: dict[str, str] = {}  # a node's uri -> its identifier, for associations that give only the uri
    for number, raw in enumerate(raw_items, start=1):
        if not isinstance(raw, dict):
            raise FrameworkFileProblem(_("CFItem number %(n)s isn't an object.", n=number))
        identifier = check_identifier(text_of(raw.get("identifier")), _("CFItem number %(n)s", n=number))
        if identifier in seen:
            continue  # the same item listed twice: one is enough
        seen.add(identifier)
        full = text_of(raw.get("fullStatement"))
        abbreviated = one_line(text_of(raw.get("abbreviatedStatement")))
        code = one_line(text_of(raw.get("humanCodingScheme")))
        if not full and not abbreviated:
            raise FrameworkFileProblem(_("CFItem %(code)s has no fullStatement.", code=code or identifier))
        # A multi-line statement (Markdown: a table, a list) is named by its first line and kept whole below it.
        first_line = next((line for line in full.split("\n") if line.strip()), "")
        name = abbreviated or one_line(first_line)
        description = full if abbreviated or "\n" in full else ""
        items.append(FileItem(identifier=identifier, code=code, name=name, description=description))
        if text_of(raw.get("uri")):
            uris[text_of(raw.get("uri"))] = identifier
    return items, uris


def node_identifier(node: object, uris: dict[str, str]) -> str:
    """The identifier an association points at: a LinkGenURI's identifier, or the node whose uri a string names
    (failing that, the string's last path segment, which is the identifier in the usual /CFItems/<id> form)."""
    if isinstance(node, dict):
        identifier = text_of(node.get("identifier"))
        return identifier or uris.get(text_of(node.get("uri")), "")
    uri = text_of(node)
    return uris.get(uri) or uri.rstrip("/").rpartition("/")[2]


def _nest(framework: FileFramework, associations: list, uris: dict[str, str], *, document_identifier: str) -> None:
    by_id = {item.identifier: item for item in framework.items}
    placed: set[str] = set()
    for number, raw in enumerate(associations, start=1):
        if not isinstance(raw, dict):
            raise FrameworkFileProblem(_("CFAssociation number %(n)s isn't an object.", n=number))
        if text_of(raw.get("associationType")) != "isChildOf":
            continue
        child = by_id.get(node_identifier(raw.get("originNodeURI"), uris))
        parent = node_identifier(raw.get("destinationNodeURI"), uris)
        if child is None or child.identifier in placed:
            # An item under two parents (CASE allows it) sits under the first; Folio's tree has one parent.
            continue
        placed.add(child.identifier)
        child.parent = None if parent == document_identifier or parent not in by_id else parent
        sequence = raw.get("sequenceNumber")
        if isinstance(sequence, (int, float)) and not isinstance(sequence, bool):
            child.sequence = float(sequence)
        elif isinstance(sequence, str) and sequence.strip().lstrip("-").isdigit():
            child.sequence = float(sequence)
