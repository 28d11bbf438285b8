"""Spoken recordings over the JSON API, through HTTP on both databases (and on the upload folder and an S3 server).

A reflection's recording, a piece of evidence's spoken caption and a teacher's spoken feedback are part of what they
belong to: the API shows each as that thing's `recording`, fetched at /api/v1/files/{id}/original by exactly whoever
may read it (the /files route's own rule), and nobody else (404). A student speaks their own reflection with PUT
/api/v1/reflections/{id}/recording (streamed through the upload's checks, with the version read: stale → 409) and
takes it out with DELETE; whatever is refused leaves no file and no row. The recordings are made in the shapes
browsers record: WebM and Ogg with Opus, MP4 with AAC."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import func, select

from app import storage
from app.models import Artefact, Audience, Comment, Reflection, Role, SchoolClass, User
from tests.api_tokens import bearer, make_token
from tests.factories import link_guardian, login, make_class, make_note, make_reflection, make_school, make_user, \
    post_multipart
from tests.media import BROWSER_RECORDINGS, m4a_aac, ogg_opus, png, webm_opus

pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server

PROBLEM = "application/problem+json"
VIEWERS = ("maya", "classmate", "teacher", "guardian", "other_student", "other_teacher", "other_guardian")


@dataclass
class People:
    users: dict[str, User]
    tokens: dict[str, str]
    browsers: dict
    school_class: SchoolClass

    def get(self, viewer: str, path: str):
        return self.browsers[viewer].get(path, headers=bearer(self.tokens[viewer]))


def _people(session, new_client) -> People:
    """Maya with a classmate and their teacher in one class, her guardian; another student with their own teacher and
    guardian. Each has a token made on their Account page."""
    school = make_school(session)
    users = {name: make_user(session, school, Role.teacher if "teacher" in name else
                             Role.guardian if "guardian" in name else Role.student, display_name=name)
             for name in VIEWERS}
    school_class = make_class(session, school, teachers=[users["teacher"]], students=[users["maya"], users["classmate"]])
    make_class(session, school, teachers=[users["other_teacher"]], students=[users["other_student"]])
    link_guardian(session, users["guardian"], users["maya"])
    link_guardian(session, users["other_guardian"], users["other_student"])
    tokens, browsers = {}, {}
    for name, user in users.items():
        browsers[name] = new_client()
        login(browsers[name], user)
        tokens[name] = make_token(browsers[name], name=name)
    return People(users, tokens, browsers, school_class)


def _speak(people: People, session, *, title: str, audience: str, recording: str = "webm/opus",
           action: str = "publish") -> Reflection:
    """A spoken reflection, recorded on the reflection form as a browser sends it."""
    filename, make, _kept_as = BROWSER_RECORDINGS[recording]
    sent_type = {"webm/opus": "audio/webm;codecs=opus", "ogg/opus": "audio/ogg;codecs=opus",
                 "m4a/aac": "audio/mp4"}[recording]
    response = post_multipart(people.browsers["maya"], "/reflections",
                              {"title": title, "body": "", "audience": audience, "action": action},
                              files={"audio": (filename, make(), sent_type)})
    assert response.status_code == 303, response.text
    session.expire_all()
    return session.exec(select(Reflection).where(Reflection.title == title)).one()


def _heard_by(people: People, path: str) -> set[str]:
    """The viewers for whom `path` answers 200 (everyone else must get a 404 problem)."""
    heard = set()
    for viewer in VIEWERS:
        response = people.get(viewer, path)
        if response.status_code == 200:
            heard.add(viewer)
        else:
            assert response.status_code == 404, (viewer, path, response.status_code)
            assert response.headers["content-type"] == PROBLEM
    return heard


def _keys(settings, user: User) -> list[str]:
    return sorted(storage.uploads(settings).list(f"u{user.id}/"))


def _count(session, model) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


# --- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("recording", BROWSER_RECORDINGS)
def test_a_spoken_reflection_is_heard_by_exactly_its_readers(recording, session, new_client):
    people = _people(session, new_client)
    filename, make, kept_as = BROWSER_RECORDINGS[recording]
    readers = {"class": {"maya", "classmate", "teacher"}, "family": {"maya", "teacher", "guardian"},
               "private": {"maya", "teacher"}}
    for audience, expected in readers.items():
        reflection = _speak(people, session, title=f"Spoken {audience}", audience=audience, recording=recording)
        path = f"/api/v1/reflections/{reflection.id}"
        assert _heard_by(people, path) == expected
        shown = people.get("maya", path).json()["recording"]
        assert shown == {"file_id": reflection.audio_artefact_id, "media_type": kept_as, "size_bytes": len(make()),
                         "api_url": f"/api/v1/files/{reflection.audio_artefact_id}/original"}
        assert people.get("teacher", f"/api/v1/items/{reflection.id}").json()["recording"] == shown
        # The address answers exactly those who may read the reflection; a classmate or another family gets 404.
        assert _heard_by(people, shown["api_url"]) == expected, audience
        heard = people.get("teacher", shown["api_url"])
        assert heard.content == make() and heard.headers["content-type"].startswith(kept_as)


def test_a_drafts_recording_is_its_owners_alone_and_goes_with_its_reflection(session, new_client, settings):
    people = _people(session, new_client)
    draft = _speak(people, session, title="Half said", audience="class", action="draft")
    address = f"/api/v1/files/{draft.audio_artefact_id}/original"
    assert _heard_by(people, f"/api/v1/reflections/{draft.id}") == {"maya"}
    assert _heard_by(people, address) == {"maya"}

    spoken = _speak(people, session, title="Said aloud", audience="class")
    address = f"/api/v1/files/{spoken.audio_artefact_id}/original"
    assert _heard_by(people, address) == {"maya", "classmate", "teacher"}
    stored = _keys(settings, people.users["maya"])
    response = people.browsers["maya"].post(f"/reflections/{spoken.id}/delete")
    assert response.status_code == 303
    assert _heard_by(people, address) == set()
    assert _heard_by(people, f"/api/v1/reflections/{spoken.id}") == set()
    assert len(_keys(settings, people.users["maya"])) < len(stored)


def test_a_spoken_caption_is_heard_with_its_evidence(session, new_client):
    people = _people(session, new_client)
    response = post_multipart(people.browsers["maya"], "/artefacts/upload",
                              {"title": "Bridge model", "audience": "family"},
                              files={"files": ("bridge.png", png(), "image/png"),
                                     "caption_audio": ("caption.ogg", ogg_opus(), "audio/ogg;codecs=opus")})
    assert response.status_code == 303, response.text
    session.expire_all()
    evidence = session.exec(select(Artefact).where(Artefact.title == "Bridge model")).one()
    item = f"/api/v1/items/{evidence.id}"
    assert _heard_by(people, item) == {"maya", "teacher", "guardian"}
    caption = people.get("guardian", item).json()["recording"]
    assert caption["file_id"] == evidence.audio_artefact_id and caption["media_type"] == "audio/ogg"
    assert _heard_by(people, caption["api_url"]) == {"maya", "teacher", "guardian"}
    # Evidence without a caption says so.
    note = make_note(session, people.users["maya"], title="Plain", audience=Audience.class_)
    assert people.get("classmate", f"/api/v1/items/{note.id}").json()["recording"] is None


def test_spoken_feedback_is_heard_by_whoever_sees_its_comment(session, new_client):
    people = _people(session, new_client)
    lab = make_note(session, people.users["maya"], title="Lab notes", audience=Audience.class_)
    response = post_multipart(people.browsers["teacher"], f"/feedback/comments?item_type=artefact&item_id={lab.id}",
                              {"body": ""}, files={"audio": ("feedback.m4a", m4a_aac(), "audio/mp4")})
    assert response.status_code == 303, response.text
    session.expire_all()
    comment = session.exec(select(Comment).where(Comment.item_id == lab.id)).one()
    thread = f"/api/v1/items/{lab.id}/comments"
    assert _heard_by(people, thread) == {"maya", "classmate", "teacher"}
    [shown] = people.get("classmate", thread).json()["comments"]
    assert shown["recording"] == {"file_id": comment.audio_artefact_id, "media_type": "audio/mp4",
                                  "size_bytes": len(m4a_aac()),
                                  "api_url": f"/api/v1/files/{comment.audio_artefact_id}/original"}
    assert _heard_by(people, shown["recording"]["api_url"]) == {"maya", "classmate", "teacher"}
    # Reported, the comment is hidden until a teacher has looked at it: its recording with it.
    assert people.browsers["maya"].post(f"/feedback/comments/{comment.id}/report").status_code == 303
    for viewer in ("maya", "classmate"):
        assert people.get(viewer, thread).json()["comments"] == []
    [held] = people.get("teacher", thread).json()["comments"]
    assert held["status"] == "reported" and held["recording"] == shown["recording"]
    assert _heard_by(people, shown["recording"]["api_url"]) == {"teacher"}


def test_reading_a_thread_of_spoken_comments_takes_a_fixed_number_of_queries(session, new_client, count_queries):
    people = _people(session, new_client)
    lab = make_note(session, people.users["maya"], title="Lab notes", audience=Audience.class_)
    thread = f"/api/v1/items/{lab.id}/comments"
    counts = []
    for _round in range(2):
        for _spoken in range(2):
            response = post_multipart(people.browsers["teacher"],
                                      f"/feedback/comments?item_type=artefact&item_id={lab.id}", {"body": ""},
                                      files={"audio": ("feedback.webm", webm_opus(), "audio/webm")})
            assert response.status_code == 303
        with count_queries() as queries:
            comments = people.get("classmate", thread).json()["comments"]
        assert all(c["recording"] for c in comments)
        counts.append(queries.count)
    assert counts[0] == counts[1], counts


# --- writing ---------------------------------------------------------------------------------------


def _put(people: People, viewer: str, reflection_id: int, file: tuple, version: int | str):
    return people.browsers[viewer].put(f"/api/v1/reflections/{reflection_id}/recording", headers=bearer(
        people.tokens[viewer]), files=[("file", file), ("version", (None, str(version)))])


@pytest.mark.parametrize("recording", BROWSER_RECORDINGS)
def test_a_student_speaks_their_reflection_and_replaces_it(recording, session, new_client, settings):
    people = _people(session, new_client)
    reflection = make_reflection(session, people.users["maya"], title="Rivers", audience=Audience.class_)
    filename, make, kept_as = BROWSER_RECORDINGS[recording]
    response = _put(people, "maya", reflection.id, (filename, make(), "application/octet-stream"), 1)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == 2 and body["recording"]["media_type"] == kept_as
    first = body["recording"]["api_url"]
    assert _heard_by(people, first) == {"maya", "classmate", "teacher"}
    assert people.get("teacher", first).content == make()
    session.expire_all()
    kept = session.get(Artefact, body["recording"]["file_id"])
    assert kept.audience is Audience.private  # who hears it is decided by the reflection, every time
    # Nobody lists it as evidence of its own.
    assert body["recording"]["file_id"] not in [i["id"] for i in people.get("maya", "/api/v1/items").json()["items"]]

    replaced = _put(people, "maya", reflection.id, ("again.webm", webm_opus(80), "audio/webm"), 2)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["version"] == 3 and replaced.json()["recording"]["api_url"] != first
    assert _heard_by(people, first) == set()  # the replaced one went with its file
    assert len(_keys(settings, people.users["maya"])) == 1
    session.expire_all()
    assert session.get(User, people.users["maya"].id).storage_used_bytes == len(webm_opus(80))


def test_refused_recordings_leave_no_file_and_no_row(session, new_client, settings):
    people = _people(session, new_client)
    maya = people.users["maya"]
    reflection = make_reflection(session, maya, title="Rivers", audience=Audience.class_)
    artefacts, keys = _count(session, Artefact), _keys(settings, maya)

    not_sound = _put(people, "maya", reflection.id, ("photo.png", png(), "audio/webm"), 1)
    assert not_sound.status_code == 415 and not_sound.headers["content-type"] == PROBLEM
    assert "file" in not_sound.json()["errors"]
    stale = _put(people, "maya", reflection.id, ("voice.webm", webm_opus(), "audio/webm"), 7)
    assert stale.status_code == 409 and "version" in stale.json()["errors"]
    no_version = _put(people, "maya", reflection.id, ("voice.webm", webm_opus(), "audio/webm"), "")
    assert no_version.status_code == 422 and "version" in no_version.json()["errors"]
    # Someone else's reflection is a 404 to a classmate who may read it, and theirs is not kept either.
    theirs = _put(people, "classmate", reflection.id, ("voice.webm", webm_opus(), "audio/webm"), 1)
    assert theirs.status_code == 404 and theirs.headers["content-type"] == PROBLEM
    assert _keys(settings, people.users["classmate"]) == []
    # Over the student's quota: 413, nothing kept.
    almost_full = settings.student_quota_bytes - 100
    session.get(User, maya.id).storage_used_bytes = almost_full
    session.commit()
    over = _put(people, "maya", reflection.id, ("voice.webm", webm_opus(), "audio/webm"), 1)
    assert over.status_code == 413 and "file" in over.json()["errors"], over.text

    assert _count(session, Artefact) == artefacts and _keys(settings, maya) == keys
    session.expire_all()
    assert session.get(Reflection, reflection.id).audio_artefact_id is None
    assert session.get(Reflection, reflection.id).version == 1
    assert session.get(User, maya.id).storage_used_bytes == almost_full
    scratch = storage.uploads(settings).scratch_dir
    assert not [p for p in scratch.glob("*") if p.is_file()]


def test_a_recording_taken_out_goes_with_its_file(session, new_client, settings):
    people = _people(session, new_client)
    maya = people.users["maya"]
    reflection = make_reflection(session, maya, title="Rivers", audience=Audience.class_)
    spoken = _put(people, "maya", reflection.id, ("voice.ogg", ogg_opus(), "audio/ogg"), 1).json()
    address = spoken["recording"]["api_url"]
    path = f"/api/v1/reflections/{reflection.id}/recording"

    stale = people.browsers["maya"].delete(f"{path}?version=1", headers=bearer(people.tokens["maya"]))
    assert stale.status_code == 409 and stale.headers["content-type"] == PROBLEM
    other = people.browsers["classmate"].delete(f"{path}?version=2", headers=bearer(people.tokens["classmate"]))
    assert other.status_code == 404
    teacher = people.browsers["teacher"].delete(f"{path}?version=2", headers=bearer(people.tokens["teacher"]))
    assert teacher.status_code == 403
    assert _heard_by(people, address) == {"maya", "classmate", "teacher"}

    taken = people.browsers["maya"].delete(f"{path}?version=2", headers=bearer(people.tokens["maya"]))
    assert taken.status_code == 200, taken.text
    assert taken.json()["recording"] is None and taken.json()["version"] == 3
    assert _heard_by(people, address) == set()
    assert _keys(settings, maya) == [] and _count(session, Artefact) == 0
    session.expire_all()
    assert session.get(User, maya.id).storage_used_bytes == 0


def test_a_reflection_spoken_only_keeps_its_recording_and_may_be_edited_without_words(session, new_client):
    people = _people(session, new_client)
    spoken = _speak(people, session, title="Only spoken", audience="class")
    path = f"/api/v1/reflections/{spoken.id}"
    # Edited over the API, it needs no written words while it has its recording (as on the form).
    edited = people.browsers["maya"].put(path, headers=bearer(people.tokens["maya"]), json={
        "title": "Only spoken, renamed", "body": "", "audience": "class", "version": spoken.version})
    assert edited.status_code == 200, edited.text
    assert edited.json()["recording"]["file_id"] == spoken.audio_artefact_id
    version = edited.json()["version"]
    # Published with nothing else to say, it keeps its recording.
    refused = people.browsers["maya"].delete(f"{path}/recording?version={version}",
                                             headers=bearer(people.tokens["maya"]))
    assert refused.status_code == 422 and "body" in refused.json()["errors"]
    assert people.get("teacher", path).json()["recording"]["file_id"] == spoken.audio_artefact_id
