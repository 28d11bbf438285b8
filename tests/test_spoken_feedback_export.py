"""A teacher's spoken feedback in the student's archive: the recording travels as the student's private audio
artefact, and portfolio.json, the offline site and an import all say whose words it is and on what."""

from __future__ import annotations

import json
import zipfile

import jsonschema
import pytest
from sqlmodel import select

from app.models import Artefact, Audience, ItemType, Role
from app.services.exports import archive_export, archive_import, portfolio_json
from app.services.moderation import comment_writing, thread_items
from tests.factories import make_class, make_school, make_user
from tests.test_archive_roundtrip import _store
from tests.media import png
from tests.test_filetypes import wav_bytes

pytestmark = pytest.mark.storage


def test_a_teachers_spoken_feedback_travels_attributed_through_an_archive(session, settings, tmp_path):
    from app.services.portfolio.artefacts import ArtefactInput, create_file_artefacts

    school = make_school(session, "Riverside Elementary")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    student = make_user(session, school, display_name="Maya Chen")
    make_class(session, school, teachers=[teacher], students=[student])
    photo = create_file_artefacts(session=session, owner=student, files=[_store(settings, tmp_path, student, "bridge.png", png())],
                                  data=ArtefactInput(title="Bridge", audience=Audience.class_))[0]
    session.commit()
    item = thread_items.item_visible_to(session=session, viewer=teacher, item_type=ItemType.artefact, item_id=photo.id)
    comment = comment_writing.add_comment(session=session, author=teacher, item=item, data=comment_writing.CommentInput(body=""),
                                   audio=_store(settings, tmp_path, student, "spoken.wav", wav_bytes()),
                                   quota_bytes=settings.student_quota_bytes)
    session.commit()
    recording = session.get(Artefact, comment.audio_artefact_id)

    path = tmp_path / "archive.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("portfolio.json"))
        thread_page = archive.read(f"site/evidence/artefact-{photo.id}.html").decode()
    jsonschema.Draft202012Validator(portfolio_json.load_schema()).validate(document)
    docs = {doc["title"]: doc for doc in document["artefacts"]}
    recording_doc = docs[recording.title]
    assert recording.title == "Feedback from Ms Rivera on “Bridge”"
    assert recording_doc["audience"] == "private" and recording_doc["file"]["media_kind"] == "audio"
    [spoken] = document["feedback"]
    assert spoken["author"] == "Ms Rivera" and spoken["author_role"] == "teacher"
    assert spoken["on"] == docs["Bridge"]["ref"] and spoken["audio"] == recording_doc["ref"]
    # The offline site plays it in the teacher's comment, not as evidence of the student's.
    assert "Ms Rivera" in thread_page and recording_doc["file"]["path"] in thread_page
    with zipfile.ZipFile(path) as archive:
        index = archive.read("site/index.html").decode()
    assert recording.title not in index

    other = make_school(session, "Hillside Middle")
    target = make_user(session, other, display_name="Maya C.")
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=path)
    assert summary.history_note
    session.expire_all()
    mine = {a.title: a for a in session.exec(select(Artefact).where(Artefact.owner_id == target.id)).all()}
    copy = mine["Feedback from Ms Rivera on “Bridge”"]
    assert copy.audience is Audience.private and copy.media_kind.value == "audio"
    note = mine["Feedback and ratings from Riverside Elementary"]
    assert "**Ms Rivera** (teacher)" in note.body
    assert "*Spoken feedback:* the recording is in your evidence, private, as “Feedback from Ms Rivera on “Bridge””." in note.body


def test_an_archive_from_before_spoken_feedback_was_named_still_imports(session, settings, tmp_path):
    school = make_school(session, "Riverside Elementary")
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    student = make_user(session, school)
    make_class(session, school, teachers=[teacher], students=[student])
    from tests.factories import make_note
    note = make_note(session, student, title="Notes", body="x")
    session.commit()
    item = thread_items.item_visible_to(session=session, viewer=teacher, item_type=ItemType.artefact, item_id=note.id)
    comment_writing.add_comment(session=session, author=teacher, item=item, data=comment_writing.CommentInput(body="Well done"))
    session.commit()
    path, old = tmp_path / "new.zip", tmp_path / "old.zip"
    archive_export.build_archive(session=session, settings=settings, student=student, out_path=path)
    with zipfile.ZipFile(path) as new, zipfile.ZipFile(old, "w") as older:
        for name in new.namelist():
            data = new.read(name)
            if name == "portfolio.json":
                document = json.loads(data)
                for doc in document["feedback"]:
                    assert doc.pop("audio") is None
                data = json.dumps(document).encode()
            older.writestr(name, data)
    target = make_user(session, make_school(session, "Hillside Middle"))
    summary = archive_import.import_archive(session=session, settings=settings, student=target, archive_path=old)
    assert summary.history_note
