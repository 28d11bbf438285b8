"""The storage quota holds under concurrent uploads, and no form stores a file that no row refers to."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import func, select

from app import storage
from app.models import Artefact, Audience, Comment, Reflection, Role, User
from tests.conftest import make_settings
from tests.factories import login, make_class, make_note, make_school, make_user, post_multipart
from tests.media import png
from tests.test_filetypes import wav_bytes
from tests.stored import stored_keys

PARALLEL = 10
FILE_BYTES = 300_000  # three fit in the 1 MB quota (1,048,576 bytes), a fourth does not


pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server


@pytest.fixture
def settings(tmp_path, database_url, storage_url):
    return make_settings(tmp_path, database_url, student_quota_mb=1, storage_url=storage_url)


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


def kept_files(settings, owner_id: int) -> list[str]:
    return stored_keys(settings, f"u{owner_id}/")


def incoming(settings) -> list[Path]:
    folder = settings.upload_dir / ".incoming"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def accounting(session, student) -> tuple[int, int, int]:
    """(storage_used_bytes, sum of the sizes of the student's stored artefacts, how many there are)."""
    session.expire_all()
    used = session.get(User, student.id).storage_used_bytes
    total, count = session.exec(select(func.coalesce(func.sum(Artefact.size_bytes), 0), func.count(Artefact.id))
                                .where(Artefact.owner_id == student.id, Artefact.stored_name.is_not(None))).one()
    return used, total, count


def browsers(app, signed_in: TestClient, count: int) -> list[TestClient]:
    """`count` more browsers sharing one sign-in; each request of each runs on its own event loop thread."""
    made = []
    for _ in range(count):
        browser = TestClient(app, base_url="http://testserver", follow_redirects=False)
        browser.cookies.update(signed_in.cookies)
        made.append(browser)
    return made


def in_parallel(calls: list) -> list:
    """Run the calls at once from as many threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def upload_text(browser: TestClient, number: int):
    content = (f"upload {number} ".encode() * FILE_BYTES)[:FILE_BYTES]
    return browser.post("/artefacts/upload", files=[("files", (f"notes-{number}.txt", content, "text/plain"))],
                        headers={"Accept": "application/json"})


def test_ten_parallel_uploads_at_the_quota_edge_never_exceed_it(app, client, session, settings, student):
    login(client, student)
    clients = browsers(app, client, PARALLEL)
    responses = in_parallel([lambda b=b, n=n: upload_text(b, n) for n, b in enumerate(clients)])
    statuses = sorted(r.status_code for r in responses)
    succeeded = statuses.count(201)
    print(f"\n{succeeded} of {PARALLEL} parallel uploads succeeded; statuses {statuses}")
    assert set(statuses) <= {201, 422}
    used, total, count = accounting(session, student)
    assert count == succeeded == 3, statuses  # exactly as many as fit: none lost to the race, none too many
    assert total <= settings.student_quota_bytes
    assert used == total == succeeded * FILE_BYTES
    assert len(kept_files(settings, student.id)) == count and incoming(settings) == []
    store = storage.uploads(settings)
    assert sum(store.info(key).size for key in kept_files(settings, student.id)) == total
    for refused in (r for r in responses if r.status_code == 422):
        assert "storage space" in refused.json()["errors"][0]["message"]


def test_parallel_uploads_and_deletions_keep_the_count_exact(app, client, session, settings, student):
    login(client, student)
    first = [upload_text(client, n) for n in range(3)]
    assert [r.status_code for r in first] == [201, 201, 201]
    assert accounting(session, student)[0] == 3 * FILE_BYTES
    ids = [r.json()["created"][0]["id"] for r in first]
    clients = browsers(app, client, PARALLEL + 2)
    calls = [lambda b=clients[n], n=n: upload_text(b, 10 + n) for n in range(PARALLEL)]
    calls += [lambda b=clients[PARALLEL + i], i=i: b.post(f"/artefacts/{ids[i]}/delete") for i in range(2)]
    responses = in_parallel(calls)
    assert [r.status_code for r in responses[PARALLEL:]] == [303, 303]
    used, total, count = accounting(session, student)
    assert used == total <= settings.student_quota_bytes
    assert count == 1 + sum(r.status_code == 201 for r in responses[:PARALLEL])
    assert len(kept_files(settings, student.id)) == count


def test_deleting_evidence_gives_its_space_back_without_going_below_zero(client, session, settings, student):
    login(client, student)
    created = upload_text(client, 1)
    assert created.status_code == 201
    artefact_id = created.json()["created"][0]["id"]
    assert accounting(session, student) == (FILE_BYTES, FILE_BYTES, 1)
    assert client.post(f"/artefacts/{artefact_id}/delete").status_code == 303
    assert accounting(session, student) == (0, 0, 0)
    assert kept_files(settings, student.id) == []


# --- files sent under names the form doesn't have ---------------------------------------------------


def assert_nothing_kept(session, settings, owner_id: int) -> None:
    session.expire_all()
    assert kept_files(settings, owner_id) == [] and incoming(settings) == []
    assert session.get(User, owner_id).storage_used_bytes == 0
    assert session.exec(select(Artefact).where(Artefact.owner_id == owner_id, Artefact.stored_name.is_not(None))).first() is None


def test_a_reflection_refuses_a_file_under_an_unknown_field_and_keeps_nothing(client, session, settings, student):
    login(client, student)
    response = post_multipart(client, "/reflections", {"title": "Week one", "body": "I learned", "action": "publish"},
                              files={"hidden": ("photo.png", png(), "image/png")})
    assert response.status_code == 422
    assert "this form doesn" in response.text.replace("&#39;", "'").replace("’", "'")
    assert_nothing_kept(session, settings, student.id)
    assert session.exec(select(Reflection)).first() is None
    # Beside a real recording too: the whole form is refused, the recording isn't kept either.
    both = client.post("/reflections", files=[("title", (None, "Week two")), ("body", (None, "x")),
                                               ("audio", ("talk.wav", wav_bytes(), "audio/wav")),
                                               ("extra", ("more.wav", wav_bytes(), "audio/wav"))])
    assert both.status_code == 422
    assert_nothing_kept(session, settings, student.id)
    assert session.exec(select(Reflection)).first() is None


def test_teacher_feedback_refuses_a_file_under_an_unknown_field_and_keeps_nothing(client, session, settings):
    school = make_school(session)
    teacher, maya = make_user(session, school, Role.teacher), make_user(session, school)
    make_class(session, school, teachers=[teacher], students=[maya])
    note = make_note(session, maya, title="Speech", audience=Audience.class_)
    login(client, teacher)
    response = post_multipart(client, f"/feedback/comments?item_type=artefact&item_id={note.id}", {"body": "Nice"},
                              files={"attachment": ("photo.png", png(), "image/png")})
    assert response.status_code == 422
    assert "this form doesn" in response.text.replace("&#39;", "'").replace("’", "'")
    assert_nothing_kept(session, settings, maya.id)
    assert session.exec(select(Comment)).first() is None


def test_a_classmate_cannot_slip_a_file_into_a_comment(client, session, settings):
    school = make_school(session)
    maya, leo = make_user(session, school), make_user(session, school)
    make_class(session, school, students=[maya, leo])
    note = make_note(session, maya, title="Speech", audience=Audience.class_)
    login(client, leo)
    response = post_multipart(client, f"/feedback/comments?item_type=artefact&item_id={note.id}", {"noticed": "Loud"},
                              files={"audio": ("x.wav", wav_bytes(), "audio/wav")})
    assert response.status_code == 422
    assert_nothing_kept(session, settings, maya.id)
    assert session.exec(select(Comment)).first() is None


def test_an_evidence_upload_refuses_a_file_under_an_unknown_field(client, session, settings, student):
    login(client, student)
    response = client.post("/artefacts/upload", files=[("files", ("a.png", png(), "image/png")),
                                                       ("other", ("b.png", png(colour=(1, 2, 3)), "image/png"))])
    assert response.status_code == 422
    assert_nothing_kept(session, settings, student.id)


# --- thumbnails and print copies count too ------------------------------------------------------------------


def test_a_photo_counts_its_thumbnails_and_print_copy_and_gives_them_all_back(client, session, settings, student):
    login(client, student)
    response = client.post("/artefacts/upload", files=[("files", ("rubbing.png", png(), "image/png"))],
                           headers={"Accept": "application/json"})
    assert response.status_code == 201, response.text
    keys = kept_files(settings, student.id)
    assert len(keys) == 4  # the photo, two thumbnails and the print copy
    store = storage.uploads(settings)
    on_store = sum(store.info(key).size for key in keys)
    session.expire_all()
    photo = session.get(Artefact, response.json()["created"][0]["id"])
    assert photo.derived_bytes > 0 and photo.size_bytes + photo.derived_bytes == on_store
    assert session.get(User, student.id).storage_used_bytes == on_store  # not only the original's bytes
    assert client.post(f"/artefacts/{photo.id}/delete").status_code == 303
    session.expire_all()
    assert session.get(User, student.id).storage_used_bytes == 0
