"""Frameworks from files and to files, through HTTP: CASE packages and Mahara .matrix files imported with a preview,
imported again to update in place (never losing a rating or a tag), and exported as CASE JSON.

The CASE packages are real ones from OpenSALT; the .matrix files follow Mahara's shapes (tests/data/frameworks/SOURCES.md).
"""

from __future__ import annotations

import copy
import html
import json
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import (
    Artefact,
    ArtefactCompetency,
    ArtefactKind,
    Competency,
    CompetencyRating,
    Framework,
    ProficiencyLevel,
    RatingSource,
    Role,
)
from app.services.competencies.bc_competencies import seed_bc_framework
from tests.factories import login, make_school, make_user

DATA = Path(__file__).parent / "data" / "frameworks"
CCSS = "opensalt-what-standards-could-be-ccss-demo.json"


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _admin(client, session, school=None):
    school = school or make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    return school, admin


def _preview(client, content: bytes, filename: str = "framework.json"):
    return client.post("/admin/frameworks/import",
                       files={"framework_file": (filename, content, "application/json")})


def _confirm_form(preview) -> dict:
    """The confirm form's fields as the preview page carries them."""
    text = re.search(r'<textarea name="file_text"[^>]*>(.*?)</textarea>', preview.text, re.S).group(1)
    digest = re.search(r'name="plan_digest" value="([0-9a-f]+)"', preview.text).group(1)
    return {"file_text": html.unescape(text), "plan_digest": digest}


def _import(client, content: bytes, filename: str = "framework.json") -> int:
    """Preview, then confirm; the id of the framework the import made or updated."""
    preview = _preview(client, content, filename)
    assert preview.status_code == 200, preview.text[:2000]
    done = client.post("/admin/frameworks/import/confirm", data=_confirm_form(preview))
    assert done.status_code == 303, done.text[:2000]
    return int(re.search(r"/admin/frameworks/(\d+)$", done.headers["location"]).group(1))


def _tree(session, framework_id: int, *, live_only: bool = False) -> list[tuple[str, str | None]]:
    """(code, parent code) depth-first, siblings by position: the order the framework page shows."""
    session.expire_all()
    rows = list(session.exec(select(Competency).where(Competency.framework_id == framework_id)).all())
    by_id = {c.id: c for c in rows}
    children: dict[int | None, list[Competency]] = {}
    for competency in rows:
        if not (live_only and competency.archived):
            children.setdefault(competency.parent_id, []).append(competency)
    found: list[tuple[str, str | None]] = []

    def walk(parent_id):
        for competency in sorted(children.get(parent_id, []), key=lambda c: (c.position, c.code)):
            found.append((competency.code, by_id[parent_id].code if parent_id else None))
            walk(competency.id)

    walk(None)
    return found


def _competency(session, framework_id: int, code: str) -> Competency:
    return session.exec(select(Competency).where(Competency.framework_id == framework_id, Competency.code == code)).one()


def _frameworks(session, school) -> list[Framework]:
    session.expire_all()
    return list(session.exec(select(Framework).where(Framework.school_id == school.id)).all())


# --- CASE import -------------------------------------------------------------------------------


def test_case_package_previews_then_imports_nested_codes_in_order(client, session):
    school, _admin_user = _admin(client, session)
    preview = _preview(client, _file(CCSS))
    assert preview.status_code == 200
    assert "What Standards Could Be" in preview.text and "16 competencies to add" in preview.text
    assert "CCSS.Math.Content.6.RP.A.3a" in preview.text
    assert _frameworks(session, school) == []  # a preview changes nothing

    framework_id = _import(client, _file(CCSS))
    framework = session.get(Framework, framework_id)
    assert framework.name == "What Standards Could Be"
    assert framework.case_identifier == "20c5134f-423d-4097-a971-3dd5152bf507"
    tree = _tree(session, framework_id)
    assert len(tree) == 16
    # The CFDocument's two children come in sequenceNumber order; their children naturally (3a..3d under 3).
    assert [code for code, parent in tree if parent is None] == ["CCSS.Math.Content.6.RP.A", "CCSS.Math.Content.7.RP.A"]
    assert [code for code, parent in tree if parent == "CCSS.Math.Content.6.RP.A.3"] == [
        "CCSS.Math.Content.6.RP.A.3a", "CCSS.Math.Content.6.RP.A.3b", "CCSS.Math.Content.6.RP.A.3c",
        "CCSS.Math.Content.6.RP.A.3d"]
    item = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.1")
    assert item.case_identifier == "b6f61076-aa12-450b-8f9d-b86bc071f85e"
    assert item.name.startswith("Understand the concept of a ratio")
    # 203 characters: the name is its beginning, the whole statement is the description.
    long_item = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.3a")
    assert len(long_item.name) == 200 and long_item.name.endswith("…")
    assert long_item.description.startswith("Make tables of equivalent ratios") and len(long_item.description) > 200
    # No scale in a CASE package: the usual four levels, to change later.
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)).all()
    assert len(levels) == 4
    page = client.get(f"/admin/frameworks/{framework_id}")
    assert page.status_code == 200 and "CCSS.Math.Content.7.RP.A.2d" in page.text


