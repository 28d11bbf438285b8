"""The portable archive: portfolio.json, the ZIP's contents, the "archive" job, and export → import → export."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import zipfile
from datetime import date

import jsonschema
import pytest
from sqlmodel import select

from app import storage
from app.models import (
    ArtefactKind, Comment, CommentKind, CompetencyRating, Job, JobStatus, RatingArtefact, RatingSource,
    Role, ShowcaseItem, ShowcaseItemType, Item,
)
from app.services.exports import archive_export
from app.services.exports import archive_import
from app.services.jobs import job_runs, jobs
from app.services.exports import portfolio_json
from app.services.exports import portfolio_json_document
from app.services.portfolio import stored_files
from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts, create_text_artefact
from app.services.portfolio.goal_forms import GoalData
from app.services.portfolio.goals import achieve_goal, create_goal, record_checkin, steps_of
from app.services.showcases.showcases import ShowcaseInput, add_item, create_showcase, set_talking_points
from tests.factories import make_class, make_framework, make_reflection, make_school, make_user
from tests.media import jpeg_with_gps
from tests.stored import job_result

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _store(settings, tmp_path, owner, name: str, content: bytes):
    source = tmp_path / f"source-{name}"
    source.write_bytes(content)
    return stored_files.store_path(path=source, store=storage.uploads(settings), owner_id=owner.id, original_name=name)


def rich_portfolio(session, settings, tmp_path):
    """A student with files, notes, links, tags, competencies, reflections, goals, ratings, feedback and a showcase."""
    school = make_school(session, "Riverside Elementary")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    student = make_user(session, school, display_name="Maya Chen")
    peer = make_user(session, school, display_name="Sam Peer")
    school_class = make_class(session, school, teachers=[teacher], students=[student, peer])
    framework = make_framework(session, school, classes=[school_class])
    comp = {c.code: c for c in framework.competencies}
    level = {lv.label: lv for lv in framework.levels}

    poster = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "poster.jpg", jpeg_with_gps())],
                                   data=ArtefactInput(title="Science fair poster", description="Our volcano", tags=["science fair", "art"],
                                                      competency_ids={comp["COM.1"].id}, occurred_on=date(2026, 10, 1)))[0]
    essay = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "essay.txt", "My essay ✍\n".encode())],
                                  data=ArtefactInput(title="Essay", competency_ids={comp["THK"].id}))[0]
    report = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "Lab report.pdf", PDF)],
                                   data=ArtefactInput(title="Lab report"))[0]
    note = create_text_artefact(session=session, owner=student, kind=ArtefactKind.note,
                                data=ArtefactInput(title="Field notes", body="**Saw** a heron", tags=["outdoors"],
                                                   competency_ids={comp["THK"].id, comp["COM"].id}))
    link = create_text_artefact(session=session, owner=student, kind=ArtefactKind.link,
                                data=ArtefactInput(title="Class blog", url="https://example.org/blog"))
    session.commit()

    goal = create_goal(session=session, owner=student, data=GoalData(
        title="Present with confidence", why="I get nervous", success_criteria="Speak for 2 minutes", target_date=date(2026, 12, 1),
        audience=student_audience("class"), competency_ids={comp["COM.1"].id, comp["THK"].id}, steps=["Practise", "Record", "Present"]))
    session.commit()
    first_step = steps_of(session=session, goal=goal)[0]
    record_checkin(session=session, goal=goal, occurred_on=date(2026, 11, 2), note="Practised twice",
                   artefact_ids={poster.id, note.id}, step_ids={first_step.id})
    done_goal = create_goal(session=session, owner=student, data=GoalData(
        title="Read five books", why="", success_criteria="", target_date=None, audience=student_audience("private"),
        competency_ids=set(), steps=["Book one"]))
    achieve_goal(session=session, goal=done_goal, closing_text="I read them all!")
    session.commit()

    reflection = make_reflection(session, student, title="What I learned", body="Volcanoes **erupt**",
                                 artefact_ids=[poster.id, essay.id], goal_ids=[goal.id], competency_ids=[comp["COM.1"].id, comp["THK"].id])
    make_reflection(session, student, title="Unfinished thoughts", body="", draft=True)

    session.add(CompetencyRating(student_id=student.id, competency_id=comp["COM.1"].id, level_id=level["Developing"].id,
                                 rated_by_id=student.id, source=RatingSource.self, reason="I explain my poster"))
    session.flush()
    own = session.exec(select(CompetencyRating).where(CompetencyRating.source == RatingSource.self)).first()
    session.add(RatingArtefact(rating_id=own.id, artefact_id=poster.id))
    session.add(CompetencyRating(student_id=student.id, competency_id=comp["THK"].id, level_id=level["Proficient"].id,
                                 rated_by_id=student.id, source=RatingSource.self, reason="I ask questions"))
    session.add(CompetencyRating(student_id=student.id, competency_id=comp["COM.1"].id, level_id=level["Proficient"].id,
                                 rated_by_id=teacher.id, source=RatingSource.teacher, reason="Clear and confident"))
    top = Comment(item_type="artefact", item_id=poster.id, owner_id=student.id, author_id=teacher.id, kind=CommentKind.teacher,
                  body="Lovely colours", next_step="Label the layers")
    session.add(top)
    session.flush()
    session.add(Comment(item_type="artefact", item_id=poster.id, owner_id=student.id, author_id=student.id,
                        kind=CommentKind.student, parent_id=top.id, body="Thank you, I will"))
    session.add(Comment(item_type="reflection", item_id=reflection.id, owner_id=student.id, author_id=peer.id,
                        kind=CommentKind.peer, noticed="You used evidence", wonder="Why volcanoes?", next_time="Add a picture"))
    session.add(Comment(item_type="artefact", item_id=poster.id, owner_id=student.id, author_id=peer.id,
                        kind=CommentKind.peer, body="hidden until approved", status="pending"))
    session.commit()

    showcase = create_showcase(session=session, owner=student, data=ShowcaseInput(title="My best work", introduction="Hello!", ready=True))
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.artefact, item_id=poster.id)
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.reflection, item_id=reflection.id)
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.competency, item_id=comp["COM.1"].id)
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.competency, item_id=comp["THK"].id)
    add_item(session=session, owner=student, showcase=showcase, item_type=ShowcaseItemType.goal, item_id=goal.id)
    entry = session.exec(select(ShowcaseItem).where(ShowcaseItem.showcase_id == showcase.id,
                                                    ShowcaseItem.item_type == ShowcaseItemType.artefact)).one()
    set_talking_points(session=session, showcase=showcase, entry=entry, text="Point at the lava")
    session.commit()
    return student, {"poster": poster, "essay": essay, "report": report, "link": link}


def student_audience(value: str):
    from app.models import Audience

    return Audience(value)


def other_school_student(session):
    """A student of another school whose framework has the same name and codes, except THK."""
    school = make_school(session, "Hillside Middle")
    student = make_user(session, school, display_name="Maya C.")
    school_class = make_class(session, school, students=[student])
    make_framework(session, school, classes=[school_class], competencies=(("COM", "Communication", None),
                                                                          ("COM.1", "Communicating", "COM"),
                                                                          ("CRT", "Creative", None)))
    return student


def export_zip(session, settings, student, path):
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("portfolio.json")), archive.namelist(), archive


def normalised(document: dict) -> dict:
    result = copy.deepcopy(document)
    for key in ("exported_at", "student", "school"):
        result.pop(key)
    for artefact in result["artefacts"]:
        if artefact["file"] and artefact["file"]["media_kind"] == "image":
            # Images are cleaned again when imported (metadata stripped, re-encoded): documented.
            artefact["file"]["size"] = artefact["file"]["sha256"] = None
    return result


def expected_after_import(document: dict, unknown: set[tuple[str, str]], names: dict) -> dict:
    """The documented differences: unknown competencies become tags (artefacts) or leave (elsewhere), teacher ratings,
    feedback and self ratings on unknown competencies move into the history note."""
    result = normalised(document)

    def known(refs):
        return [r for r in refs if (r["framework"], r["code"]) not in unknown]

    for artefact in result["artefacts"]:
        extra = [f"{r['code']} {names[r['code']]}".lower() for r in artefact["competencies"] if (r["framework"], r["code"]) in unknown]
        artefact["tags"] = sorted(set(artefact["tags"]) | set(extra))
        artefact["competencies"] = known(artefact["competencies"])
    for key in ("reflections", "goals"):
        for item in result[key]:
            item["competencies"] = known(item["competencies"])
    result["ratings"] = [r for r in result["ratings"] if r["source"] == "self" and known([r["competency"]])]
    result["feedback"] = []
    for showcase in result["showcases"]:
        showcase["items"] = [i for i in showcase["items"] if "competency" not in i or known([i["competency"]])]
    for framework in result["frameworks"]:
        framework["competencies"] = [c for c in framework["competencies"] if known([{"framework": framework["name"], "code": c["code"]}])]
    return result


def test_round_trip_into_another_school(session, settings, tmp_path):
    student, items = rich_portfolio(session, settings, tmp_path)
    first, names, _archive = export_zip(session, settings, student, tmp_path / "first.zip")

    # What the archive holds.
    for name in ("index.html", "README.txt", "portfolio.json", "leap2a.xml", "site/index.html"):
        assert name in names
    assert sorted(n for n in names if n.startswith("files/")) == sorted(a["file"]["path"] for a in first["artefacts"] if a["file"])
    jsonschema.Draft202012Validator(portfolio_json.load_schema()).validate(first)
    with zipfile.ZipFile(tmp_path / "first.zip") as archive:
        essay_path = next(a["file"]["path"] for a in first["artefacts"] if a["title"] == "Essay")
        assert archive.read(essay_path) == "My essay ✍\n".encode()
        assert b'href="site/index.html"' in archive.read("index.html")
    assert len(first["feedback"]) == 2, "pending comments stay out; the reply is nested"
    poster_feedback = next(f for f in first["feedback"] if f["body"] == "Lovely colours")
    assert poster_feedback["author"] == "Ms Rivera" and poster_feedback["replies"][0]["body"] == "Thank you, I will"
    assert {r["source"] for r in first["ratings"]} == {"self", "teacher"}
    assert [c["code"] for c in first["frameworks"][0]["competencies"]] == ["COM", "COM.1", "THK"]

    target = other_school_student(session)
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=tmp_path / "first.zip")
    assert summary.kind == "folio" and summary.history_note
    assert summary.reflections == len(first["reflections"]) and summary.goals == len(first["goals"])

    second, _names, _ = export_zip(session, settings, target, tmp_path / "second.zip")
    note = second["artefacts"].pop()  # the history note, created at the import (so it sorts last)
    assert note["kind"] == "note" and note["title"] == "Feedback and ratings from Riverside Elementary"
    for words in ("Lovely colours", "Label the layers", "Thank you, I will", "You used evidence", "Clear and confident",
                  "Ms Rivera", "THK Thinking", "I ask questions"):
        assert words in note["body"], words
    assert "hidden until approved" not in note["body"]

    unknown = {("Core Competencies", "THK")}
    assert normalised(second) == expected_after_import(first, unknown, {"THK": "Thinking", "COM.1": "Communicating", "COM": "Communication"})

    # Non-image files come back byte for byte.
    first_files = {a["ref"]: a["file"] for a in first["artefacts"] if a["file"]}
    second_files = {a["ref"]: a["file"] for a in second["artefacts"] if a["file"]}
    for ref, info in first_files.items():
        if info["media_kind"] != "image":
            assert second_files[ref]["sha256"] == info["sha256"]
    # Timeline entries exist for every imported item, dated as in the archive.
    entries = session.exec(select(Item).where(Item.owner_id == target.id)).all()
    assert len(entries) == len(second["artefacts"]) + 1 + len(second["reflections"]) + len(second["goals"])
    assert target.storage_used_bytes > 0


def test_round_trip_into_the_same_framework_is_exact(session, settings, tmp_path):
    """Into a school with the whole framework, only feedback and teacher ratings differ (they go to the note)."""
    student, _items = rich_portfolio(session, settings, tmp_path)
    first, _n, _a = export_zip(session, settings, student, tmp_path / "first.zip")
    school = make_school(session, "Twin School")
    target = make_user(session, school)
    make_framework(session, school)
    archive_import.import_archive(session=session, settings=settings, student=target, archive_path=tmp_path / "first.zip")
    second, _n, _a = export_zip(session, settings, target, tmp_path / "second.zip")
    second["artefacts"].pop()
    assert normalised(second) == expected_after_import(first, set(), {})
    # ...and a third generation is identical to the second, history note included.
    third_school = make_school(session, "Third School")
    third = make_user(session, third_school)
    make_framework(session, third_school)
    archive_import.import_archive(session=session, settings=settings, student=third, archive_path=tmp_path / "second.zip")
    again, _n, _a = export_zip(session, settings, target, tmp_path / "again.zip")
    third_doc, _n, _a = export_zip(session, settings, third, tmp_path / "third.zip")
    assert normalised(third_doc) == normalised(again)


def test_two_exports_are_identical_and_queries_are_constant(session, settings, tmp_path, count_queries):
    student, items = rich_portfolio(session, settings, tmp_path)
    one = portfolio_json_document.serialize_portfolio(session=session, settings=settings, student=student, store=storage.uploads(settings))
    two = portfolio_json_document.serialize_portfolio(session=session, settings=settings, student=student, store=storage.uploads(settings))
    one.pop("exported_at"), two.pop("exported_at")
    assert one == two
    assert [a["ref"] for a in one["artefacts"]] == [f"artefact-{n}" for n in range(1, len(one["artefacts"]) + 1)]

    with count_queries() as small:
        portfolio_json_document.serialize_portfolio(session=session, settings=settings, student=student)
    for number in range(6):
        create_text_artefact(session=session, owner=student, kind=ArtefactKind.note,
                             data=ArtefactInput(title=f"Extra {number}", body="x", tags=[f"t{number}"]))
        make_reflection(session, student, title=f"More {number}", artefact_ids=[items["poster"].id])
    session.commit()
    with count_queries() as large:
        portfolio_json_document.serialize_portfolio(session=session, settings=settings, student=student)
    assert large.count == small.count


def test_archive_job_makes_the_zip_for_its_owner_only(app, session, settings, tmp_path):
    student, _items = rich_portfolio(session, settings, tmp_path)
    job = jobs.enqueue(session=session, owner=student, kind="archive", params={"student_id": student.id})
    other = make_user(session, make_school(session))
    bad = jobs.enqueue(session=session, owner=other, kind="archive", params={"student_id": student.id})
    job_runs.run_pending(engine=app.state.engine, settings=settings)
    session.expire_all()
    job, bad = session.get(Job, job.id), session.get(Job, bad.id)
    assert job.status is JobStatus.done, job.error
    assert job.download_name == "Maya Chen – Folio archive.zip" and job.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(job_result(settings, job))) as archive:
        document = json.loads(archive.read("portfolio.json"))
    assert document["student"]["display_name"] == "Maya Chen"
    assert bad.status is JobStatus.failed and bad.result_name is None


def test_sha256_in_portfolio_json_matches_the_files(session, settings, tmp_path):
    student, _items = rich_portfolio(session, settings, tmp_path)
    document, _names, _ = export_zip(session, settings, student, tmp_path / "a.zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        for artefact in document["artefacts"]:
            if artefact["file"]:
                data = archive.read(artefact["file"]["path"])
                assert hashlib.sha256(data).hexdigest() == artefact["file"]["sha256"]
                assert len(data) == artefact["file"]["size"]
    # GPS and camera data never leave in the archive: the image is the cleaned stored copy.
    from PIL import Image

    poster = next(a for a in document["artefacts"] if a["title"] == "Science fair poster")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        image = Image.open(io.BytesIO(archive.read(poster["file"]["path"])))
        assert not image.getexif()


def test_a_file_missing_on_disk_is_exported_without_its_file_and_skipped_on_import(session, settings, tmp_path):
    student, items = rich_portfolio(session, settings, tmp_path)
    storage.uploads(settings).delete([items["essay"].stored_name])
    document, names, _ = export_zip(session, settings, student, tmp_path / "a.zip")
    essay = next(a for a in document["artefacts"] if a["title"] == "Essay")
    assert essay["file"]["path"] is None and essay["file"]["sha256"] is None
    assert not any("Essay" in name for name in names if name.startswith("files/"))
    target = make_user(session, make_school(session))
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=tmp_path / "a.zip")
    assert summary.skipped == 1 and any("Essay" in message for message in summary.messages)
    assert summary.artefacts == len(document["artefacts"])  # one skipped, plus the history note


# --- spoken captions ------------------------------------------------------------------------------------------


def captioned_photo(session, settings, tmp_path, student, *, title="Bridge", audience="class"):
    """A photo of `student` with a spoken caption saved as the upload form saves it (add_caption)."""
    from app.models import Audience
    from app.services.portfolio.artefacts import add_caption
    from tests.media import png
    from tests.test_filetypes import wav_bytes

    photo = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "bridge.png", png())],
                                  data=ArtefactInput(title=title, audience=Audience(audience)),
                                  quota_bytes=settings.student_quota_bytes)[0]
    caption = add_caption(session=session, owner=student, artefact=photo, quota_bytes=settings.student_quota_bytes,
                          recording=_store(settings, tmp_path, student, "caption.wav", wav_bytes()))
    session.commit()
    return photo, caption


def _rewrite_portfolio_json(source, target, change) -> None:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            data = old.read(name)
            if name == "portfolio.json":
                document = json.loads(data)
                change(document)
                data = json.dumps(document).encode()
            new.writestr(name, data)


def test_a_spoken_caption_travels_with_its_photo_through_an_archive(client, client_from, session, settings, tmp_path):
    from app.access import attached_recordings_among
    from app.models import Artefact, Audience
    from tests.factories import login

    school = make_school(session, "Riverside Elementary")
    student = make_user(session, school)
    photo, caption = captioned_photo(session, settings, tmp_path, student)
    first, _names, _ = export_zip(session, settings, student, tmp_path / "first.zip")
    docs = {a["title"]: a for a in first["artefacts"]}
    caption_doc = docs[caption.title]
    assert docs["Bridge"]["audio_caption"] == caption_doc["ref"]
    assert caption_doc["audience"] == "private" and caption_doc["file"]["media_kind"] == "audio"
    assert caption_doc["audio_caption"] is None

    school_b = make_school(session, "Hillside Middle")
    target, classmate, stranger = make_user(session, school_b), make_user(session, school_b), make_user(session, school_b)
    make_class(session, school_b, students=[target, classmate])
    summary = archive_import.import_archive(session=session, settings=settings, student=target,
                                            archive_path=tmp_path / "first.zip")
    assert summary.artefacts == 2 and not summary.messages
    session.expire_all()
    new_photo = session.exec(select(Artefact).where(Artefact.owner_id == target.id, Artefact.title == "Bridge")).one()
    new_caption = session.get(Artefact, new_photo.audio_artefact_id)
    assert new_caption is not None and new_caption.owner_id == target.id and new_caption.media_kind.value == "audio"
    assert new_caption.audience is Audience.private and new_photo.audience is Audience.class_
    assert attached_recordings_among(session=session, ids=[new_caption.id]) == {new_caption.id}
    session.refresh(target)
    assert target.storage_used_bytes >= new_photo.size_bytes + new_caption.size_bytes

    # Heard with its photo, by whoever may see the photo; never listed on its own.
    login(client, target)
    assert f'src="/files/{new_caption.id}/original"' in client.get(f"/artefacts/{new_photo.id}").text
    assert f'value="{new_caption.id}"' not in client.get("/reflections/new").text
    friend = client_from("203.0.113.7")
    login(friend, classmate)
    assert friend.get(f"/files/{new_caption.id}/original").status_code == 200
    outsider = client_from("203.0.113.8")
    login(outsider, stranger)
    assert outsider.get(f"/files/{new_caption.id}/original").status_code == 404

    # Exported again, it is the same document.
    second, _names, _ = export_zip(session, settings, target, tmp_path / "second.zip")
    assert normalised(second) == normalised(first)


def test_an_archive_from_before_captions_still_imports(session, settings, tmp_path):
    student = make_user(session, make_school(session))
    captioned_photo(session, settings, tmp_path, student)
    export_zip(session, settings, student, tmp_path / "new.zip")

    def forget_captions(document):
        for artefact in document["artefacts"]:
            del artefact["audio_caption"]

    _rewrite_portfolio_json(tmp_path / "new.zip", tmp_path / "old.zip", forget_captions)
    target = make_user(session, make_school(session))
    summary = archive_import.import_archive(session=session, settings=settings, student=target,
                                            archive_path=tmp_path / "old.zip")
    assert summary.artefacts == 2  # nothing lost: the recording comes in as a file of its own


@pytest.mark.parametrize("bad", ["itself", "a note"])
def test_a_caption_that_is_not_a_recording_is_refused(session, settings, tmp_path, bad):
    student = make_user(session, make_school(session))
    captioned_photo(session, settings, tmp_path, student)
    create_text_artefact(session=session, owner=student, kind=ArtefactKind.note, data=ArtefactInput(title="Note", body="x"))
    session.commit()
    export_zip(session, settings, student, tmp_path / "good.zip")

    def point_elsewhere(document):
        photo = next(a for a in document["artefacts"] if a["title"] == "Bridge")
        note = next(a for a in document["artefacts"] if a["kind"] == "note")
        photo["audio_caption"] = photo["ref"] if bad == "itself" else note["ref"]

    _rewrite_portfolio_json(tmp_path / "good.zip", tmp_path / "bad.zip", point_elsewhere)
    target = make_user(session, make_school(session))
    with pytest.raises(archive_import.ImportRefused, match="spoken caption"):
        archive_import.import_archive(session=session, settings=settings, student=target, archive_path=tmp_path / "bad.zip")
    session.refresh(target)
    assert target.storage_used_bytes == 0


def test_a_caption_that_turns_out_not_to_be_sound_stays_a_private_file(session, settings, tmp_path):
    from app.models import Artefact, Audience

    student = make_user(session, make_school(session))
    captioned_photo(session, settings, tmp_path, student)
    create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "r.pdf", PDF)],
                          data=ArtefactInput(title="Report", audience=Audience.class_))
    session.commit()
    export_zip(session, settings, student, tmp_path / "good.zip")

    def caption_is_a_pdf(document):
        photo = next(a for a in document["artefacts"] if a["title"] == "Bridge")
        photo["audio_caption"] = next(a for a in document["artefacts"] if a["title"] == "Report")["ref"]

    _rewrite_portfolio_json(tmp_path / "good.zip", tmp_path / "odd.zip", caption_is_a_pdf)
    target = make_user(session, make_school(session))
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=tmp_path / "odd.zip")
    assert any("isn't a sound file" in message for message in summary.messages)
    session.expire_all()
    photo = session.exec(select(Artefact).where(Artefact.owner_id == target.id, Artefact.title == "Bridge")).one()
    report = session.exec(select(Artefact).where(Artefact.owner_id == target.id, Artefact.title == "Report")).one()
    assert photo.audio_artefact_id is None and report.audience is Audience.private
