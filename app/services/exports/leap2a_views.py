"""Mahara pages (`portfolio:viewN`, selection type Webpage) and collections (`portfolio:collectionN`, selection
type Website) as showcases. A collection becomes one showcase of its pages' items, page after page; a page in no
collection becomes a showcase of its own. The items come in the order the page's blocks show them (rows, then
columns, then blocks: `mahara:view` with each block's `artefactid(s)` as `["portfolio:artefact41"]`), else in the
order of its has_part links. A text block right after an item's block becomes that item's talking points; any other
text block becomes a note in its place. The dashboard and profile pages aren't showcases. Used by leap2a_import."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from sqlmodel import select

from app.i18n import _
from app.models import Artefact, ArtefactKind, Audience, Goal, Reflection, Showcase, ShowcaseItem, ShowcaseItemType
from app.services.exports.leap2a_evidence import image_resolver, keep_dates
from app.services.exports.leap2a_feed import (
    Entry, attribute, category_terms, children_named, entry_relations, html_to_markdown, occurred_on, summary_text,
)
from app.services.exports.leap2a_run import Run, title_of
from app.services.moderation import approvals
from app.services.portfolio import artefacts
from app.services.portfolio import timeline

NOT_SHOWCASES = {"dashboard", "profile", "grouphomepage"}
MAX_TALKING_POINTS = 5000


def is_page(entry: Entry) -> bool:
    return entry.id.startswith("portfolio:view") or (
        entry.leap_type == "selection" and "webpage" in category_terms(entry, "selection_type"))


def is_collection(entry: Entry) -> bool:
    return entry.id.startswith("portfolio:collection") or (
        entry.leap_type == "selection" and "website" in category_terms(entry, "selection_type"))


def import_showcases(run: Run, entries: list[Entry], post_parents: dict[str, list[str]]) -> None:
    """Collections, then the pages in none, as showcases (after every item is imported); `post_parents` lists a
    journal's posts, in order, by the journal's entry id."""
    pages = {entry.id: entry for entry in entries if is_page(entry) and not is_collection(entry)}
    types = _item_types(run)
    in_collection: set[str] = set()
    for entry in entries:
        if not is_collection(entry):
            continue
        page_ids = [href for href in entry_relations(entry, "has_part") if href in pages]
        in_collection.update(page_ids)
        _showcase(run, entry, [pages[p] for p in page_ids], post_parents, types)
    for page in pages.values():
        if page.id in in_collection:
            continue
        if _view_type(page) in NOT_SHOWCASES:
            run.skip(page, _("Mahara's dashboard and profile pages aren't showcases."))
            continue
        _showcase(run, page, [page], post_parents, types)


def _view_type(page: Entry) -> str:
    views = children_named(page.element, "view", mahara=True)
    return attribute(views[0], "type", mahara=True).lower() if views else ""


def _showcase(run: Run, entry: Entry, pages: list[Entry], post_parents: dict[str, list[str]],
              types: dict[int, ShowcaseItemType]) -> None:
    key = run.key(entry)
    title = title_of(entry, _("Untitled showcase"))
    if key in run.earlier and run.session.exec(select(Showcase.id).where(
            Showcase.owner_id == run.student.id, Showcase.title == title)).first() is not None:
        run.already(entry)
        return
    blocks: list[tuple[str, object]] = []  # ("item", entry id) or ("text", (title, markdown))
    for page in pages:
        if len(pages) > 1:
            blocks.append(("heading", title_of(page, "")))
        blocks += _page_blocks(run, page, post_parents)
    blocks = [(kind, value) for kind, value in blocks if kind != "item" or value in run.imported]
    if not any(kind in ("item", "text") for kind, _value in blocks):
        run.skip(entry, _("it shows nothing Folio can import."))
        return
    introduction = summary_text(entry)
    showcase = Showcase(owner_id=run.student.id, title=title, introduction=introduction[:5000], audience=Audience.private)
    run.session.add(showcase)
    run.session.flush()
    keep_dates(run.session, showcase, entry)
    approvals.request_showcase_if_needed(session=run.session, showcase=showcase)
    added: list[ShowcaseItem] = []
    seen: set[int] = set()
    heading = ""
    for kind, value in blocks:
        if kind == "heading":
            heading = str(value)
            continue
        if kind == "text":
            block_title, text = value
            if added and added[-1].item_id is not None and not added[-1].talking_points and not heading:
                added[-1].talking_points = text[:MAX_TALKING_POINTS]
                continue
            note = _text_note(run, entry, block_title or heading or title, text)
            item_id, item_type = note.id, ShowcaseItemType.artefact
            types[note.id] = item_type
        else:
            item_id = run.imported.get(str(value))
            item_type = types.get(item_id) if item_id is not None else None
            if item_type is None:
                continue
        heading = ""
        if item_id in seen:
            continue
        seen.add(item_id)
        item = ShowcaseItem.to(showcase_id=showcase.id, item_type=item_type, target_id=item_id, position=len(added))
        run.session.add(item)
        added.append(item)
    run.session.flush()
    if run.ledger is not None:
        run.ledger.record(key, None)
    run.summary.showcases += 1


def _item_types(run: Run) -> dict[int, ShowcaseItemType]:
    """What each imported item is, in three queries."""
    ids = list(set(run.imported.values()))
    types: dict[int, ShowcaseItemType] = {}
    for model, item_type in ((Artefact, ShowcaseItemType.artefact), (Reflection, ShowcaseItemType.reflection),
                             (Goal, ShowcaseItemType.goal)):
        for start in range(0, len(ids), 500):
            for item_id in run.session.exec(select(model.id).where(model.id.in_(ids[start:start + 500]),
                                                                   model.owner_id == run.student.id)).all():
                types[item_id] = item_type
    return types


def _text_note(run: Run, page: Entry, title: str, text: str) -> Artefact:
    data = artefacts.ArtefactInput(title=title[:200], body=text, audience=Audience.private, occurred_on=occurred_on(page))
    note = artefacts.create_text_artefact(session=run.session, owner=run.student, kind=ArtefactKind.note, data=data)
    timeline.sync_artefact(session=run.session, artefact=note)
    run.summary.artefacts += 1
    return note


def _page_blocks(run: Run, page: Entry, post_parents: dict[str, list[str]]) -> list[tuple[str, object]]:
    """The page's items (entry ids) and text blocks, in the order Mahara shows them."""
    blocks: list[tuple[str, object]] = []
    views = children_named(page.element, "view", mahara=True)
    resolve = image_resolver(run)
    if views:
        for block in _blocks_in_order(views[0]):
            block_title = attribute(block, "blocktitle", mahara=True)
            config = {(child.tag.rsplit("}", 1)[-1] if isinstance(child.tag, str) else ""): _json_value(child.text)
                      for child in block}
            ids = []
            if isinstance(config.get("artefactid"), str):
                ids.append(config["artefactid"])
            if isinstance(config.get("artefactids"), list):
                ids += [value for value in config["artefactids"] if isinstance(value, str)]
            for entry_id in ids:
                blocks += [("item", post) for post in post_parents.get(entry_id, [entry_id])]
            if isinstance(config.get("text"), str) and not ids:
                text = html_to_markdown(config["text"], resolve)
                if text.strip():
                    blocks.append(("text", (block_title, text)))
    if not any(kind == "item" for kind, _value in blocks):
        for href in entry_relations(page, "has_part"):
            blocks += [("item", post) for post in post_parents.get(href, [href])]
    return blocks


def _blocks_in_order(view: ET.Element) -> list[ET.Element]:
    found: list[ET.Element] = []
    rows = children_named(view, "row", mahara=True) or [view]
    for row in rows:
        columns = children_named(row, "column", mahara=True)
        for column in columns:
            found += children_named(column, "blockinstance", mahara=True)
        found += children_named(row, "blockinstance", mahara=True)  # the newer grid layout: blocks in the view
    return found


def _json_value(text: str | None):
    """A block's setting: Mahara writes each as a JSON array of one value."""
    try:
        value = json.loads(text or "")
    except ValueError:
        return None
    return value[0] if isinstance(value, list) and value else None