def test_sequence_numbers_order_siblings_against_the_files_order(client, session):
    _admin(client, session)
    framework_id = _import(client, _file("opensalt-test-SequenceNumberFramework.json"))
    assert _tree(session, framework_id) == [("SNT.2", None), ("SNT.1", None)]


def test_children_without_sequence_numbers_are_in_natural_code_order(client, session):
    _admin(client, session)
    framework_id = _import(client, _file("opensalt-test-Ordering.json"))
    tree = _tree(session, framework_id)
    assert tree[:4] == [("H.A.MATH.GM", None), ("H.A.MATH.GM.PF", "H.A.MATH.GM"),
                        ("H.A.MATH.GM.PF.2DFP", "H.A.MATH.GM.PF"), ("H.A.MATH.GM.PF.2DFP.L1", "H.A.MATH.GM.PF.2DFP")]
    leaves = [code for code, parent in tree if parent == "H.A.MATH.GM.PF.2DFP.L1"]
    assert leaves == [f"H.A.MATH.GM.PF.2DFP.L1.{n}" for n in range(1, 25)]
    assert _competency(session, framework_id, "H.A.MATH.GM.PF").name == "Plane Figures"  # abbreviatedStatement


def test_items_without_codes_get_their_place_in_the_tree_as_code(client, session):
    _admin(client, session)
    framework_id = _import(client, _file("opensalt-test-SmartLevelFramework.json"))
    expected = [("1", None)] + [(f"1.{n}", "1") for n in range(1, 11)] + [("2", None), ("2.1", "2"), ("2.2", "2")]
    assert _tree(session, framework_id) == expected
    # The file's own statements say where each item belongs: the generated codes agree.
    for code, _parent in expected:
        assert _competency(session, framework_id, code).name == f"Item {code}"


def test_markdown_and_characters_beyond_the_basic_plane_survive(client, session):
    school, _admin_user = _admin(client, session)
    framework_id = _import(client, _file("opensalt-test-MarkdownFramework.json"))
    table = _competency(session, framework_id, "MD.Table")
    assert table.name == "This contains a _table_ in markdown:"
    assert "| Column 1 | Column 2 |\n| --- | --- |\n| data 1 | data 2|" in table.description
    assert "\r" not in table.description and "$x = {-b \\pm \\sqrt{b^2-4ac} \\over 2a}$" in table.description
    assert _competency(session, framework_id, "MD.Math").description == ""  # one line: the name says it all

    other = make_school(session)  # the UTF-8 sample reuses the Markdown sample's CFDocument identifier
    _admin(client, session, other)
    utf8_id = _import(client, _file("opensalt-test-Utf8TestFramework.json"))
    framework = session.get(Framework, utf8_id)
    assert framework.name == "UTF8 \U0001d451 Test"
    assert _competency(session, utf8_id, "1").name == "Item \U0001d451 1"
    page = client.get(f"/admin/frameworks/{utf8_id}")
    assert "Item \U0001d451 1" in page.text


def _node(identifier: str) -> str:
    return f"https://case.example.org/ims/case/v1p0/CFItems/{identifier}"


