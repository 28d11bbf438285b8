"""Leap2A: Folio's export is a valid Leap2A Atom feed; Mahara-style feeds (and Folio's own) import safely."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import select

from app import storage
from app.models import (
    Artefact,
    ArtefactKind,
    ArtefactTag,
    Goal,
    GoalStatus,
    GoalStep,
    ItemType,
    Reflection,
    ReflectionArtefact,
    ReflectionStatus,
    Tag,
    Item,
)
from app.services.portfolio import artefacts
from app.services.portfolio import goal_forms
from app.services.portfolio import goals
from app.services.competencies import ratings
from app.services.portfolio import stored_files
from app.services.exports.leap2a import ATOM, CATEGORIES, LEAP2, LEAP2A_VERSION, RDF, export_feed
from app.services.exports.leap2a_feed import Leap2AError, html_to_markdown
from app.services.exports.leap2a_import import import_leap2a
from app.services.portfolio import goal_steps
from tests.factories import make_framework, make_note, make_reflection, make_school, make_user
from tests.media import GPS_IFD, jpeg_with_gps
from tests.stored import stored_bytes, stored_keys

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

SAMPLE = Path(__file__).parent / "data" / "mahara-leap2a.xml"
A = f"{{{ATOM}}}"
L = f"{{{LEAP2}}}"


# --- helpers --------------------------------------------------------------------------------------------


def _file_artefact(session, settings, student, tmp_path: Path, *, title="Bridge photo", tags=("science",)):
    source = tmp_path / "bridge.jpg"
    source.write_bytes(jpeg_with_gps())
    stored = stored_files.store_path(path=source, store=storage.uploads(settings), owner_id=student.id, original_name="bridge photo.jpg")
    data = artefacts.ArtefactInput(title=title, description="It held 2.4 kg", occurred_on=date(2026, 10, 3), tags=list(tags))
    artefact = artefacts.create_file_artefacts(session=session, owner=student, files=[stored], data=data)[0]
    session.commit()
    return artefact


def _goal(session, student, *, title="Run 5 km", steps=("Run 1 km", "Run 3 km", "Run 5 km"), done=1):
    data = goal_forms.GoalData(title=title, why="To get fitter", success_criteria="Under 30 minutes",
                               target_date=date(2027, 3, 1), audience=artefacts.Audience.private,
                               competency_ids=set(), steps=list(steps))
    goal = goals.create_goal(session=session, owner=student, data=data)
    for step in goals.steps_of(session=session, goal=goal)[:done]:
        goal_steps.toggle_step(session=session, goal=goal, step_id=step.id, done=True)
    session.commit()
    return goal


def _portfolio(session, settings, tmp_path):
    """A student with a note, a link, a photo, two reflections, a goal with steps and a self-rating."""
    school = make_school(session)
    student = make_user(session, school, display_name="Maya Chen")
    framework = make_framework(session, school)
    competency = framework.competencies[0]
    level = framework.levels[2]
    note = make_note(session, student, title="Fractions notes", body="Halves and **quarters**", tags=["maths", "fractions"],
                     competency_ids=[competency.id])
    link = artefacts.create_text_artefact(session=session, owner=student, kind=ArtefactKind.link, data=artefacts.ArtefactInput(
        title="Bridge video", url="https://video.example.org/bridge", occurred_on=date(2026, 9, 1)))
    session.commit()
    photo = _file_artefact(session, settings, student, tmp_path)
    first = make_reflection(session, student, title="What I learned about bridges", body="Triangles are strong.",
                            artefact_ids=[photo.id])
    second = make_reflection(session, student, title="Draft thoughts", body="Not sure yet", draft=True)
    goal = _goal(session, student)
    ratings.create_self_rating(session=session, student=student, competency=competency,
                               data=ratings.RatingInput(level_id=level.id, reason="I explained my bridge"))
    session.commit()
    return student, dict(note=note, link=link, photo=photo, reflections=[first, second], goal=goal,
                         competency=competency, level=level)


def _entries_by_id(root):
    return {entry.findtext(f"{A}id"): entry for entry in root.findall(f"{A}entry")}


def _rdf_type(entry) -> str:
    return entry.find(f"{{{RDF}}}type").get(f"{{{RDF}}}resource")


def _counts(session, student):
    return (
        len(session.exec(select(Artefact).where(Artefact.owner_id == student.id)).all()),
        len(session.exec(select(Reflection).where(Reflection.owner_id == student.id)).all()),
        len(session.exec(select(Goal).where(Goal.owner_id == student.id)).all()),
        len(session.exec(select(Item).where(Item.owner_id == student.id)).all()),
    )


# --- export -----------------------------------------------------------------------------------------------


def test_export_is_a_leap2a_atom_feed_with_every_item(session, settings, tmp_path):
    student, items = _portfolio(session, settings, tmp_path)
    photo, goal = items["photo"], items["goal"]

    xml = export_feed(session=session, settings=settings, student=student, file_paths={photo.id: "files/photos/bridge.jpg"})

    assert xml.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    xml.decode("utf-8")  # well-formed UTF-8
    root = ET.fromstring(xml)
    assert root.tag == f"{A}feed"
    assert root.findtext(f"{L}version") == LEAP2A_VERSION
    text = xml.decode()
    assert f'xmlns:leap2="{LEAP2}"' in text
    assert f'xmlns:categories="{CATEGORIES}"' in text
    assert 'xmlns:portfolio="http://testserver/export/leap/' in text
    assert root.find(f"{A}author/{A}name").text == "Maya Chen"

    entries = _entries_by_id(root)
    # person + 3 artefacts + journal + 2 reflections + goal + 3 steps + 1 rating
    assert len(root.findall(f"{A}entry")) == 1 + 3 + 1 + 2 + 1 + 3 + 1
    assert _rdf_type(entries["portfolio:person"]) == "leap2:person"

    resource = entries[f"portfolio:artefact{photo.id}"]
    assert _rdf_type(resource) == "leap2:resource"
    content = resource.find(f"{A}content")
    assert content.get("src") == "files/photos/bridge.jpg"
    assert content.get("type") == "image/jpeg"
    assert {c.get("term") for c in resource.findall(f"{A}category") if not c.get("scheme")} == {"science"}
    assert resource.find(f"{L}date").text == "2026-10-03"

    note = entries[f"portfolio:artefact{items['note'].id}"]
    assert _rdf_type(note) == "leap2:entry"
    assert note.find(f"{A}content").get("type") == "html"
    assert "<strong>quarters</strong>" in note.findtext(f"{A}content")
    assert {c.get("term") for c in note.findall(f"{A}category") if not c.get("scheme")} == {"maths", "fractions"}
    assert [(c.get("term"), c.get("label")) for c in note.findall(f"{A}category")
            if c.get("scheme") == "portfolio:competency#"] == [(items["competency"].code, items["competency"].name)]
    link = entries[f"portfolio:artefact{items['link'].id}"]
    assert [l.get("href") for l in link.findall(f"{A}link") if l.get("rel") == "alternate"] == ["https://video.example.org/bridge"]

    plan = entries[f"portfolio:goal{goal.id}"]
    assert _rdf_type(plan) == "leap2:plan"
    assert plan.findtext(f"{A}summary") == "Under 30 minutes"
    assert plan.find(f"{L}date").get(f"{L}point") == "target" and plan.find(f"{L}date").text == "2027-03-01"
    step_ids = [l.get("href") for l in plan.findall(f"{A}link") if l.get("rel") == "leap2:has_part"]
    assert len(step_ids) == 3
    stages = [entries[s].find(f"{L}status").get(f"{L}stage") for s in step_ids]
    assert stages == ["completed", "planned", "planned"]
    assert [entries[s].findtext(f"{A}title") for s in step_ids] == ["Run 1 km", "Run 3 km", "Run 5 km"]
    assert all(_rdf_type(entries[s]) == "leap2:plan" for s in step_ids)

    journal = entries["portfolio:journal"]
    assert _rdf_type(journal) == "leap2:selection"
    assert journal.find(f"{A}category").get("term") == "Blog"
    reflection = entries[f"portfolio:reflection{items['reflections'][0].id}"]
    assert [l.get("href") for l in reflection.findall(f"{A}link") if l.get("rel") == "leap2:is_part_of"] == ["portfolio:journal"]
    draft = entries[f"portfolio:reflection{items['reflections'][1].id}"]
    assert "Unready" in {c.get("term") for c in draft.findall(f"{A}category")}

    abilities = [e for e in entries.values() if _rdf_type(e) == "leap2:ability"]
    assert len(abilities) == 1
    terms = {c.get("term") for c in abilities[0].findall(f"{A}category")}
    assert items["competency"].code in terms and items["level"].label in terms


def test_export_default_file_path_and_query_count_does_not_grow(session, settings, tmp_path, count_queries):
    student = make_user(session, make_school(session))
    photo = _file_artefact(session, settings, student, tmp_path)
    counts = []
    for extra in (1, 12):
        for n in range(extra):
            make_note(session, student, title=f"Note {extra}-{n}", tags=[f"t{n}"])
            make_reflection(session, student, title=f"Reflection {extra}-{n}")
            _goal(session, student, title=f"Goal {extra}-{n}")
        with count_queries() as counter:
            xml = export_feed(session=session, settings=settings, student=student)
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    entries = _entries_by_id(ET.fromstring(xml))
    assert entries[f"portfolio:artefact{photo.id}"].find(f"{A}content").get("src") == f"files/{photo.id}-bridge-photo.jpg"


def test_export_escapes_markup_in_titles(session, settings):
    student = make_user(session, make_school(session), display_name="Zoë <b>&</b>")
    make_note(session, student, title="Ünïcode & <tags> ✓\x07", body="<script>alert(1)</script>\x01")
    xml = export_feed(session=session, settings=settings, student=student)
    root = ET.fromstring(xml)
    titles = [e.findtext(f"{A}title") for e in root.findall(f"{A}entry")]
    assert "Ünïcode & <tags> ✓" in titles
    assert b"<script>" not in xml


# --- import: a Mahara export ---------------------------------------------------------------------------


def _jpeg_file(tmp_path: Path) -> Path:
    folder = tmp_path / "unzipped" / "files"
    folder.mkdir(parents=True)
    path = folder / "0-bridge-test.jpg"
    path.write_bytes(jpeg_with_gps(640, 400))
    return path


def test_mahara_export_imports(session, settings, tmp_path):
    student = make_user(session, make_school(session))
    photo = _jpeg_file(tmp_path)

    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=SAMPLE.read_bytes(),
                            files={"files/0-bridge-test.jpg": photo})
    session.commit()

    # The comment is skipped; the page becomes a showcase of the photo (issue 12).
    assert (summary.artefacts, summary.reflections, summary.goals, summary.skipped, summary.showcases) == (2, 2, 1, 1, 1)
    assert [(s.kind, s.title) for s in summary.not_imported] == [("Comment", "Nice work on the bridge!")]
    posts = {r.title: r for r in session.exec(select(Reflection).where(Reflection.owner_id == student.id)).all()}
    assert set(posts) == {"Testing our paper bridges", "What I'd change next time"}
    bridges = posts["Testing our paper bridges"]
    assert bridges.status is ReflectionStatus.published and bridges.audience is artefacts.Audience.private
    assert bridges.body == ("We tested three bridge designs with **pennies**.\n\n"
                            "The truss held 84 pennies. See the [truss guide](https://www.example.org/truss).")
    assert "alert" not in bridges.body
    assert bridges.created_at.date() == date(2026, 9, 18)
    linked = session.exec(select(ReflectionArtefact.artefact_id).where(ReflectionArtefact.reflection_id == bridges.id)).all()
    change = posts["What I'd change next time"]
    assert change.body == "Next time I would glue the joints first\nand wait a day.\n\n- Measure twice\n- Cut once"

    goal = session.exec(select(Goal).where(Goal.owner_id == student.id)).one()
    assert goal.title == "Read 10 novels this year"
    assert goal.why == "I want to read more *fiction*."
    assert goal.status is GoalStatus.active
    steps = session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(GoalStep.position)).all()
    assert [(s.text, s.done) for s in steps] == [
        ("Choose a reading list", True), ("Read two novels by October", False), ("Write a review of my favourite", False)]
    assert steps[0].done_at is not None

    file = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.kind == ArtefactKind.file)).one()
    assert file.title == "bridge-test.jpg" and file.original_name == "0-bridge-test.jpg"
    assert file.description == "Our truss bridge holding 84 pennies."
    assert file.occurred_on == date(2026, 9, 18)
    assert file.audience is artefacts.Audience.private
    assert (file.width, file.height) == (640, 400)
    kept = storage.uploads(settings)
    assert kept.exists(file.thumb_small) and kept.exists(file.thumb_large)
    with Image.open(io.BytesIO(kept.read_bytes(file.stored_name))) as image:
        assert not image.getexif().get_ifd(GPS_IFD)
        assert not image.getexif()
    assert linked == [file.id]  # the photo attached to the journal post
    session.refresh(student)
    assert file.size_bytes == kept.info(file.stored_name).size
    derived = [kept.info(name).size for name in (file.thumb_small, file.thumb_large, file.thumb_print) if name]
    # The quota counts the photo and its thumbnails and print copy (issue 16).
    assert student.storage_used_bytes == file.size_bytes + file.derived_bytes == file.size_bytes + sum(derived)

    note = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.kind == ArtefactKind.note)).one()
    assert note.title == "About my learning" and note.body == "I learn best by **building things**."

    tags = dict(session.exec(select(Artefact.title, Tag.name).join(ArtefactTag, ArtefactTag.artefact_id == Artefact.id)
                             .join(Tag, Tag.id == ArtefactTag.tag_id).where(Tag.name == "photos")).all())
    assert tags == {"bridge-test.jpg": "photos"}
    file_tags = set(session.exec(select(Tag.name).join(ArtefactTag, ArtefactTag.tag_id == Tag.id)
                                 .where(ArtefactTag.artefact_id == file.id)).all())
    assert file_tags == {"Bridges", "photos"}  # Mahara's label, with its case
    # every item is on the timeline, dated as in Mahara
    timeline = session.exec(select(Item).where(Item.owner_id == student.id)).all()
    assert len(timeline) == 5
    assert {(e.type, e.title): e.occurred_on for e in timeline}[(ItemType.reflection, "Testing our paper bridges")] == date(2026, 9, 18)


def test_a_file_named_only_by_its_enclosure_link_is_found(session, settings, tmp_path):
    student = make_user(session, make_school(session))
    xml = SAMPLE.read_text().replace('<content type="image/jpeg" src="files/0-bridge-test.jpg"/>', '<content type="text"/>')
    xml = xml.replace('href="files/0-bridge-test.jpg"', 'href="./files/0-bridge%20test.jpg"')
    assert 'src="files/0-bridge-test.jpg"' not in xml
    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml.encode(),
                            files={"files/0-bridge test.jpg": _jpeg_file(tmp_path)})
    assert summary.artefacts == 2
    file = session.exec(select(Artefact).where(Artefact.owner_id == student.id, Artefact.kind == ArtefactKind.file)).one()
    assert file.media_kind.value == "image" and file.thumb_small


def test_missing_file_is_skipped_with_a_message(session, settings):
    student = make_user(session, make_school(session))
    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=SAMPLE.read_bytes(), files={})
    assert (summary.artefacts, summary.skipped) == (1, 3)
    assert [line.line() for line in summary.not_imported] == [
        "- Image “bridge-test.jpg”: its file isn't in the archive.",
        "- Comment “Nice work on the bridge!”: comments aren't imported.",
        "- Page “My science page”: it shows nothing Folio can import."]


def test_a_file_over_the_quota_is_skipped(session, settings, tmp_path):
    student = make_user(session, make_school(session))
    student.storage_used_bytes = settings.student_quota_bytes - 10
    session.add(student)
    session.commit()
    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=SAMPLE.read_bytes(),
                            files={"files/0-bridge-test.jpg": _jpeg_file(tmp_path)})
    assert summary.artefacts == 1 and summary.stored_files == []
    assert any("storage space" in skipped.reason for skipped in summary.not_imported)


def test_a_program_disguised_as_a_photo_is_refused(session, settings, tmp_path):
    student = make_user(session, make_school(session))
    fake = tmp_path / "0-bridge-test.jpg"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 4000)
    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=SAMPLE.read_bytes(),
                            files={"files/0-bridge-test.jpg": fake})
    assert summary.skipped == 3
    assert session.exec(select(Artefact).where(Artefact.kind == ArtefactKind.file)).all() == []
    assert stored_keys(settings, f"u{student.id}/") == []


# --- import: refusals ----------------------------------------------------------------------------------------

ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&b;</title><id>x</id><content>hi</content></entry></feed>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>&secret;</title><id>x</id><content>hi</content></entry></feed>"""
NOT_ATOM = b"""<?xml version="1.0"?><rss version="2.0"><channel><item><title>Hi</title></item></channel></rss>"""
EMPTY_FEED = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Nothing</title></feed>"""


@pytest.mark.parametrize(("xml", "message"), [
    (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "damaged"),
    (b"\xff\xfenot xml at all", "damaged"),
    (ENTITY_BOMB, "entities"),
    (XXE, "entities"),
    (NOT_ATOM, "Atom feed"),
    (EMPTY_FEED, "no entries"),
])
def test_bad_feeds_are_refused_and_nothing_is_created(session, settings, xml, message):
    student = make_user(session, make_school(session))
    with pytest.raises(Leap2AError) as raised:
        import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml, files={})
    assert message in raised.value.message
    session.commit()
    assert _counts(session, student) == (0, 0, 0, 0)


def test_a_failure_midway_removes_the_files_already_stored(session, settings, tmp_path, monkeypatch):
    student = make_user(session, make_school(session))
    from app.services.exports import leap2a_import

    def boom(**_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(leap2a_import.reflections, "create_reflection", boom)
    # The file entry comes after the blog posts in the sample; put it first so a file is stored before the failure.
    xml = SAMPLE.read_text()
    start = xml.index("    <entry>\n        <title>bridge-test.jpg")
    end = xml.index("</entry>", start) + len("</entry>\n")
    block = xml[start:end]
    xml = xml[:start] + xml[end:]
    first = xml.index("    <entry>")
    xml = xml[:first] + block + xml[first:]
    with pytest.raises(RuntimeError):
        import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml.encode(),
                      files={"files/0-bridge-test.jpg": _jpeg_file(tmp_path)})
    session.rollback()
    assert stored_keys(settings, f"u{student.id}/") == []
    assert _counts(session, student) == (0, 0, 0, 0)


# --- round trip -----------------------------------------------------------------------------------------------


def test_folio_export_imports_back(session, settings, tmp_path):
    student, items = _portfolio(session, settings, tmp_path)
    photo = items["photo"]
    xml = export_feed(session=session, settings=settings, student=student)
    archive_path = tmp_path / "copy.jpg"
    archive_path.write_bytes(stored_bytes(settings, photo.stored_name))
    other = make_user(session, make_school(session))

    summary = import_leap2a(session=session, settings=settings, student=other, xml_bytes=xml,
                            files={f"files/{photo.id}-bridge-photo.jpg": archive_path})
    session.commit()

    assert (summary.artefacts, summary.reflections, summary.goals) == (3, 2, 1)
    assert summary.skipped == 1  # the self-rating: competencies belong to a school's framework
    titles = {a.title: a for a in session.exec(select(Artefact).where(Artefact.owner_id == other.id)).all()}
    assert set(titles) == {"Fractions notes", "Bridge video", "Bridge photo"}
    assert titles["Bridge video"].kind is ArtefactKind.link and titles["Bridge video"].url == "https://video.example.org/bridge"
    assert titles["Fractions notes"].body == "Halves and **quarters**"
    assert titles["Bridge photo"].media_kind.value == "image" and titles["Bridge photo"].description == "It held 2.4 kg"
    assert titles["Bridge photo"].occurred_on == date(2026, 10, 3)
    reflections = {r.title: r for r in session.exec(select(Reflection).where(Reflection.owner_id == other.id)).all()}
    assert {t: r.status for t, r in reflections.items()} == {
        "What I learned about bridges": ReflectionStatus.published, "Draft thoughts": ReflectionStatus.draft}
    linked = session.exec(select(ReflectionArtefact.artefact_id)
                          .where(ReflectionArtefact.reflection_id == reflections["What I learned about bridges"].id)).all()
    assert linked == [titles["Bridge photo"].id]
    goal = session.exec(select(Goal).where(Goal.owner_id == other.id)).one()
    assert goal.title == "Run 5 km" and goal.target_date == date(2027, 3, 1)
    assert (goal.why, goal.success_criteria) == ("To get fitter", "Under 30 minutes")
    steps = session.exec(select(GoalStep).where(GoalStep.goal_id == goal.id).order_by(GoalStep.position)).all()
    assert [(s.text, s.done) for s in steps] == [("Run 1 km", True), ("Run 3 km", False), ("Run 5 km", False)]
    tags = set(session.exec(select(Tag.name).where(Tag.owner_id == other.id)).all())
    assert tags == {"maths", "fractions", "science"}


def test_html_to_markdown_keeps_safe_links_only():
    text = html_to_markdown('<p>See <a href="javascript:alert(1)">this</a> and <a href="https://a.example/x">that</a></p>'
                            "<style>p{}</style><h2>Next</h2><p>a &amp; b</p>")
    assert text == "See this and [that](https://a.example/x)\n\n## Next\n\na & b"


def test_xhtml_content_and_a_plain_entry_become_a_note_with_its_date(session, settings):
    student = make_user(session, make_school(session))
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:leap2="http://terms.leapspecs.org/"
      xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <entry>
    <title>Field trip notes</title><id>urn:x:1</id><published>2025-05-04T10:00:00Z</published>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>We saw <em>herons</em>.</p><p>Then lunch.</p></div></content>
    <rdf:type rdf:resource="http://terms.leapspecs.org/entry"/>
    <leap2:date leap2:point="start">2025-05-01</leap2:date>
    <category term="Birds" scheme="http://example.org/tags"/>
    <category term="Offline" scheme="categories:resource_type#"/>
  </entry>
</feed>"""
    summary = import_leap2a(session=session, settings=settings, student=student, xml_bytes=xml, files={})
    assert (summary.artefacts, summary.skipped) == (1, 0)
    note = session.exec(select(Artefact).where(Artefact.owner_id == student.id)).one()
    assert (note.kind, note.body, note.occurred_on) == (ArtefactKind.note, "We saw *herons*.\n\nThen lunch.", date(2025, 5, 1))
    assert session.exec(select(Tag.name).where(Tag.owner_id == student.id)).all() == ["Birds"]  # with its case (issue 12)


