"""Reflections: prompts, links, drafts, audience, and edits that never silently overwrite each other."""

from sqlmodel import select

from app.models import Audience, Reflection, ReflectionArtefact, ReflectionStatus, Role
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user, post_multipart,
)


def test_write_a_reflection_linked_to_evidence_and_a_competency(client, session):
    school = make_school(session)
    student = make_user(session, school)
    framework = make_framework(session, school, classes=[make_class(session, school, students=[student])])
    competency = framework.competencies[0]
    note = make_note(session, student, title="Bridge sketch")
    login(client, student)
    form = client.get(f"/reflections/new?artefact={note.id}")
    assert f'value="{note.id}" checked' in form.text
    assert "What did I learn?" in form.text  # the default prompts guide the writer
    response = post_multipart(client, "/reflections", {
        "title": "Building the bridge", "body": "I learned that **triangles** are strong.",
        "artefact_ids": [note.id], "competency_ids": [competency.id], "audience": "class", "action": "publish"})
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "<strong>triangles</strong>" in page and "Bridge sketch" in page and competency.code in page
    reflection = session.exec(select(Reflection)).one()
    assert reflection.status is ReflectionStatus.published and reflection.audience is Audience.class_


def test_guided_reflection_uses_the_class_prompts(client, session):
    school = make_school(session)
    student = make_user(session, school)
    school_class = make_class(session, school, students=[student])
    school_class.reflection_prompts = "What surprised you?\nWho helped you?"
    session.add(school_class)
    session.commit()
    login(client, student)
    form = client.get("/reflections/new?guided=1").text
    assert "What surprised you?" in form and "What did I learn?" not in form
    response = post_multipart(client, "/reflections", {
        "title": "Guided", "guided": "1", "prompt_0": "The worms!", "prompt_1": "", "action": "publish"})
    assert response.status_code == 303
    body = session.exec(select(Reflection.body)).one()
    assert "What surprised you?" in body and "The worms!" in body and "Who helped you?" not in body


def test_validation_keeps_the_text_and_saves_nothing(client, session):
    student = make_user(session, make_school(session))
    login(client, student)
    response = post_multipart(client, "/reflections", {"title": "", "body": "My careful words", "action": "publish"})
    assert response.status_code == 422
    assert "Give your reflection a title." in response.text and "My careful words" in response.text
    empty = post_multipart(client, "/reflections", {"title": "Empty", "body": "", "action": "publish"})
    assert "Write (or record) your reflection" in empty.text
    assert session.exec(select(Reflection)).first() is None
    draft = post_multipart(client, "/reflections", {"title": "Empty", "body": "", "action": "draft"})
    assert draft.status_code == 303


def test_two_tabs_never_silently_overwrite_each_other(client, session):
    student = make_user(session, make_school(session))
    reflection = make_reflection(session, student, title="Science", body="First version")
    login(client, student)
    tab_one = client.get(f"/reflections/{reflection.id}/edit").text
    assert 'name="version" value="1"' in tab_one
    first_save = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "Science", "body": "Saved from tab one", "version": "1", "action": "publish"})
    assert first_save.status_code == 303
    second_save = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "Science", "body": "Typed in tab two", "version": "1", "action": "publish"})
    assert second_save.status_code == 409
    assert "changed somewhere else" in second_save.text
    assert "Typed in tab two" in second_save.text  # the typed text is kept
    assert "Saved from tab one" in second_save.text  # and the saved version shown beside it
    session.expire_all()
    assert session.get(Reflection, reflection.id).body == "Saved from tab one"
    assert 'name="version" value="2"' in second_save.text
    deliberate = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "Science", "body": "Typed in tab two", "version": "2", "action": "publish"})
    assert deliberate.status_code == 303
    session.expire_all()
    assert session.get(Reflection, reflection.id).body == "Typed in tab two"


def test_cannot_link_someone_elses_evidence(client, session):
    school = make_school(session)
    student, other = make_user(session, school), make_user(session, school)
    theirs = make_note(session, other, title="Not mine")
    login(client, student)
    post_multipart(client, "/reflections", {"title": "Mine", "body": "x", "artefact_ids": [theirs.id], "action": "publish"})
    assert session.exec(select(ReflectionArtefact)).first() is None


def test_reflection_access_rules(client, session, new_client):
    school = make_school(session)
    student, classmate, stranger = (make_user(session, school) for _ in range(3))
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    guardian, other_guardian = make_user(session, school, Role.guardian), make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, teachers=[other_teacher], students=[stranger])
    link_guardian(session, guardian, student)
    private = make_reflection(session, student, title="Private thoughts")
    draft = make_reflection(session, student, title="Half done", draft=True, audience=Audience.class_)
    shared = make_reflection(session, student, title="For my class", audience=Audience.class_)
    family = make_reflection(session, student, title="For home", audience=Audience.family)

    def status(user, reflection) -> int:
        browser = new_client()
        login(browser, user)
        return browser.get(f"/reflections/{reflection.id}").status_code

    assert status(teacher, private) == 200  # their own teacher
    for outsider in (classmate, stranger, other_teacher, guardian, other_guardian):
        assert status(outsider, private) == 404
    assert status(classmate, shared) == 200 and status(stranger, shared) == 404
    assert status(guardian, family) == 200 and status(other_guardian, family) == 404 and status(guardian, shared) == 404
    assert status(teacher, draft) == 404 and status(classmate, draft) == 404  # drafts are the owner's alone
    login(client, classmate)
    edit = post_multipart(client, f"/reflections/{shared.id}/edit", {"title": "Hacked", "body": "x", "version": "1"})
    assert edit.status_code == 404
    assert client.post(f"/reflections/{shared.id}/delete").status_code == 404
    session.expire_all()
    assert session.get(Reflection, shared.id).title == "For my class"