def test_a_messy_package_uri_strings_odd_codes_two_parents_and_a_loop(client, session):
    """Associations naming nodes by URI string only, codes with spaces or shared, sequence numbers as text, an item
    under two parents and two items inside each other: all imported, each oddity said in the preview."""
    ids = {name: f"00000000-0000-4000-8000-00000000000{n}" for n, name in enumerate("DABCEFG")}
    document_uri = "https://case.example.org/ims/case/v1p0/CFDocuments/" + ids["D"]

    def item(name, code, statement):
        return {"identifier": ids[name], "uri": _node(ids[name]), "humanCodingScheme": code, "fullStatement": statement}

    def child(origin, destination, sequence=None):
        association = {"identifier": str(uuid.uuid4()), "associationType": "isChildOf", "originNodeURI": _node(ids[origin]),
                       "destinationNodeURI": document_uri if destination == "D" else _node(ids[destination])}
        if sequence is not None:
            association["sequenceNumber"] = sequence
        return association

    package = {
        "CFDocument": {"identifier": ids["D"], "uri": document_uri, "title": "Messy", "creator": "Tests",
                       "CFPackageURI": document_uri},
        "CFItems": [item("A", "SCI 1", "Science one"), item("B", "SCI.2", "Science two"), item("C", "SCI.2", "Also two"),
                    item("E", "E", "Loop one"), item("F", "F", "Loop two"), item("G", "G", "Under two parents")],
        "CFAssociations": [child("A", "D", "2"), child("B", "D", "1"), child("C", "B"), child("E", "F"), child("F", "E"),
                           child("G", "A"), child("G", "B"),
                           {"identifier": str(uuid.uuid4()), "associationType": "exactMatchOf",
                            "originNodeURI": _node(ids["A"]), "destinationNodeURI": "https://elsewhere.example/x"}],
    }
    _admin(client, session)
    preview = _preview(client, json.dumps(package).encode())
    assert preview.status_code == 200
    assert "The code “SCI 1” is shortened to “SCI1”" in preview.text
    assert "Two items share the code SCI.2; the second is called SCI.2-2." in preview.text
    assert "sat inside itself" in preview.text
    framework_id = _import(client, json.dumps(package).encode())
    tree = _tree(session, framework_id)
    assert tree[:4] == [("SCI.2", None), ("SCI.2-2", "SCI.2"), ("SCI1", None), ("G", "SCI1")]
    assert sorted(tree[4:]) == [("E", None), ("F", "E")] or sorted(tree[4:]) == [("E", "F"), ("F", None)]


# --- bad files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b'{"CFDocument": {"identifier": "x", "title": "T"},', "isn&#39;t valid JSON (line 1, column"),
    (b"\xff\xfe{}", "isn&#39;t UTF-8 text"),
    (b"", "That file is empty."),
    (b'{"name": "Not a framework"}', "neither a CASE package"),
    (b'{"CFItems": [], "CFPackage": []}', "has no CFDocument"),
    (b'{"CFDocument": {"title": "No id"}, "CFItems": []}', "The CFDocument has no identifier"),
    (b'{"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": [{"identifier": "i"}]}', "has no fullStatement"),
    (b'{"CFDocument": {"identifier": "d", "title": "T"}, "CFItems": {}}', "must be lists"),
    (b'{"framework": {"name": "M"}}', "has no standards"),
    (b'{"framework": {"name": "M", "standards": [{"standardid": 1, "name": "S"}], '
     b'"standardelements": [{"standardid": 9, "name": "E"}]}}', "belongs to standard 9"),
    (b" " * (1024 * 1024 + 1), "the limit for a framework file is 1,024 KB"),
])
def test_a_file_that_cant_be_used_is_explained_beside_the_field(client, session, content, message):
    school, _admin_user = _admin(client, session)
    response = _preview(client, content)
    assert response.status_code == 422
    error = re.search(r'<p class="field__error" id="framework_file-error"[^>]*>(.*?)</p>', response.text, re.S)
    assert error and message in error.group(1), response.text[:3000]
    assert _frameworks(session, school) == []


def test_no_file_chosen_is_explained(client, session):
    _admin(client, session)
    response = client.post("/admin/frameworks/import", files={"framework_file": ("", b"", "application/octet-stream")})
    assert response.status_code == 422 and "Choose a CASE package" in response.text


def test_a_tampered_confirmation_changes_nothing(client, session):
    school, _admin_user = _admin(client, session)
    response = client.post("/admin/frameworks/import/confirm", data={"file_text": "{oops", "plan_digest": "0" * 32})
    assert response.status_code == 422 and "isn&#39;t valid JSON" in response.text
    assert _frameworks(session, school) == []


# --- importing again ---------------------------------------------------------------------------


def test_importing_the_same_package_again_changes_nothing(client, session):
    school, _admin_user = _admin(client, session)
    framework_id = _import(client, _file(CCSS))
    before = {(c.id, c.code, c.name, c.parent_id, c.position) for c in
              session.exec(select(Competency).where(Competency.framework_id == framework_id))}
    preview = _preview(client, _file(CCSS))
    assert "is already up to date" in preview.text and "16 unchanged" in preview.text
    assert "Update “What Standards Could Be”" not in preview.text  # nothing to confirm
    done = client.post("/admin/frameworks/import/confirm", data=_confirm_form(preview))
    assert done.status_code == 303
    session.expire_all()
    after = {(c.id, c.code, c.name, c.parent_id, c.position) for c in
             session.exec(select(Competency).where(Competency.framework_id == framework_id))}
    assert after == before and len(_frameworks(session, school)) == 1


