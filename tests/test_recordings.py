"""Spoken recordings are part of their reflection or comment, everywhere.

A spoken reflection's recording, and a teacher's spoken feedback, are stored as audio artefacts of the student's; but
they are heard, and listed, only as part of the reflection or comment they belong to: never as items of their own in
other people's timelines, competency pickers, family pages, digests, approval inboxes, showcases or PDFs (whoever may
read the reflection, or see the comment, may hear it). The owner's evidence grid lists them, marked with what they
belong to.

Recordings saved before this was so carry a copy of their reflection's (or item's) audience; `_as_saved_before` makes
one, so every list is checked against those too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from app import storage
from app.models import (
    Artefact, Audience, Comment, Item, ItemApproval, Reflection, Role, SchoolClass, ShowcaseItem, ShowcaseItemType,
    User,
)
from app.services.moderation import approvals
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_school, make_user, post_multipart,
)
from tests.test_filetypes import wav_bytes

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server


@dataclass
class People:
    maya: User
    classmate: User
    teacher: User
    guardian: User
    school_class: SchoolClass
    competency_id: int


def _people(session, *, family_approval: bool = False) -> People:
    school = make_school(session)
    maya, classmate = make_user(session, school, display_name="Maya"), make_user(session, school)
    teacher = make_user(session, school, Role.teacher, display_name="Ms Rivera")
    guardian = make_user(session, school, Role.guardian)
    school_class = make_class(session, school, teachers=[teacher], students=[maya, classmate])
    school_class.family_items_need_approval = family_approval
    session.add(school_class)
    session.commit()
    link_guardian(session, guardian, maya)
    framework = make_framework(session, school, classes=[school_class])
    competency_id = next(c.id for c in framework.competencies if c.code == "COM.1")
    return People(maya, classmate, teacher, guardian, school_class, competency_id)


def _browser(new_client, user: User):
    browser = new_client()
    login(browser, user)
    return browser


def _speak(client, session, *, title: str, audience: str, action: str = "publish", **fields) -> Reflection:
    """A spoken reflection, recorded through the reflection form."""
    response = post_multipart(client, "/reflections", {"title": title, "body": "", "audience": audience,
                                                       "action": action, **fields},
                              files={"audio": ("voice.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303, response.text
    session.expire_all()
    return session.exec(select(Reflection).where(Reflection.title == title)).one()


def _as_saved_before(session, artefact_id: int, audience: Audience) -> None:
    """Give a recording the audience that versions before recordings followed their reflection copied onto it."""
    session.exec(sa.update(Artefact).where(Artefact.id == artefact_id).values(audience=audience))
    session.exec(sa.update(Item).where(Item.id == artefact_id).values(audience=audience))
    session.commit()


def _edit(client, session, reflection: Reflection, **fields) -> None:
    session.expire_all()
    current = session.get(Reflection, reflection.id)
    values = {"title": current.title, "body": current.body, "audience": current.audience.value, "action": "publish",
              "version": current.version} | fields
    assert post_multipart(client, f"/reflections/{reflection.id}/edit", values).status_code == 303


# --- the teacher's pages ------------------------------------------------------------------------


def test_a_drafts_recording_is_not_on_the_teachers_pages_of_the_student(client, session, new_client):
    people = _people(session)
    login(client, people.maya)
    draft = _speak(client, session, title="Still thinking", audience="class", action="draft")
    spoken = _speak(client, session, title="My speech", audience="private")
    teacher = _browser(new_client, people.teacher)

    student_page = teacher.get(f"/students/{people.maya.id}")
    assert student_page.status_code == 200
    assert "Still thinking" not in student_page.text  # the draft, and its recording, are the owner's alone
    # The published reflection is there, its recording only with it (never an item of its own).
    assert f"/reflections/{spoken.id}" in student_page.text
    assert f"/artefacts/{spoken.audio_artefact_id}" not in student_page.text
    assert "Recording: My speech" not in student_page.text

    competency_page = teacher.get(f"/students/{people.maya.id}/competencies/{people.competency_id}")
    assert competency_page.status_code == 200
    assert "Still thinking" not in competency_page.text
    assert "Recording: My speech" not in competency_page.text  # not evidence of its own to pick
    # Nor may its id be sent as evidence.
    level_id = session.exec(sa.text("SELECT id FROM proficiency_levels ORDER BY position")).first()[0]
    response = teacher.post(f"/students/{people.maya.id}/competencies/{people.competency_id}/ratings", data={
        "level_id": str(level_id), "comment": "Good", "artefact_ids": [str(draft.audio_artefact_id),
                                                                      str(spoken.audio_artefact_id)]})
    assert response.status_code == 303
    assert session.exec(sa.text("SELECT count(*) FROM rating_artefacts")).one()[0] == 0


# --- families -------------------------------------------------------------------------------------


def test_families_never_see_a_recording_as_an_item_of_its_own(client, session, new_client, settings):
    from app.services.family import digests

    people = _people(session)
    login(client, people.maya)
    draft = _speak(client, session, title="Secret plans", audience="family", action="draft")
    trip = _speak(client, session, title="Our trip", audience="family")
    for reflection in (draft, trip):
        _as_saved_before(session, reflection.audio_artefact_id, Audience.family)
    guardian = _browser(new_client, people.guardian)

    pages = {path: guardian.get(path) for path in
             ("/family", f"/family/children/{people.maya.id}", "/family/digest")}
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert "Secret plans" not in page.text, path
        assert "Recording: Our trip" not in page.text, path
        assert f"/artefacts/{trip.audio_artefact_id}" not in page.text, path
    assert f"/reflections/{trip.id}" in pages[f"/family/children/{people.maya.id}"].text  # the reflection itself is
    assert guardian.get(f"/files/{trip.audio_artefact_id}/original").status_code == 200  # and heard with it
    assert guardian.get(f"/files/{draft.audio_artefact_id}/original").status_code == 404

    # The emailed digest says what the preview says.
    session.expire_all()
    preview = digests.preview_digest(session=session, settings=settings, guardian=session.get(User, people.guardian.id))
    rendered = preview  # rendered by the same code as the email (app.services.family.digests.render_parts)
    assert "Our trip" in rendered.text
    for part in (rendered.text, rendered.html):
        assert "Secret plans" not in part and "Recording: Our trip" not in part


# --- approvals ------------------------------------------------------------------------------------


def test_a_recording_waits_for_no_approval_of_its_own(client, session, new_client):
    people = _people(session, family_approval=True)
    login(client, people.maya)
    draft = _speak(client, session, title="Secret plans", audience="family", action="draft")
    recording_id = draft.audio_artefact_id
    teacher = _browser(new_client, people.teacher)

    # The owner's edit of the recording can't share it on its own: it follows its reflection.
    response = client.post(f"/artefacts/{recording_id}/edit", data={
        "title": "Recording: Secret plans", "audience": "family", "occurred_on": "2026-12-01"})
    assert response.status_code == 303, response.text
    session.expire_all()
    assert session.get(Artefact, recording_id).audience is Audience.private
    assert session.exec(select(ItemApproval).where(ItemApproval.item_id == recording_id)).first() is None
    assert "Secret plans" not in teacher.get("/inbox").text
    assert "Secret plans" not in teacher.get("/notifications").text

    # One that waits from before (when a recording copied its reflection's audience) is not in the inbox either;
    # the reflection's own approval, once published, is what lets families hear it.
    _as_saved_before(session, recording_id, Audience.family)
    approvals.request_if_needed(session=session, owner_id=people.maya.id, item_id=recording_id,
                                audience=Audience.family, title="Recording: Secret plans")
    session.commit()
    assert "Secret plans" not in teacher.get("/inbox").text
    _edit(client, session, draft)
    inbox = teacher.get("/inbox").text
    assert "Secret plans" in inbox and "Recording: Secret plans" not in inbox
    guardian = _browser(new_client, people.guardian)
    assert guardian.get(f"/files/{recording_id}/original").status_code == 404
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == draft.id)).one()
    assert teacher.post(f"/approvals/{approval.id}/approve").status_code == 303
    assert guardian.get(f"/files/{recording_id}/original").status_code == 200


# --- spoken feedback ------------------------------------------------------------------------------


def test_spoken_feedback_is_heard_with_its_comment_and_listed_with_nothing(client, session, new_client):
    people = _people(session)
    poem = make_note(session, people.maya, title="Poem", audience=Audience.family)
    lab = make_note(session, people.maya, title="Lab notes", audience=Audience.class_)
    teacher = _browser(new_client, people.teacher)
    recordings = {}
    for note in (poem, lab):
        url = f"/feedback/comments?item_type=artefact&item_id={note.id}"
        response = post_multipart(teacher, url, {"body": ""}, files={"audio": ("fb.wav", wav_bytes(), "audio/wav")})
        assert response.status_code == 303, response.text
        session.expire_all()
        recordings[note.title] = session.exec(select(Comment.audio_artefact_id).where(Comment.item_id == note.id)).one()
    # Saved private: who hears it is decided by its comment, every time.
    assert {session.get(Artefact, i).audience for i in recordings.values()} == {Audience.private}

    guardian, classmate = _browser(new_client, people.guardian), _browser(new_client, people.classmate)
    assert guardian.get(f"/files/{recordings['Poem']}/original").status_code == 200
    assert classmate.get(f"/files/{recordings['Lab notes']}/original").status_code == 200
    assert guardian.get(f"/files/{recordings['Lab notes']}/original").status_code == 404
    assert classmate.get(f"/files/{recordings['Poem']}/original").status_code == 404
    for path in ("/family", f"/family/children/{people.maya.id}", "/family/digest"):
        page = guardian.get(path).text
        assert "Poem" in page or path == "/family/digest"
        assert "Feedback from" not in page and f"/artefacts/{recordings['Poem']}" not in page, path

    # Made private later, the item takes its spoken feedback along, whatever audience an old recording copied.
    _as_saved_before(session, recordings["Lab notes"], Audience.class_)
    login(client, people.maya)
    response = client.post(f"/artefacts/{lab.id}/edit", data={"title": "Lab notes", "body": "Some words",
                                                               "audience": "private", "occurred_on": "2026-12-01"})
    assert response.status_code == 303, response.text
    assert classmate.get(f"/files/{recordings['Lab notes']}/original").status_code == 404
    assert classmate.get(f"/artefacts/{recordings['Lab notes']}").status_code == 404


# --- classmates -----------------------------------------------------------------------------------


def test_a_classmate_sees_no_old_recording_once_its_reflection_is_private(client, session, new_client):
    people = _people(session)
    login(client, people.maya)
    speech = _speak(client, session, title="My speech", audience="class")
    recording_id = speech.audio_artefact_id
    _as_saved_before(session, recording_id, Audience.class_)
    # Places a classmate sees lists of Maya's things in: another reflection's evidence, a goal's check-ins, a
    # showcase (the recording put there on its own, as the showcase picker used to allow).
    practice = post_multipart(client, "/reflections", {"title": "Practice notes", "body": "Three rehearsals",
                                                       "audience": "class", "action": "publish",
                                                       "artefact_ids": [str(recording_id)]})
    assert practice.status_code == 303
    goal = client.post("/goals/new", data={"title": "Speak up", "audience": "class", "steps": ["Rehearse"]})
    goal_path = goal.headers["location"]
    assert client.post(f"{goal_path}/checkins", data={"note": "Recorded it",
                                                      "artefact_ids": [str(recording_id)]}).status_code == 303
    showcase = client.post("/showcases/new", data={"title": "Term one", "audience": "class", "introduction": ""})
    showcase_id = int(showcase.headers["location"].split("/")[2])
    session.add(ShowcaseItem.to(showcase_id=showcase_id, item_type=ShowcaseItemType.artefact, target_id=recording_id,
                                position=1))
    session.commit()
    expires_on = (date.today() + timedelta(days=7)).isoformat()
    link = client.post(f"/showcases/{showcase_id}/links", data={"expires_on": expires_on})
    assert link.status_code == 200, link.text
    token = link.text.split('value="http://testserver/s/')[1].split('"')[0]

    _edit(client, session, speech, audience="private")
    classmate = _browser(new_client, people.classmate)
    practice_path = practice.headers["location"]
    for path in (practice_path, goal_path, f"/showcases/{showcase_id}"):
        page = classmate.get(path)
        assert page.status_code == 200, path
        assert "My speech" not in page.text and f"/files/{recording_id}/" not in page.text, path
    assert "Three rehearsals" in classmate.get(practice_path).text
    visitor = new_client()
    shared = visitor.get(f"/s/{token}")
    assert shared.status_code == 200 and "My speech" not in shared.text
    assert visitor.get(f"/s/{token}/files/{recording_id}/original").status_code == 404
    assert classmate.get(f"/files/{recording_id}/original").status_code == 404


# --- the owner --------------------------------------------------------------------------------------


def test_the_owner_finds_recordings_with_what_they_belong_to(client, session, new_client):
    people = _people(session)
    login(client, people.maya)
    speech = _speak(client, session, title="My speech", audience="class")
    recording_id = speech.audio_artefact_id
    note = make_note(session, people.maya, title="Poem", audience=Audience.class_)
    teacher = _browser(new_client, people.teacher)
    post_multipart(teacher, f"/feedback/comments?item_type=artefact&item_id={note.id}", {"body": ""},
                   files={"audio": ("fb.wav", wav_bytes(), "audio/wav")})
    feedback_id = session.exec(select(Comment.audio_artefact_id).where(Comment.item_id == note.id)).one()

    # The evidence grid, where the student sees what takes their space: each marked with what it belongs to.
    grid = client.get("/artefacts").text
    assert f"/artefacts/{recording_id}" in grid and f'href="/reflections/{speech.id}"' in grid
    assert "Recording of “My speech”" in grid
    assert f"/artefacts/{feedback_id}" in grid and "Spoken feedback on “Poem”" in grid
    assert "Recording of “My speech”" in client.get(f"/artefacts/{recording_id}").text
    edit = client.get(f"/artefacts/{recording_id}/edit").text  # no audience of its own to choose
    assert "Whoever may see “My speech” hears this recording with it." in edit and 'name="audience"' not in edit
    # The timeline shows the reflection (and the note), not their recordings again.
    home = client.get("/student").text
    assert f"/reflections/{speech.id}" in home and f"/artefacts/{recording_id}" not in home
    assert f"/artefacts/{feedback_id}" not in home
    # Pickers offer work to link as evidence; a recording is part of something already.
    assert f'id="artefact-{note.id}"' in client.get("/reflections/new").text
    assert f'id="artefact-{recording_id}"' not in client.get("/reflections/new").text
    assert f'id="artefact-{recording_id}"' not in client.get(f"/competencies/{people.competency_id}").text
    showcase = client.post("/showcases/new", data={"title": "Term one", "audience": "class", "introduction": ""})
    showcase_id = int(showcase.headers["location"].split("/")[2])
    picker = client.get(f"/showcases/{showcase_id}/items/new").text
    assert f'id="artefact-{note.id}"' in picker and f'id="artefact-{recording_id}"' not in picker
    assert client.post(f"/showcases/{showcase_id}/items", data={"item_type": "artefact",
                                                                "item_id": str(recording_id)}).status_code == 404


def test_a_reflection_deleted_takes_its_recording_along(client, session, new_client, settings):
    people = _people(session)
    login(client, people.maya)
    draft = _speak(client, session, title="Secret plans", audience="class", action="draft")
    recording = session.get(Artefact, draft.audio_artefact_id)
    recording_id, stored, size = recording.id, recording.stored_name, recording.size_bytes
    used = session.get(User, people.maya.id).storage_used_bytes
    assert used >= size > 0
    assert "its recording" in client.get(f"/reflections/{draft.id}/delete").text
    assert client.post(f"/reflections/{draft.id}/delete").status_code == 303
    session.expire_all()
    # Not left behind as evidence of its own, where the draft's teacher would have seen its title.
    assert session.get(Artefact, recording_id) is None
    assert session.get(User, people.maya.id).storage_used_bytes == used - size
    assert not storage.uploads(settings).exists(stored)
    assert "Secret plans" not in _browser(new_client, people.teacher).get(f"/students/{people.maya.id}").text


def test_a_recording_replaced_goes(client, session, settings):
    people = _people(session)
    login(client, people.maya)
    draft = _speak(client, session, title="Secret plans", audience="class", action="draft")
    first = session.get(Artefact, draft.audio_artefact_id)
    first_id, first_file = first.id, first.stored_name
    response = post_multipart(client, f"/reflections/{draft.id}/edit", {
        "title": "Secret plans", "body": "", "audience": "class", "action": "draft", "version": draft.version},
        files={"audio": ("again.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303, response.text
    session.expire_all()
    now = session.get(Reflection, draft.id).audio_artefact_id
    assert now != first_id and session.get(Artefact, now) is not None
    assert session.get(Artefact, first_id) is None
    assert not storage.uploads(settings).exists(first_file)
    assert session.get(User, people.maya.id).storage_used_bytes == session.get(Artefact, now).size_bytes


# --- exports ------------------------------------------------------------------------------------------


def test_a_pdf_plays_no_recording_as_evidence_of_its_own(client, session, settings):
    from app.services.exports.pdf_content import gather_portfolio

    people = _people(session)
    login(client, people.maya)
    draft = _speak(client, session, title="Still thinking", audience="class", action="draft")
    spoken = _speak(client, session, title="My speech", audience="private")
    note = make_note(session, people.maya, title="Poem")
    session.expire_all()
    content = gather_portfolio(session=session, settings=settings, student=session.get(User, people.maya.id),
                               sections=["reflections", "evidence"])
    assert [a.id for a in content.artefacts] == [note.id]  # neither the draft's recording nor the other
    assert [r.id for r in content.reflections] == [spoken.id]
    assert draft.audio_artefact_id not in {a.id for a in content.artefacts}


def test_an_archive_from_before_brings_its_recordings_in_private(client, session, settings, tmp_path):
    from app.models import Notification
    from app.services.exports import archive_export, archive_import

    people = _people(session)
    login(client, people.maya)
    trip = _speak(client, session, title="Our trip", audience="family")
    _as_saved_before(session, trip.audio_artefact_id, Audience.family)
    archive = tmp_path / "maya.zip"
    archive_export.build_archive(session=session, settings=settings, student=session.get(User, people.maya.id),
                                 out_path=archive)
    newcomer = _people(session, family_approval=True)
    archive_import.import_archive(session=session, settings=settings, student=newcomer.maya, archive_path=archive)
    session.expire_all()
    imported = session.exec(select(Reflection).where(Reflection.owner_id == newcomer.maya.id)).one()
    assert session.get(Artefact, imported.audio_artefact_id).audience is Audience.private
    assert session.exec(select(ItemApproval).where(ItemApproval.item_id == imported.audio_artefact_id)).first() is None
    assert not [n for n in session.exec(select(Notification).where(Notification.user_id == newcomer.teacher.id)).all()
                if "Recording" in str(n.params)]
    assert session.exec(select(ItemApproval).where(ItemApproval.item_id == imported.id)).one()  # the reflection waits
