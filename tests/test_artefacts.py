"""Evidence over HTTP: upload, metadata stripping, access to items and files, ranges, edits and deletion."""

import io

import pytest
from PIL import Image
from sqlmodel import func, select

from app.models import Artefact, ArtefactTag, Audience, Role, Item, User
from app import storage
from tests.factories import link_guardian, login, make_class, make_note, make_school, make_user
from tests.media import jpeg_with_gps, mp4, png
from tests.stored import stored_bytes, stored_keys


def upload(client, files, **fields):
    """POST files the way the upload form does (several at once)."""
    parts = [("files", f) for f in files] + [(k, (None, v)) for k, v in fields.items()]
    return client.post("/artefacts/upload", files=parts)


pytestmark = pytest.mark.storage  # on the upload folder and on an S3 server


def stored_files(settings) -> list[str]:
    """Every file kept in the store, plus any scratch file left on local disk."""
    scratch = settings.upload_dir / ".incoming"
    return stored_keys(settings) + [str(p) for p in scratch.rglob("*") if p.is_file()]


@pytest.fixture
def student(session):
    return make_user(session, make_school(session))


def test_upload_photo_strips_gps_and_camera_from_image_and_thumbnails(client, session, student, settings):
    login(client, student)
    response = upload(client, [("playground.jpg", jpeg_with_gps(), "image/jpeg")], title="Playground survey", audience="private")
    assert response.status_code == 303
    artefact = session.exec(select(Artefact)).one()
    assert artefact.title == "Playground survey" and artefact.content_type == "image/jpeg"
    names = [artefact.stored_name, artefact.thumb_small, artefact.thumb_large, artefact.thumb_print]
    assert sorted(stored_keys(settings)) == sorted(names)
    for name in names:
        data = stored_bytes(settings, name)
        with Image.open(io.BytesIO(data)) as image:
            assert len(image.getexif()) == 0, f"{name} still has EXIF"
            assert "exif" not in image.info and "xmp" not in image.info
        assert b"PhoneMaker" not in data
    served = client.get(f"/files/{artefact.id}/original")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "GPS" not in str(Image.open(io.BytesIO(served.content)).getexif())
    assert client.get(f"/files/{artefact.id}/small").headers["content-type"] == "image/webp"
    session.refresh(session.get(User, student.id))
    # The photo and its thumbnails and print copy all count.
    stored_total = sum(len(stored_bytes(settings, name)) for name in names)
    assert session.get(User, student.id).storage_used_bytes == artefact.size_bytes + artefact.derived_bytes
    assert artefact.size_bytes + artefact.derived_bytes == stored_total > artefact.size_bytes > 0


def test_several_files_at_once_with_shared_details(client, session, student):
    login(client, student)
    response = upload(client, [("a.png", png(), "image/png"), ("b.png", png(colour=(1, 2, 3)), "image/png"),
                               ("notes.txt", "Mes idées — ünïcode".encode(), "text/plain")],
                      title="Science fair", tags="science, Fair, science")
    assert response.status_code == 303
    titles = sorted(session.exec(select(Artefact.title)).all())
    assert titles == ["Science fair (1)", "Science fair (2)", "Science fair (3)"]
    assert session.exec(select(func.count()).select_from(ArtefactTag)).one() == 6  # 2 tags x 3, deduplicated
    assert session.exec(select(func.count()).select_from(Item)).one() == 3


