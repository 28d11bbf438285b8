"""A framework as a CASE 1.0 JSON package, for Folio (importing it again updates the same framework) and CASE tools.

Identifiers are the stored CASE identifiers (kept from an imported file, or made when the framework and its
competencies were created), so every export of a framework names the same CFDocument and CFItems. An association's
identifier is derived from the two it links. A `uri` is a urn:uuid: (Folio doesn't publish a CASE API to point at).
Archived competencies are left out: the package is the framework as the school uses it now; a live competency under
an archived one hangs from the nearest live ancestor.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timezone

from sqlmodel import Session, select

from app.models import Competency, Framework, School
from app.services.competencies.competency_picker import nested

ASSOCIATION_NAMESPACE = uuid.UUID("5f0c2b1e-9d4a-4e83-b7a6-1c2d3e4f5a6b")  # fixed: association ids stay stable


def case_uri(identifier: str) -> str:
    """A URI for a CASE object: urn:uuid:<identifier> when it is a UUID (it always is for Folio's own)."""
    try:
        return f"urn:uuid:{uuid.UUID(identifier)}"
    except ValueError:
        return f"urn:folio:case:{re.sub(r'[^A-Za-z0-9._~-]', '-', identifier)}"


def _link(title: str, identifier: str) -> dict:
    return {"title": title, "identifier": identifier, "uri": case_uri(identifier)}


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def case_package(*, session: Session, framework: Framework, now: datetime | None = None) -> dict:
    """The CASE package of `framework` (a JSON-ready dict)."""
    changed = _timestamp(now or datetime.now(timezone.utc))
    school = session.get(School, framework.school_id)
    document_link = _link(framework.name, framework.case_identifier)
    document = {
        "identifier": framework.case_identifier, "uri": document_link["uri"],
        "creator": school.name if school else "Folio", "title": framework.name, "lastChangeDateTime": changed,
        "CFPackageURI": document_link,
    }
    if framework.description:
        document["description"] = framework.description
    competencies = list(session.exec(select(Competency).where(Competency.framework_id == framework.id)).all())
    by_id = {c.id: c for c in competencies}
    items, associations = [], []
    sequence: dict[str, int] = {}
    for option in nested(competencies):
        competency = by_id[option.id]
        if competency.archived:
            continue
        items.append(_item(competency, document_link, changed))
        parent = _live_parent(competency, by_id)
        destination = _link(f"{parent.code}", parent.case_identifier) if parent else document_link
        sequence[destination["identifier"]] = sequence.get(destination["identifier"], 0) + 1
        association_id = str(uuid.uuid5(ASSOCIATION_NAMESPACE,
                                        f"{competency.case_identifier} isChildOf {destination['identifier']}"))
        associations.append({
            "identifier": association_id, "uri": case_uri(association_id), "lastChangeDateTime": changed,
            "CFDocumentURI": document_link, "associationType": "isChildOf",
            "sequenceNumber": sequence[destination["identifier"]],
            "originNodeURI": _link(competency.code, competency.case_identifier), "destinationNodeURI": destination,
        })
    return {
        "CFDocument": document, "CFItems": items, "CFAssociations": associations,
        "CFDefinitions": {"CFConcepts": [], "CFSubjects": [], "CFLicenses": [], "CFItemTypes": [],
                          "CFAssociationGroupings": []},
    }


def _item(competency: Competency, document_link: dict, changed: str) -> dict:
    item = {
        "identifier": competency.case_identifier, "uri": case_uri(competency.case_identifier),
        "CFDocumentURI": document_link, "humanCodingScheme": competency.code,
        "fullStatement": competency.description or competency.name, "lastChangeDateTime": changed,
    }
    if competency.description and competency.description != competency.name:
        item["abbreviatedStatement"] = competency.name
    return item


def _live_parent(competency: Competency, by_id: dict[int, Competency]) -> Competency | None:
    parent = by_id.get(competency.parent_id) if competency.parent_id else None
    while parent is not None and parent.archived:
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return parent


def download_name(framework: Framework) -> str:
    """A file name for the package: the framework's name made safe, then .case.json."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", framework.name).strip("-").lower()[:60] or "framework"
    return f"{slug}.case.json"