def _rate(session, student, competency):
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == competency.framework_id)).first()
    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                 rated_by_id=student.id, source=RatingSource.self, reason="Because"))
    session.commit()


def _tag(session, student, competency) -> Artefact:
    artefact = Artefact(owner_id=student.id, kind=ArtefactKind.note, title="Ratio tables", body="…",
                        occurred_on=date(2026, 3, 1))
    session.add(artefact)
    session.flush()
    session.add(ArtefactCompetency(artefact_id=artefact.id, competency_id=competency.id))
    session.commit()
    return artefact


def _edited_ccss() -> bytes:
    """A newer version of the CCSS sample: one item renamed and recoded, two removed, one added, one moved."""
    package = json.loads(_file(CCSS))
    items = {item["humanCodingScheme"]: item for item in package["CFItems"]}
    items["CCSS.Math.Content.6.RP.A.2"]["fullStatement"] = "Understand unit rates (renamed)."
    items["CCSS.Math.Content.6.RP.A.2"]["humanCodingScheme"] = "CCSS.Math.Content.6.RP.A.2x"
    removed = {items["CCSS.Math.Content.6.RP.A.3a"]["identifier"], items["CCSS.Math.Content.7.RP.A.1"]["identifier"]}
    package["CFItems"] = [item for item in package["CFItems"] if item["identifier"] not in removed]
    new_item = copy.deepcopy(items["CCSS.Math.Content.7.RP.A.3"])
    new_item.update(identifier="0b0b0b0b-1111-4222-8333-444455556666", humanCodingScheme="CCSS.Math.Content.7.RP.A.4",
                    fullStatement="A new standard, added in this version.")
    package["CFItems"].append(new_item)
    seven = items["CCSS.Math.Content.7.RP.A"]["identifier"]
    package["CFAssociations"].append({
        "identifier": "0c0c0c0c-1111-4222-8333-444455556666", "associationType": "isChildOf",
        "originNodeURI": {"title": "new", "identifier": new_item["identifier"], "uri": "x"},
        "destinationNodeURI": {"title": "7.RP.A", "identifier": seven, "uri": "y"}})
    # 6.RP.A.3d moves from 6.RP.A.3 to 6.RP.A.
    three_d = items["CCSS.Math.Content.6.RP.A.3d"]["identifier"]
    for association in package["CFAssociations"]:
        if association["associationType"] == "isChildOf" and association["originNodeURI"]["identifier"] == three_d:
            association["destinationNodeURI"]["identifier"] = items["CCSS.Math.Content.6.RP.A"]["identifier"]
    return json.dumps(package).encode()