def test_json_answer_for_the_progress_bar_script(client, session, student):
    login(client, student)
    ok = client.post("/artefacts/upload", files=[("files", ("a.png", png(), "image/png"))], headers={"Accept": "application/json"})
    assert ok.status_code == 201 and ok.json()["created"][0]["url"].startswith("/artefacts/")
    bad = client.post("/artefacts/upload", files=[("files", ("a.jpg", b"MZ\x90\x00" + b"\x00" * 500, "image/jpeg"))],
                      headers={"Accept": "application/json"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["message"]


@pytest.mark.parametrize("name, content, message", [
    ("holiday.jpg", b"MZ\x90\x00\x03" + b"\x00" * 2000, "program"),
    ("script.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 2000, "program"),
    ("page.html", b"<!doctype html><script>alert(1)</script>", "file type"),
])
def test_disguised_or_unsafe_files_are_refused_and_leave_nothing(client, session, student, settings, name, content, message):
    login(client, student)
    response = upload(client, [(name, content, "image/jpeg")], title="Sneaky")
    assert response.status_code == 422
    assert message in response.text
    assert session.exec(select(Artefact)).first() is None
    assert stored_files(settings) == []


def test_file_over_the_limit_is_refused_with_size_and_limit(client, session, student, tmp_path, database_url):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, database_url, max_upload_mb=1)
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as small_client:
        login(small_client, student)
        response = upload(small_client, [("big.txt", b"a" * (1024 * 1024 + 10), "text/plain")])
    assert response.status_code == 422
    assert "1 MB" in response.text
    assert session.exec(select(Artefact)).first() is None
    assert stored_files(settings) == []
    app.state.engine.dispose()


def test_quota_is_enforced(client, session, student, settings):
    user = session.get(User, student.id)
    user.storage_used_bytes = settings.student_quota_bytes - 100
    session.add(user)
    session.commit()
    login(client, student)
    response = upload(client, [("notes.txt", b"x" * 500, "text/plain")])
    assert response.status_code == 422 and "space" in response.text.lower()
    assert session.exec(select(Artefact)).first() is None


def test_no_file_chosen_says_so(client, student):
    login(client, student)
    response = client.post("/artefacts/upload", files=[("files", ("", b"", "application/octet-stream")), ("title", (None, "x"))])
    assert response.status_code == 422 and "Choose at least one file" in response.text


def test_range_request_on_a_video_returns_206_with_the_right_bytes(client, session, student):
    video = mp4()
    login(client, student)
    upload(client, [("clip.mp4", video, "video/mp4")], title="Experiment video")
    artefact = session.exec(select(Artefact)).one()
    assert artefact.media_kind.value == "video"
    whole = client.get(f"/files/{artefact.id}/original")
    assert whole.headers["accept-ranges"] == "bytes" and whole.content == video
    part = client.get(f"/files/{artefact.id}/original", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(video)}"
    assert part.content == video[1000:2000]
    assert part.headers["x-content-type-options"] == "nosniff"
    assert part.headers["content-disposition"].startswith("inline")
    tail = client.get(f"/files/{artefact.id}/original", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == video[-100:]
    assert tail.headers["content-range"] == f"bytes {len(video) - 100}-{len(video) - 1}/{len(video)}"
    rest = client.get(f"/files/{artefact.id}/original", headers={"Range": f"bytes={len(video) - 10}-"})
    assert rest.status_code == 206 and rest.content == video[-10:]
    beyond = client.get(f"/files/{artefact.id}/original", headers={"Range": f"bytes={len(video) + 5}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{len(video)}"


def test_a_thumbnail_the_browser_already_has_is_not_sent_again(client, session, student):
    login(client, student)
    upload(client, [("photo.png", png(), "image/png")])
    artefact = session.exec(select(Artefact)).one()
    first = client.get(f"/files/{artefact.id}/small")
    assert first.status_code == 200 and first.headers["etag"]
    again = client.get(f"/files/{artefact.id}/small", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    changed = client.get(f"/files/{artefact.id}/small", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200 and changed.content == first.content


def test_a_stored_file_that_is_gone_is_a_404_not_an_error(client, session, student, settings):
    login(client, student)
    upload(client, [("notes.txt", b"plain words", "text/plain")])
    artefact = session.exec(select(Artefact)).one()
    storage.uploads(settings).delete([artefact.stored_name])
    assert client.get(f"/files/{artefact.id}/original").status_code == 404


def test_documents_download_as_attachments(client, session, student):
    login(client, student)
    upload(client, [("notes.txt", b"plain words", "text/html")])
    artefact = session.exec(select(Artefact)).one()
    response = client.get(f"/files/{artefact.id}/original")
    assert response.headers["content-type"].startswith("text/plain")  # the sniffed type, not the browser's claim
    assert response.headers["content-disposition"].startswith("attachment")


def test_private_item_and_its_file_are_404_to_everyone_but_the_student_and_their_teacher(client, session, new_client):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    teacher, other_teacher = make_user(session, school, Role.teacher), make_user(session, school, Role.teacher)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, teachers=[other_teacher], students=[make_user(session, school)])
    link_guardian(session, guardian, student)
    login(client, student)
    upload(client, [("private.png", png(), "image/png")], title="Private drawing", audience="private")
    artefact = session.exec(select(Artefact)).one()
    urls = [f"/artefacts/{artefact.id}", f"/files/{artefact.id}/original", f"/files/{artefact.id}/small",
            f"/files/{artefact.id}/large"]
    for outsider in (classmate, guardian, other_teacher):
        browser = new_client()
        login(browser, outsider)
        for url in urls:
            assert browser.get(url).status_code == 404, (outsider.username, url)
        assert browser.get(f"/artefacts/{artefact.id}/edit").status_code in (403, 404)
    own_teacher = new_client()
    login(own_teacher, teacher)
    for url in urls:
        assert own_teacher.get(url).status_code == 200, url
    assert f'href="/artefacts/{artefact.id}/edit"' not in own_teacher.get(urls[0]).text  # read-only for the teacher
    anonymous = new_client()
    assert anonymous.get(urls[1]).status_code == 303


def test_family_and_class_audiences(client, session, new_client):
    school = make_school(session)
    student, classmate = make_user(session, school), make_user(session, school)
    guardian = make_user(session, school, Role.guardian)
    make_class(session, school, students=[student, classmate])
    link_guardian(session, guardian, student)
    for_family = make_note(session, student, title="For home", audience=Audience.family)
    for_class = make_note(session, student, title="For class", audience=Audience.class_)
    family_browser, class_browser = new_client(), new_client()
    login(family_browser, guardian)
    login(class_browser, classmate)
    assert family_browser.get(f"/artefacts/{for_family.id}").status_code == 200
    assert family_browser.get(f"/artefacts/{for_class.id}").status_code == 404
    assert class_browser.get(f"/artefacts/{for_class.id}").status_code == 200
    assert class_browser.get(f"/artefacts/{for_family.id}").status_code == 404


def test_note_and_link_validation_and_markdown_is_sanitised(client, session, student):
    login(client, student)
    bad = client.post("/artefacts/link", data={"title": "", "url": "javascript:alert(1)"})
    assert bad.status_code == 422
    assert "Give it a title" in bad.text and "Paste a full web address" in bad.text
    assert session.exec(select(Artefact)).first() is None
    note = client.post("/artefacts/note", data={"title": "Plan", "body": "**Bold** <script>alert(1)</script>",
                                                "tags": "Plans"})
    assert note.status_code == 303
    saved = session.exec(select(Artefact)).one()
    assert note.headers["location"] == f"/reflections/new?then=assess&saved=1&artefact={saved.id}"  # the next step
    page = client.get(f"/artefacts/{saved.id}").text
    assert "<strong>Bold</strong>" in page and "<script>alert(1)" not in page and "#Plans" in page  # tags keep their case (issue 12)


def test_edit_and_delete_own_artefact_removes_its_files(client, session, student, settings, new_client):
    student_id = student.id
    login(client, student)
    upload(client, [("drawing.png", png(), "image/png")], title="Drawing")
    artefact = session.exec(select(Artefact)).one()
    other = new_client()
    login(other, make_user(session, make_school(session)))
    assert other.post(f"/artefacts/{artefact.id}/edit", data={"title": "Mine now"}).status_code == 404
    assert other.post(f"/artefacts/{artefact.id}/delete").status_code == 404
    edited = client.post(f"/artefacts/{artefact.id}/edit", data={"title": "Better drawing", "audience": "family"})
    assert edited.status_code == 303
    session.expire_all()
    assert session.get(Artefact, artefact.id).title == "Better drawing"
    assert len(stored_files(settings)) == 4  # the image, two thumbnails and the print copy
    assert client.post(f"/artefacts/{artefact.id}/delete").status_code == 303
    session.expunge_all()
    assert session.get(Artefact, artefact.id) is None
    assert stored_files(settings) == []
    assert session.exec(select(Item)).first() is None
    assert session.get(User, student_id).storage_used_bytes == 0


def test_malformed_upload_is_a_400_and_leaves_nothing(client, session, student, settings):
    login(client, student)
    body = b"--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\nhello"  # no closing boundary
    response = client.post("/artefacts/upload", content=body, headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert response.status_code == 400
    assert session.exec(select(Artefact)).first() is None
    assert stored_files(settings) == []


def test_a_program_renamed_to_text_downloads_with_a_harmless_name(client, session, student):
    login(client, student)
    upload(client, [("evil.bat", b"echo hello\r\n", "application/octet-stream")])
    artefact = session.exec(select(Artefact)).one()
    disposition = client.get(f"/files/{artefact.id}/original").headers["content-disposition"]
    assert "evil.txt" in disposition and ".bat" not in disposition


def test_a_decompression_bomb_is_refused_over_http_and_leaves_nothing(client, session, student, settings):
    from tests.media import png_bomb

    login(client, student)
    response = upload(client, [("innocent.png", png_bomb(), "image/png")], title="Bomb")
    assert response.status_code == 422
    assert "megapixels" in response.text
    assert session.exec(select(Artefact)).first() is None
    assert stored_files(settings) == []


def test_an_upload_cut_off_midway_leaves_no_file_and_no_row(app, client, session, student, settings):
    """The browser goes away mid-file: nothing of it may remain, on disk or in the database."""
    import anyio

    login(client, student)
    cookie = f"folio_session={client.cookies.get('folio_session')}".encode()
    boundary = b"cutoff"
    head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHalf\r\n--" + boundary +
            b"\r\nContent-Disposition: form-data; name=\"files\"; filename=\"video.mp4\"\r\nContent-Type: video/mp4\r\n\r\n")
    chunks = [head, mp4(200_000)[:120_000]]  # the closing boundary never comes
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/artefacts/upload", "raw_path": b"/artefacts/upload", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie),
                    (b"content-type", b"multipart/form-data; boundary=" + boundary),
                    (b"content-length", str(len(head) + 200_000).encode())],
        "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }
    sent: list[dict] = []

    async def receive():
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    async def run():
        try:
            await app(scope, receive, send)
        except Exception:  # the client is gone; whatever the server says goes nowhere
            pass

    anyio.run(run)
    assert not chunks, "the server read the partial body (it was not turned away before the upload)"
    assert not any(m.get("status") in (303, 401, 403) for m in sent if m["type"] == "http.response.start")
    assert session.exec(select(Artefact)).first() is None
    assert stored_files(settings) == [], stored_files(settings)


def test_a_nul_character_in_a_form_is_refused_with_nothing_saved(client, session, student):
    """PostgreSQL can't store U+0000 in text (SQLite can): the same clear 400 on both, and no row."""
    login(client, student)
    response = client.post("/artefacts/note", data={"title": "Plan\x00", "body": "a\x00b"})
    assert response.status_code == 400
    assert "That request didn" in response.text
    assert session.exec(select(Artefact)).first() is None


def test_a_nul_character_in_a_search_is_refused_not_a_500(client, session, student):
    login(client, student)
    assert client.get("/student", params={"q": "a\x00b"}).status_code == 400