def test_an_oversized_feed_is_refused(session, settings, monkeypatch):
    from app.services.exports import leap2a_feed

    monkeypatch.setattr(leap2a_feed, "MAX_FEED_BYTES", 100)
    student = make_user(session, make_school(session))
    with pytest.raises(Leap2AError, match="over"):
        import_leap2a(session=session, settings=settings, student=student, xml_bytes=SAMPLE.read_bytes(), files={})


def _caption_feed(session, settings, tmp_path):
    """A Folio feed of a photo with a spoken caption, with the files an archive holds (path → extracted file)."""
    from app.services.exports.leap2a import default_file_path
    from tests.test_archive_roundtrip import captioned_photo

    student = make_user(session, make_school(session))
    photo, caption = captioned_photo(session, settings, tmp_path, student)
    files = {}
    for artefact in (photo, caption):
        path = tmp_path / f"extracted-{artefact.id}"
        path.write_bytes(stored_bytes(settings, artefact.stored_name))
        files[default_file_path(artefact)] = path
    return export_feed(session=session, settings=settings, student=student), files, photo, caption


def test_a_spoken_caption_is_an_attachment_of_its_photo_and_imports_back(client, session, settings, tmp_path):
    from app.access import attached_recordings_among
    from tests.factories import login

    xml, files, photo, caption = _caption_feed(session, settings, tmp_path)
    entries = _entries_by_id(ET.fromstring(xml))
    photo_entry, caption_entry = entries[f"portfolio:artefact{photo.id}"], entries[f"portfolio:artefact{caption.id}"]
    assert (f"{{{ATOM}}}link", f"portfolio:artefact{caption.id}") in [
        (link.tag, link.get("href")) for link in photo_entry.findall(f"{{{ATOM}}}link[@rel='leap2:has_attachment']")]
    assert caption_entry.find(f"{{{ATOM}}}link[@rel='leap2:is_attachment_of']").get("href") == f"portfolio:artefact{photo.id}"

    other = make_user(session, make_school(session))
    summary = import_leap2a(session=session, settings=settings, student=other, xml_bytes=xml, files=files)
    session.commit()
    assert summary.artefacts == 2 and not summary.messages
    new_photo = session.exec(select(Artefact).where(Artefact.owner_id == other.id, Artefact.title == "Bridge")).one()
    new_caption = session.get(Artefact, new_photo.audio_artefact_id)
    assert new_caption is not None and new_caption.owner_id == other.id and new_caption.media_kind.value == "audio"
    assert attached_recordings_among(session=session, ids=[new_caption.id]) == {new_caption.id}
    login(client, other)
    assert f'src="/files/{new_caption.id}/original"' in client.get(f"/artefacts/{new_photo.id}").text


def test_an_attachment_not_marked_as_a_folio_caption_stays_a_file_of_its_own(session, settings, tmp_path):
    xml, files, photo, caption = _caption_feed(session, settings, tmp_path)
    foreign = xml.replace(b'scheme="portfolio:role#"', b'scheme="categories:other#"')
    assert foreign != xml

    other = make_user(session, make_school(session))
    summary = import_leap2a(session=session, settings=settings, student=other, xml_bytes=foreign, files=files)
    session.commit()
    assert summary.artefacts == 2
    found = session.exec(select(Artefact).where(Artefact.owner_id == other.id)).all()
    assert len(found) == 2 and all(a.audio_artefact_id is None for a in found)