def test_importing_a_newer_version_updates_in_place_and_keeps_every_rating_and_tag(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework_id = _import(client, _file(CCSS))
    renamed = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.2")
    rated_and_removed = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.3a")
    unused_id = _competency(session, framework_id, "CCSS.Math.Content.7.RP.A.1").id
    _rate(session, student, rated_and_removed)
    artefact = _tag(session, student, renamed)

    preview = _preview(client, _edited_ccss())
    assert preview.status_code == 200
    assert "1 competency to add" in preview.text and "CCSS.Math.Content.7.RP.A.4" in preview.text
    assert "1 to archive" in preview.text and "1 rating" in preview.text
    assert "1 to delete" in preview.text
    assert re.search(r"CCSS\.Math\.Content\.6\.RP\.A\.2x</strong> Understand unit rates \(renamed\)\. "
                     r"<span class=\"muted\">\(code, name\)", preview.text)
    assert re.search(r"CCSS\.Math\.Content\.6\.RP\.A\.3d</strong>.*?\(place in the tree\)", preview.text)
    session.expire_all()
    assert _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.2").id == renamed.id  # not yet

    done = client.post("/admin/frameworks/import/confirm", data=_confirm_form(preview))
    assert done.status_code == 303
    assert int(done.headers["location"].rsplit("/", 1)[1]) == framework_id
    session.expire_all()
    # Renamed in place: same row, so the tagged evidence still points at it.
    updated = session.get(Competency, renamed.id)
    assert (updated.code, updated.name) == ("CCSS.Math.Content.6.RP.A.2x", "Understand unit rates (renamed).")
    assert session.get(ArtefactCompetency, (artefact.id, renamed.id)) is not None
    # Gone from the file but rated: kept, archived, rating intact. Gone and unused: deleted.
    kept = session.get(Competency, rated_and_removed.id)
    assert kept is not None and kept.archived
    assert session.exec(select(CompetencyRating).where(CompetencyRating.competency_id == kept.id)).one()
    assert session.exec(select(Competency.id).where(Competency.id == unused_id)).first() is None
    tree = dict(_tree(session, framework_id, live_only=True))
    assert tree["CCSS.Math.Content.7.RP.A.4"] == "CCSS.Math.Content.7.RP.A"
    assert tree["CCSS.Math.Content.6.RP.A.3d"] == "CCSS.Math.Content.6.RP.A"
    assert len(tree) == 15 and len(_frameworks(session, school)) == 1

    # And the same newer version once more: nothing to do (the archived one stays archived, not listed again).
    again = _preview(client, _edited_ccss())
    assert "is already up to date" in again.text


def test_codes_can_swap_and_a_retired_code_can_be_reused(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework_id = _import(client, _file(CCSS))
    one = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.1")
    two = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.2")
    three_b = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.3b")
    _rate(session, student, three_b)
    package = json.loads(_file(CCSS))
    items = {item["humanCodingScheme"]: item for item in package["CFItems"]}
    items["CCSS.Math.Content.6.RP.A.1"]["humanCodingScheme"] = "CCSS.Math.Content.6.RP.A.2"
    items["CCSS.Math.Content.6.RP.A.2"]["humanCodingScheme"] = "CCSS.Math.Content.6.RP.A.1"
    # 3b leaves the framework and another item takes its code.
    package["CFItems"].remove(items["CCSS.Math.Content.6.RP.A.3b"])
    items["CCSS.Math.Content.6.RP.A.3c"]["humanCodingScheme"] = "CCSS.Math.Content.6.RP.A.3b"
    _import(client, json.dumps(package).encode())
    session.expire_all()
    assert session.get(Competency, one.id).code == "CCSS.Math.Content.6.RP.A.2"
    assert session.get(Competency, two.id).code == "CCSS.Math.Content.6.RP.A.1"
    retired = session.get(Competency, three_b.id)
    assert retired.archived and retired.code == "CCSS.Math.Content.6.RP.A.3b-old"
    assert _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.3b").id != three_b.id


def test_an_unchanged_import_writes_nothing_and_an_admins_archive_stays(client, session, count_queries):
    _admin(client, session)
    framework_id = _import(client, _file(CCSS))
    archived = _competency(session, framework_id, "CCSS.Math.Content.7.RP.A.3")
    client.post(f"/admin/frameworks/{framework_id}/competencies/{archived.id}/archive", data={"archived": "true"})
    preview = _preview(client, _file(CCSS))
    assert "CCSS.Math.Content.7.RP.A.3 is in the file but archived here; it stays archived" in preview.text
    with count_queries() as counter:
        assert client.post("/admin/frameworks/import/confirm", data=_confirm_form(preview)).status_code == 303
    writes = [s for s in counter.statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert [s for s in writes if "competencies" in s or "frameworks" in s] == []
    session.expire_all()
    assert session.get(Competency, archived.id).archived


def test_a_removed_branch_nobody_used_is_deleted_whole(client, session):
    school, _admin_user = _admin(client, session)
    framework_id = _import(client, _file(CCSS))
    package = json.loads(_file(CCSS))
    branch = {i["identifier"] for i in package["CFItems"] if i["humanCodingScheme"].startswith("CCSS.Math.Content.7.")}
    package["CFItems"] = [i for i in package["CFItems"] if i["identifier"] not in branch]
    preview = _preview(client, json.dumps(package).encode())
    assert "8 to delete" in preview.text and "0 to archive" in preview.text
    _import(client, json.dumps(package).encode())
    assert [code for code, _parent in _tree(session, framework_id)] == [
        code for code, _parent in _tree(session, framework_id) if code.startswith("CCSS.Math.Content.6.")]
    assert len(_tree(session, framework_id)) == 8


def test_confirming_a_stale_preview_shows_the_new_plan_instead(client, session):
    school, _admin_user = _admin(client, session)
    first = _preview(client, _file(CCSS))
    _import(client, _file(CCSS))  # meanwhile, in another tab
    stale = client.post("/admin/frameworks/import/confirm", data=_confirm_form(first))
    assert stale.status_code == 409 and "changed since this preview" in stale.text
    assert "is already up to date" in stale.text
    assert len(_frameworks(session, school)) == 1


def test_a_new_framework_with_a_taken_name_gets_another(client, session):
    school, _admin_user = _admin(client, session)
    seed_bc_framework(session=session, school=school)
    session.commit()
    package = json.loads(_file("opensalt-test-SequenceNumberFramework.json"))
    package["CFDocument"]["title"] = "bc core competencies"  # the BC seed's name, differently cased
    preview = _preview(client, json.dumps(package).encode())
    assert "will be called “bc core competencies (2)”" in preview.text
    framework_id = _import(client, json.dumps(package).encode())
    assert session.get(Framework, framework_id).name == "bc core competencies (2)"


# --- Mahara .matrix ----------------------------------------------------------------------------


def test_mahara_matrix_brings_standards_elements_and_its_statuses_as_the_scale(client, session):
    _admin(client, session)
    preview = _preview(client, _file("teaching-standards.matrix"), "teaching-standards.matrix")
    assert preview.status_code == 200
    assert "Not yet meeting the standard" in preview.text
    assert "Ready for assessment" in preview.text and "isn&#39;t a level" in preview.text
    assert "1.2.2 is in the file twice; the first is kept." in preview.text
    framework_id = _import(client, _file("teaching-standards.matrix"), "teaching-standards.matrix")
    framework = session.get(Framework, framework_id)
    assert framework.name == "Ngā Paerewa: Teaching Standards"
    assert framework.description.startswith("Standards for **beginning teachers**, with [guidance](https://example.org/standards).")
    assert _tree(session, framework_id) == [
        ("1", None), ("1.1", "1"), ("1.2", "1"), ("1.2.1", "1.2"), ("1.2.2", "1.2"), ("2", None), ("2.1", "2"), ("2.2", "2")]
    assert _competency(session, framework_id, "1.2.2").name == "Pronounce ākonga names correctly"
    assert _competency(session, framework_id, "2.1").description == "- Use evidence from many sources\n- Examine your own assumptions"
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)
                          .order_by(ProficiencyLevel.position)).all()
    assert [level.label for level in levels] == ["Not yet meeting the standard", "Partly meeting the standard",
                                                 "Meeting the standard"]


def test_matrix_codes_come_from_what_is_usable_as_a_code(client, session):
    _admin(client, session)
    career = _import(client, _file("career-readiness.matrix"), "career-readiness.matrix")
    # Short names with spaces can't be codes; the elements' "1".."4" repeat the standards', so their ids are used.
    assert _tree(session, career) == [("1", None), ("1.0", "1"), ("2.0", "1"), ("3.0", "1"), ("2", None), ("4.0", "2")]
    old = _import(client, _file("old-style.matrix"), "old-style.matrix")
    assert _tree(session, old) == [("1", None), ("1.1", "1"), ("1.2", "1"), ("1.2.1", "1.2"), ("2", None)]
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == old)
                          .order_by(ProficiencyLevel.position)).all()
    assert [level.label for level in levels] == ["Doesn't meet the standard", "Partially meets the standard",
                                                 "Meets the standard"]