def test_a_shared_reflection_never_reveals_the_titles_of_private_evidence(client, session, new_client):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    make_class(session, school, students=[student, classmate])
    secret = make_note(session, student, title="Diary entry about my worries")
    shared = make_note(session, student, title="Poster draft", audience=Audience.class_)
    reflection = make_reflection(session, student, title="How the week went", audience=Audience.class_,
                                 artefact_ids=[secret.id, shared.id])
    login(client, classmate)
    page = client.get(f"/reflections/{reflection.id}").text
    assert "Poster draft" in page
    assert "Diary entry about my worries" not in page
    owner = new_client()
    login(owner, student)
    assert "Diary entry about my worries" in owner.get(f"/reflections/{reflection.id}").text


def test_a_spoken_reflections_recording_always_follows_the_reflections_audience(client, session, new_client):
    from app.models import Artefact
    from tests.test_filetypes import wav_bytes

    school = make_school(session)
    student, classmate, other_student = (make_user(session, school) for _ in range(3))
    teacher, guardian = make_user(session, school, Role.teacher), make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, students=[other_student])
    link_guardian(session, guardian, student)
    login(client, student)
    created = post_multipart(client, "/reflections", {"title": "My speech", "body": "", "audience": "class"},
                             files={"audio": ("speech.wav", wav_bytes(), "audio/wav")})
    assert created.status_code == 303, created.text
    reflection = session.exec(select(Reflection)).one()
    recording_id = reflection.audio_artefact_id
    assert session.get(Artefact, recording_id) is not None
    viewers = {"classmate": classmate, "other class": other_student, "guardian": guardian, "teacher": teacher}
    browsers = {name: new_client() for name in viewers}
    for name, browser in browsers.items():
        login(browser, viewers[name])

    def seen() -> dict[str, tuple[int, int, int]]:
        """For each viewer: (the reflection's page, the recording's file, the recording's own page)."""
        return {name: (browser.get(f"/reflections/{reflection.id}").status_code,
                       browser.get(f"/files/{recording_id}/original").status_code,
                       browser.get(f"/artefacts/{recording_id}").status_code) for name, browser in browsers.items()}

    def change(audience: str, action: str = "publish") -> None:
        session.expire_all()
        version = session.get(Reflection, reflection.id).version
        edit = post_multipart(client, f"/reflections/{reflection.id}/edit",
                              {"title": "My speech", "body": "", "audience": audience, "version": version, "action": action})
        assert edit.status_code == 303, edit.text

    ok, hidden = (200, 200, 200), (404, 404, 404)
    assert seen() == {"classmate": ok, "other class": hidden, "guardian": hidden, "teacher": ok}
    assert f"/files/{recording_id}/original" in browsers["classmate"].get(f"/reflections/{reflection.id}").text
    change("private")
    assert seen() == {"classmate": hidden, "other class": hidden, "guardian": hidden, "teacher": ok}
    change("family")
    assert seen() == {"classmate": hidden, "other class": hidden, "guardian": ok, "teacher": ok}
    change("class", action="draft")
    assert seen() == {"classmate": hidden, "other class": hidden, "guardian": hidden, "teacher": hidden}
    change("class")
    assert seen() == {"classmate": ok, "other class": hidden, "guardian": hidden, "teacher": ok}
    assert client.get(f"/files/{recording_id}/original").status_code == 200  # the owner always


def test_a_recording_made_private_first_follows_its_reflection_when_shared_later(client, session, new_client):
    from tests.test_filetypes import wav_bytes

    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    make_class(session, school, students=[student, classmate])
    login(client, student)
    post_multipart(client, "/reflections", {"title": "Quiet", "body": "", "audience": "private"},
                   files={"audio": ("speech.wav", wav_bytes(), "audio/wav")})
    reflection = session.exec(select(Reflection)).one()
    peer = new_client()
    login(peer, classmate)
    assert peer.get(f"/files/{reflection.audio_artefact_id}/original").status_code == 404
    edit = post_multipart(client, f"/reflections/{reflection.id}/edit",
                          {"title": "Quiet", "body": "", "audience": "class", "version": reflection.version})
    assert edit.status_code == 303
    assert peer.get(f"/reflections/{reflection.id}").status_code == 200
    assert peer.get(f"/files/{reflection.audio_artefact_id}/original").status_code == 200

def test_a_draft_reflections_recording_is_heard_by_its_owner_alone(client, session, new_client):
    """The recording of a spoken draft is part of the draft: its class and teacher hear it once it is published."""
    from tests.test_filetypes import wav_bytes

    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    teacher = make_user(session, school, Role.teacher)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    login(client, student)
    response = post_multipart(client, "/reflections", {"title": "Still thinking", "body": "", "audience": "class",
                                                        "action": "draft"},
                              files={"audio": ("voice.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 303
    reflection = session.exec(select(Reflection)).one()
    urls = [f"/artefacts/{reflection.audio_artefact_id}", f"/files/{reflection.audio_artefact_id}/original"]

    def statuses(user) -> list[int]:
        browser = new_client()
        login(browser, user)
        return [browser.get(url).status_code for url in urls]

    assert [client.get(url).status_code for url in urls] == [200, 200]
    assert statuses(teacher) == [404, 404] and statuses(classmate) == [404, 404]
    published = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "Still thinking", "body": "", "audience": "class", "action": "publish", "version": "1"})
    assert published.status_code == 303
    assert statuses(teacher) == [200, 200] and statuses(classmate) == [200, 200]
