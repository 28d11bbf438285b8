"""Leap2A export: a student's portfolio as an Atom feed in the Leap2A 2010-07 format (read by Mahara and others).

The feed follows what Mahara writes in its leap2a.xml: Atom entries typed with `rdf:type` (leap2:entry,
leap2:resource, leap2:plan, leap2:selection, leap2:person, leap2:ability), `leap2:has_part` / `leap2:is_part_of`
links, tags as plain Atom categories, Leap2A category schemes for selection and resource types, and files as
`<content src="files/...">` pointing into the archive the feed travels in.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from app.config import Settings
from app.i18n import _
from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    ArtefactTag,
    Competency,
    CompetencyRating,
    Goal,
    GoalCompetency,
    GoalStatus,
    GoalStep,
    MediaKind,
    ProficiencyLevel,
    Reflection,
    ReflectionArtefact,
    ReflectionCompetency,
    ReflectionStatus,
    Tag,
    User,
)
from app.models.base import utcnow
from app.services.portfolio import tags as tag_service
from app.services.portfolio.markdown import render_markdown

ATOM = "http://www.w3.org/2005/Atom"
LEAP2 = "http://terms.leapspecs.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
CATEGORIES = "http://wiki.leapspecs.org/2A/categories/"
MAHARA = "http://wiki.mahara.org/Developer_Area/Import%2F%2FExport/LEAP_Extensions#"
LEAP2A_VERSION = "http://www.leapspecs.org/2010-07/2A/"
FEED_FILE = "leap2a.xml"
CAPTION_ROLE = "caption"  # the portfolio:role# category of a spoken caption's entry
RECORDING_ROLE = "recording"  # ... and of a spoken reflection's recording

ET.register_namespace("leap2", LEAP2)
ET.register_namespace("rdf", RDF)

# Goal statuses as Leap2A plan stages.
GOAL_STAGES = {
    GoalStatus.active: "started",
    GoalStatus.paused: "paused",
    GoalStatus.achieved: "completed",
    GoalStatus.dropped: "abandoned",
}


def portfolio_namespace(*, settings: Settings, student: User) -> str:
    """The feed's `portfolio:` namespace: this Folio, this student (entry ids are stable within it)."""
    return f"{settings.base_url.rstrip('/')}/export/leap/{student.id}/"


def default_file_path(artefact: Artefact) -> str:
    """Where a file artefact sits in the archive unless told otherwise: files/<id>-<safe original name>."""
    return f"files/{artefact.id}-{safe_file_name(artefact.original_name or artefact.title or 'file')}"