def test_importing_a_matrix_again_renames_levels_in_place_and_keeps_ratings(client, session):
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework_id = _import(client, _file("career-readiness.matrix"))
    teamwork = _competency(session, framework_id, "3.0")
    _rate(session, student, teamwork)
    level_ids = [level.id for level in session.exec(select(ProficiencyLevel).where(
        ProficiencyLevel.framework_id == framework_id).order_by(ProficiencyLevel.position))]
    assert "is already up to date" in _preview(client, _file("career-readiness.matrix")).text

    matrix = json.loads(_file("career-readiness.matrix"))
    matrix["framework"]["evidencestatuses"][1] = {"incomplete": "Not there yet"}
    matrix["framework"]["standardelements"] = [e for e in matrix["framework"]["standardelements"] if e["elementid"] != "3.0"]
    preview = _preview(client, json.dumps(matrix).encode())
    assert "The level “Doesn&#39;t meet the competency” will be called “Not there yet”." in preview.text
    assert "1 to archive" in preview.text
    client.post("/admin/frameworks/import/confirm", data=_confirm_form(preview))
    session.expire_all()
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework_id)
                          .order_by(ProficiencyLevel.position)).all()
    assert [level.id for level in levels] == level_ids and levels[0].label == "Not there yet"
    assert session.get(Competency, teamwork.id).archived
    assert session.exec(select(CompetencyRating).where(CompetencyRating.competency_id == teamwork.id)).one()


# --- export ------------------------------------------------------------------------------------


def test_export_is_a_case_package_that_imports_back_unchanged(client, session, new_client):
    school, _admin_user = _admin(client, session)
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    response = client.get(f"/admin/frameworks/{framework.id}/case.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert 'attachment; filename="bc-core-competencies.case.json"' == response.headers["content-disposition"]
    package = response.json()
    document = package["CFDocument"]
    assert document["identifier"] == framework.case_identifier and document["title"] == framework.name
    assert document["uri"] == f"urn:uuid:{framework.case_identifier}" and document["creator"] == school.name
    assert len(package["CFItems"]) == 10
    for item in package["CFItems"]:
        assert uuid.UUID(item["identifier"]) and item["uri"] == f"urn:uuid:{item['identifier']}"
        assert item["humanCodingScheme"] and item["fullStatement"]
    # What CASE 1.0 requires of each object in a package, and LinkGenURIs where it wants them.
    assert {"identifier", "uri", "creator", "title", "lastChangeDateTime", "CFPackageURI"} <= set(document)
    link = {"title", "identifier", "uri"}
    assert set(document["CFPackageURI"]) == link
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", document["lastChangeDateTime"])
    for item in package["CFItems"]:
        assert {"identifier", "uri", "fullStatement", "lastChangeDateTime"} <= set(item)
    for association in package["CFAssociations"]:
        assert {"identifier", "uri", "associationType", "originNodeURI", "destinationNodeURI", "lastChangeDateTime"} \
            <= set(association)
        assert set(association["originNodeURI"]) == link == set(association["destinationNodeURI"])
        assert uuid.UUID(association["identifier"])
    assert set(package["CFDefinitions"]) == {"CFConcepts", "CFSubjects", "CFLicenses", "CFItemTypes",
                                             "CFAssociationGroupings"}
    children = [a for a in package["CFAssociations"] if a["associationType"] == "isChildOf"]
    assert len(children) == 10
    top = sorted((a for a in children if a["destinationNodeURI"]["identifier"] == framework.case_identifier),
                 key=lambda a: a["sequenceNumber"])
    assert [a["originNodeURI"]["title"] for a in top] == ["COM", "THK", "PS"]
    # Stable identifiers and order from one export to the next (lastChangeDateTime is the export's time: leave it).
    def without_times(associations):
        return [{k: v for k, v in a.items() if k != "lastChangeDateTime"} for a in associations]
    again = client.get(f"/admin/frameworks/{framework.id}/case.json").json()["CFAssociations"]
    assert without_times(again) == without_times(package["CFAssociations"])

    # Back into the same school: the same framework, nothing to change.
    assert "is already up to date" in _preview(client, response.content).text
    # Into another school: the same tree, names and descriptions.
    other_client = new_client()
    other = make_school(session)
    _admin(other_client, session, other)
    copy_id = _import(other_client, response.content)
    assert _tree(session, copy_id) == _tree(session, framework.id)
    original, copied = _competency(session, framework.id, "COM.1"), _competency(session, copy_id, "COM.1")
    assert (copied.name, copied.description) == (original.name, original.description)


def test_an_imported_package_exports_with_its_own_identifiers(client, session):
    _admin(client, session)
    framework_id = _import(client, _file("opensalt-test-Ordering.json"))
    package = client.get(f"/admin/frameworks/{framework_id}/case.json").json()
    source = json.loads(_file("opensalt-test-Ordering.json"))
    assert package["CFDocument"]["identifier"] == source["CFDocument"]["identifier"]
    assert {i["identifier"] for i in package["CFItems"]} == {i["identifier"] for i in source["CFItems"]}
    by_code = {i["humanCodingScheme"]: i for i in package["CFItems"]}
    assert by_code["H.A.MATH.GM"]["abbreviatedStatement"] == "Geometry and Measurement"
    assert by_code["H.A.MATH.GM"]["fullStatement"].startswith("Properties and measurements")
    assert "is already up to date" in _preview(client, json.dumps(package).encode()).text


# --- who may ------------------------------------------------------------------------------------


def test_only_the_schools_admins_import_and_export(client, session, new_client):
    school, _admin_user = _admin(client, session)
    framework = seed_bc_framework(session=session, school=school)
    session.commit()
    for role in (Role.student, Role.teacher, Role.guardian):
        other = new_client()
        login(other, make_user(session, school, role))
        assert other.get("/admin/frameworks/import").status_code == 403
        assert _preview(other, _file(CCSS)).status_code == 403
        assert other.get(f"/admin/frameworks/{framework.id}/case.json").status_code == 403
    foreign = new_client()
    _admin(foreign, session, make_school(session))
    assert foreign.get(f"/admin/frameworks/{framework.id}/case.json").status_code == 404
    # Another school importing the same package gets its own framework; this school's is untouched.
    exported = client.get(f"/admin/frameworks/{framework.id}/case.json").content
    _import(foreign, exported)
    assert len(_frameworks(session, school)) == 1


# --- what longer codes mean elsewhere ----------------------------------------------------------


def test_a_portfolio_tagged_with_a_long_imported_code_exports_and_imports(client, session, settings, tmp_path):
    """Published codes run past the old 20 characters: the portable archive's schema must take them both ways."""
    import zipfile

    from app.services.exports import archive_export, archive_import
    from tests.factories import make_note

    school, _admin_user = _admin(client, session)
    framework_id = _import(client, _file(CCSS))
    student = make_user(session, school)
    long_code = _competency(session, framework_id, "CCSS.Math.Content.6.RP.A.3a")
    make_note(session, student, title="Ratio tables", competency_ids={long_code.id})
    _rate(session, student, long_code)
    archive_path = tmp_path / "portfolio.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=archive_path)
    with zipfile.ZipFile(archive_path) as archive:
        document = json.loads(archive.read("portfolio.json"))
    assert "CCSS.Math.Content.6.RP.A.3a" in {c["code"] for f in document["frameworks"] for c in f["competencies"]}
    target = make_user(session, school)
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=archive_path)
    assert summary.kind == "folio"
    session.expire_all()
    tagged = session.exec(select(ArtefactCompetency).where(ArtefactCompetency.competency_id == long_code.id)).all()
    assert len(tagged) == 2  # the original note and its imported copy, both on the same competency