def safe_file_name(name: str) -> str:
    """A name safe in any ZIP and file system: letters, digits, dot, dash and underscore, ≤ 100 characters."""
    base = unicodedata.normalize("NFKD", name.replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", base.encode("ascii", "ignore").decode()).strip("-.")
    return (cleaned or "file")[-100:]


def export_feed(*, session: Session, settings: Settings, student: User, file_paths: dict[int, str] | None = None) -> bytes:
    """The student's portfolio as Leap2A XML (UTF-8); `file_paths` maps a file artefact's id to its path in the archive."""
    file_paths = file_paths or {}
    data = _load(session, student)
    now = utcnow()
    feed = ET.Element(_atom("feed"), {"xmlns": ATOM})
    # Prefixes used only inside attribute values (ids, schemes) must be declared by hand.
    feed.set("xmlns:portfolio", portfolio_namespace(settings=settings, student=student))
    feed.set("xmlns:categories", CATEGORIES)
    ET.SubElement(feed, _leap("version")).text = LEAP2A_VERSION
    ET.SubElement(feed, _atom("id")).text = f"{settings.base_url.rstrip('/')}/export/leap/{student.id}/{now:%Y%m%dT%H%M%SZ}"
    ET.SubElement(feed, _atom("title")).text = _("Portfolio of %(name)s", name=student.display_name)
    ET.SubElement(feed, _atom("updated")).text = _datetime(now)
    generator = ET.SubElement(feed, _atom("generator"), {"uri": settings.base_url})
    generator.text = "Folio"
    _author(feed, student)

    person = _entry(feed, "portfolio:person", student.display_name, "person", published=student.created_at, updated=now)
    _content(person, "", "text")

    # A spoken caption is an attachment of its evidence (has_attachment / is_attachment_of, as Mahara links a
    # file to what it belongs to), marked so that a Folio import links it again.
    by_id = {artefact.id: artefact for artefact in data.artefacts}
    captions = {artefact.id: artefact.audio_artefact_id for artefact in data.artefacts
                if artefact.audio_artefact_id in by_id and by_id[artefact.audio_artefact_id].media_kind is MediaKind.audio}
    captioned = {caption_id: artefact_id for artefact_id, caption_id in captions.items()}
    # A reflection's recording likewise: an attachment of its journal entry, marked as its recording.
    recordings = {r.id: r.audio_artefact_id for r in data.reflections
                  if r.audio_artefact_id in by_id and by_id[r.audio_artefact_id].media_kind is MediaKind.audio}
    recorded = {audio_id: reflection_id for reflection_id, audio_id in recordings.items()}
    for artefact in data.artefacts:
        entry = _artefact_entry(feed, artefact, data.tags.get(artefact.id, []), file_paths)
        _competencies(entry, data.competencies.get(("artefact", artefact.id), []))
        if artefact.id in captions:
            _link(entry, "leap2:has_attachment", f"portfolio:artefact{captions[artefact.id]}")
        if artefact.id in captioned:
            _link(entry, "leap2:is_attachment_of", f"portfolio:artefact{captioned[artefact.id]}")
            _category(entry, CAPTION_ROLE, scheme="portfolio:role#")
        if artefact.id in recorded:
            _link(entry, "leap2:is_attachment_of", f"portfolio:reflection{recorded[artefact.id]}")
            _category(entry, RECORDING_ROLE, scheme="portfolio:role#")

    if data.reflections:
        journal = _entry(feed, "portfolio:journal", _("Reflections"), "selection",
                         published=min(r.created_at for r in data.reflections),
                         updated=max(r.updated_at for r in data.reflections))
        _content(journal, "", "text")
        _category(journal, "Blog", scheme="categories:selection_type#")
        for reflection in data.reflections:
            _link(journal, "leap2:has_part", f"portfolio:reflection{reflection.id}")
    for reflection in data.reflections:
        entry = _entry(feed, f"portfolio:reflection{reflection.id}", reflection.title, "entry",
                       published=reflection.published_at or reflection.created_at, updated=reflection.updated_at)
        _content(entry, str(render_markdown(reflection.body)), "html")
        _link(entry, "leap2:is_part_of", "portfolio:journal")
        for artefact_id in data.reflection_artefacts.get(reflection.id, []):
            _link(entry, "leap2:relation", f"portfolio:artefact{artefact_id}")
        if reflection.id in recordings:
            _link(entry, "leap2:has_attachment", f"portfolio:artefact{recordings[reflection.id]}")
        _category(entry, "reflection", scheme="portfolio:kind#")
        for tag in data.reflection_tags.get(reflection.id, []):
            _category(entry, tag)
        _competencies(entry, data.competencies.get(("reflection", reflection.id), []))
        if reflection.status is ReflectionStatus.draft:
            _category(entry, "Unready", scheme="categories:readiness#")

    for goal in data.goals:
        entry = _entry(feed, f"portfolio:goal{goal.id}", goal.title, "plan", published=goal.created_at, updated=goal.updated_at)
        if goal.success_criteria:
            ET.SubElement(entry, _atom("summary")).text = goal.success_criteria
        _content(entry, str(render_markdown(goal.why)) if goal.why else "", "html" if goal.why else "text")
        for step in data.steps.get(goal.id, []):
            _link(entry, "leap2:has_part", f"portfolio:step{step.id}", display_order=step.position + 1)
        _category(entry, "goal", scheme="portfolio:kind#")
        for tag in data.goal_tags.get(goal.id, []):
            _category(entry, tag)
        _competencies(entry, data.competencies.get(("goal", goal.id), []))
        ET.SubElement(entry, _leap("status"), {_leap("stage"): GOAL_STAGES[goal.status]})
        if goal.target_date:
            _date(entry, "target", goal.target_date)
    for goal in data.goals:
        for step in data.steps.get(goal.id, []):
            entry = _entry(feed, f"portfolio:step{step.id}", step.text, "plan",
                           published=goal.created_at, updated=step.done_at or goal.updated_at)
            _content(entry, "", "text")
            _link(entry, "leap2:is_part_of", f"portfolio:goal{goal.id}")
            _category(entry, "step", scheme="portfolio:kind#")
            ET.SubElement(entry, _leap("status"), {_leap("stage"): "completed" if step.done else "planned"})

    for rating, competency, level in data.ratings:
        title = f"{competency.code} {competency.name}: {level.label}"
        entry = _entry(feed, f"portfolio:rating{rating.id}", title, "ability", published=rating.created_at, updated=rating.created_at)
        _content(entry, rating.reason, "text")
        _category(entry, competency.code, scheme="portfolio:competency#", label=competency.name)
        _category(entry, level.label, scheme="portfolio:level#")
        _category(entry, rating.source.value, scheme="portfolio:rating_source#")

    _drop_control_characters(feed)
    ET.indent(feed, space="  ")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


# --- loading (a fixed number of queries) --------------------------------------------------------


class _Data:
    artefacts: list[Artefact]
    tags: dict[int, list[str]]
    reflections: list[Reflection]
    reflection_artefacts: dict[int, list[int]]
    reflection_tags: dict[int, list[str]]
    goals: list[Goal]
    goal_tags: dict[int, list[str]]
    steps: dict[int, list[GoalStep]]
    ratings: list[tuple[CompetencyRating, Competency, ProficiencyLevel]]
    competencies: dict[tuple[str, int], list[Competency]]


def _load(session: Session, student: User) -> _Data:
    data = _Data()
    data.artefacts = list(session.exec(
        select(Artefact).where(Artefact.owner_id == student.id).order_by(Artefact.occurred_on, Artefact.id)).all())
    data.tags = defaultdict(list)
    for artefact_id, name in session.exec(
        select(ArtefactTag.artefact_id, Tag.name).join(Tag, Tag.id == ArtefactTag.tag_id)
        .where(Tag.owner_id == student.id).order_by(Tag.name)
    ).all():
        data.tags[artefact_id].append(name)
    data.reflections = list(session.exec(
        select(Reflection).where(Reflection.owner_id == student.id).order_by(Reflection.created_at, Reflection.id)).all())
    data.reflection_artefacts = defaultdict(list)
    for reflection_id, artefact_id in session.exec(
        select(ReflectionArtefact.reflection_id, ReflectionArtefact.artefact_id)
        .join(Reflection, Reflection.id == ReflectionArtefact.reflection_id).where(Reflection.owner_id == student.id)
        .order_by(ReflectionArtefact.artefact_id)
    ).all():
        data.reflection_artefacts[reflection_id].append(artefact_id)
    data.goals = list(session.exec(select(Goal).where(Goal.owner_id == student.id).order_by(Goal.created_at, Goal.id)).all())
    data.reflection_tags = tag_service.tags_of(session=session, kind="reflection", item_ids=[r.id for r in data.reflections])
    data.goal_tags = tag_service.tags_of(session=session, kind="goal", item_ids=[g.id for g in data.goals])
    data.steps = defaultdict(list)
    for step in session.exec(
        select(GoalStep).join(Goal, Goal.id == GoalStep.goal_id).where(Goal.owner_id == student.id)
        .order_by(GoalStep.position, GoalStep.id)
    ).all():
        data.steps[step.goal_id].append(step)
    data.competencies = defaultdict(list)
    for kind, link, column, model in (
        ("artefact", ArtefactCompetency, ArtefactCompetency.artefact_id, Artefact),
        ("reflection", ReflectionCompetency, ReflectionCompetency.reflection_id, Reflection),
        ("goal", GoalCompetency, GoalCompetency.goal_id, Goal),
    ):
        for item_id, competency in session.exec(
            select(column, Competency).join(Competency, Competency.id == link.competency_id)
            .join(model, model.id == column).where(model.owner_id == student.id).order_by(Competency.code)
        ).all():
            data.competencies[(kind, item_id)].append(competency)
    data.ratings = list(session.exec(
        select(CompetencyRating, Competency, ProficiencyLevel)
        .join(Competency, Competency.id == CompetencyRating.competency_id)
        .join(ProficiencyLevel, ProficiencyLevel.id == CompetencyRating.level_id)
        .where(CompetencyRating.student_id == student.id)
        .order_by(CompetencyRating.created_at, CompetencyRating.id)
    ).all())
    return data


# Characters XML 1.0 can't hold at all (a pasted control character must not make the whole feed unreadable).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _drop_control_characters(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("", element.text)
        for key, value in element.attrib.items():
            element.set(key, _NOT_XML.sub("", value))


# --- building elements ------------------------------------------------------------------------------


def _atom(name: str) -> str:
    # Atom is the default namespace, declared by hand on <feed>: ElementTree then writes its names unprefixed
    # (without registering "" as a prefix for every other caller of ElementTree in the process).
    return name


def _leap(name: str) -> str:
    return f"{{{LEAP2}}}{name}"


def _datetime(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _author(parent: ET.Element, student: User) -> None:
    author = ET.SubElement(parent, _atom("author"))
    ET.SubElement(author, _atom("name")).text = student.display_name
    if student.email:
        ET.SubElement(author, _atom("email")).text = student.email
    ET.SubElement(author, _atom("uri")).text = "portfolio:person"


def _entry(feed: ET.Element, entry_id: str, title: str, leap_type: str, *, published: datetime, updated: datetime) -> ET.Element:
    entry = ET.SubElement(feed, _atom("entry"))
    ET.SubElement(entry, _atom("title")).text = title
    ET.SubElement(entry, _atom("id")).text = entry_id
    ET.SubElement(entry, _atom("updated")).text = _datetime(updated)
    ET.SubElement(entry, _atom("published")).text = _datetime(published)
    ET.SubElement(entry, f"{{{RDF}}}type", {f"{{{RDF}}}resource": f"leap2:{leap_type}"})
    return entry


def _content(entry: ET.Element, text: str, content_type: str, src: str | None = None) -> None:
    attributes = {"type": content_type}
    if src:
        attributes["src"] = src
    element = ET.SubElement(entry, _atom("content"), attributes)
    if not src:
        element.text = text


def _link(entry: ET.Element, rel: str, href: str, *, content_type: str | None = None, display_order: int | None = None) -> None:
    attributes = {"rel": rel, "href": href}
    if content_type:
        attributes["type"] = content_type
    if display_order is not None:
        attributes[_leap("display_order")] = str(display_order)
    ET.SubElement(entry, _atom("link"), attributes)


def _category(entry: ET.Element, term: str, *, scheme: str | None = None, label: str | None = None) -> None:
    attributes = {"term": term}
    if scheme:
        attributes["scheme"] = scheme
    if label and label != term:
        attributes["label"] = label
    ET.SubElement(entry, _atom("category"), attributes)


def _date(entry: ET.Element, point: str, value: date, label: str | None = None) -> None:
    attributes = {_leap("point"): point}
    if label:
        attributes[_leap("label")] = label
    ET.SubElement(entry, _leap("date"), attributes).text = value.isoformat()


def _competencies(entry: ET.Element, competencies: list[Competency]) -> None:
    for competency in competencies:
        _category(entry, competency.code, scheme="portfolio:competency#", label=competency.name)


def _artefact_entry(feed: ET.Element, artefact: Artefact, tags: list[str], file_paths: dict[int, str]) -> ET.Element:
    leap_type = "resource" if artefact.kind is ArtefactKind.file else "entry"
    entry = _entry(feed, f"portfolio:artefact{artefact.id}", artefact.title, leap_type,
                   published=artefact.created_at, updated=artefact.updated_at)
    if artefact.description:
        ET.SubElement(entry, _atom("summary")).text = artefact.description
    if artefact.kind is ArtefactKind.file:
        path = file_paths.get(artefact.id) or default_file_path(artefact)
        _content(entry, "", artefact.content_type or "application/octet-stream", src=path)
        _link(entry, "enclosure", path, content_type=artefact.content_type)
        _category(entry, "Offline", scheme="categories:resource_type#", label="File")
    elif artefact.kind is ArtefactKind.link:
        _content(entry, artefact.url or "", "text")
        _link(entry, "alternate", artefact.url or "")
    else:
        _content(entry, str(render_markdown(artefact.body)), "html")
    _category(entry, artefact.kind.value, scheme="portfolio:kind#")
    for tag in tags:
        _category(entry, tag)
    _date(entry, "start", artefact.occurred_on, label="occurred")
    return entry