def test_children_of_a_deleted_competency_move_instead_of_going_with_it(client, session):
    """The file drops 6.RP.A.3 but keeps its children (now under 6.RP.A): 3 is deleted (nobody used it), and its
    children, one of them rated, are moved first, never deleted with it."""
    school, _admin_user = _admin(client, session)
    student = make_user(session, school)
    framework_id = _import(client, _file(CCSS))
    children = {code: _competency(session, framework_id, f"CCSS.Math.Content.6.RP.A.3{code}").id for code in "abcd"}
    _rate(session, student, session.get(Competency, children["a"]))
    package = json.loads(_file(CCSS))
    items = {item["humanCodingScheme"]: item for item in package["CFItems"]}
    three, six = items["CCSS.Math.Content.6.RP.A.3"]["identifier"], items["CCSS.Math.Content.6.RP.A"]["identifier"]
    package["CFItems"].remove(items["CCSS.Math.Content.6.RP.A.3"])
    for association in package["CFAssociations"]:
        if association["destinationNodeURI"]["identifier"] == three:
            association["destinationNodeURI"]["identifier"] = six
    preview = _preview(client, json.dumps(package).encode())
    assert "1 to delete" in preview.text and "4 to update" in preview.text
    _import(client, json.dumps(package).encode())
    session.expire_all()
    for code, competency_id in children.items():
        moved = session.get(Competency, competency_id)
        assert moved is not None and moved.code == f"CCSS.Math.Content.6.RP.A.3{code}"
        assert session.get(Competency, moved.parent_id).code == "CCSS.Math.Content.6.RP.A"
    assert session.exec(select(CompetencyRating).where(CompetencyRating.competency_id == children["a"])).one()
    assert "CCSS.Math.Content.6.RP.A.3" not in dict(_tree(session, framework_id))


def test_a_deleted_competencys_code_can_go_to_another(client, session):
    _admin(client, session)
    framework_id = _import(client, _file(CCSS))
    two = _competency(session, framework_id, "CCSS.Math.Content.7.RP.A.2")
    package = json.loads(_file(CCSS))
    items = {item["humanCodingScheme"]: item for item in package["CFItems"]}
    package["CFItems"].remove(items["CCSS.Math.Content.7.RP.A.1"])
    items["CCSS.Math.Content.7.RP.A.2"]["humanCodingScheme"] = "CCSS.Math.Content.7.RP.A.1"
    _import(client, json.dumps(package).encode())
    session.expire_all()
    assert session.get(Competency, two.id).code == "CCSS.Math.Content.7.RP.A.1"
