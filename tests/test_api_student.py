"""The student's JSON API beyond notes and links, through HTTP on both databases: files streamed through the upload's
own checks, reflections with conflict protection, frameworks and self-assessments, feedback threads."""

from __future__ import annotations

import io

from PIL import Image
from sqlmodel import select

from app import storage
from app.models import (
    Artefact,
    Audience,
    Comment,
    CommentStatus,
    CompetencyRating,
    CompetencyTranslation,
    FeedbackRequest,
    Notification,
    NotificationKind,
    ProficiencyLevelTranslation,
    Reflection,
    Role,
)
from app.models.base import utcnow
from app.services.competencies import ratings as rating_service
from tests.api_tokens import bearer, make_token
from tests.factories import login, make_class, make_framework, make_note, make_reflection, make_school, make_user
from tests.media import GPS_IFD, MAKE, jpeg_with_gps, png

PROBLEM = "application/problem+json"


def _student(session, client):
    school = make_school(session)
    student = make_user(session, school, display_name="Maya Chen")
    login(client, student)
    return school, student


def _stored_keys(settings, student) -> list[str]:
    return storage.uploads(settings).list(f"u{student.id}/")


def _scratch(settings) -> list:
    return [p for p in storage.uploads(settings).scratch_dir.glob("*") if p.is_file()]


# --- uploads -------------------------------------------------------------------------------------


def test_a_photo_is_streamed_in_and_loses_its_location(client, session, new_client, settings):
    _school, student = _student(session, client)
    api, token = new_client(), make_token(client)
    sent = api.post("/api/v1/items/files", headers=bearer(token), files=[
        ("file", ("playground.jpg", jpeg_with_gps(), "image/jpeg")), ("title", (None, "Playground")),
        ("audience", (None, "class")), ("tags", (None, "outside, maths"))])
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert sent.headers["location"] == body["api_url"] == f"/api/v1/items/{body['id']}"
    assert (body["title"], body["kind"], body["audience"], body["tags"]) == ("Playground", "file", "class",
                                                                             ["maths", "outside"])
    assert body["content_type"].startswith("image/") and body["width"] == 320
    assert body["original_name"] == "playground.jpg"
    artefact = session.exec(select(Artefact)).one()
    kept = storage.uploads(settings).read_bytes(artefact.stored_name)
    exif = Image.open(io.BytesIO(kept)).getexif()
    assert not exif.get_ifd(GPS_IFD) and MAKE not in exif, "the location and camera are stripped"
    session.refresh(student)
    assert student.storage_used_bytes == artefact.size_bytes + artefact.derived_bytes
    assert api.get(body["api_url"], headers=bearer(token)).json()["title"] == "Playground"
    assert _scratch(settings) == []


def test_oversized_wrong_type_and_malformed_uploads_are_problems_that_keep_nothing(client, session, client_from,
                                                                                    settings):
    _school, student = _student(session, client)
    token = make_token(client)
    small = client_from("198.51.100.7", max_upload_mb=1)
    huge = small.post("/api/v1/items/files", headers=bearer(token),
                      files={"file": ("big.png", png() + b"\x00" * (1024 * 1024 + 10), "image/png")})
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM, huge.text
    assert "big.png" in huge.json()["detail"]
    program = small.post("/api/v1/items/files", headers=bearer(token),
                         files={"file": ("game.png", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 5000, "image/png")})
    assert program.status_code == 415 and program.headers["content-type"] == PROBLEM
    assert "game.png" in program.json()["errors"]["file"]
    not_multipart = small.post("/api/v1/items/files", headers=bearer(token), json={"file": "x"})
    assert not_multipart.status_code == 400 and not_multipart.headers["content-type"] == PROBLEM
    no_file = small.post("/api/v1/items/files", headers=bearer(token), files={"title": (None, "Nothing")})
    assert no_file.status_code == 422 and "file" in no_file.json()["errors"]
    bad_details = small.post("/api/v1/items/files", headers=bearer(token), files=[
        ("file", ("ok.png", png(), "image/png")), ("occurred_on", (None, "yesterday"))])
    assert bad_details.status_code == 422 and set(bad_details.json()["errors"]) == {"occurred_on"}
    assert session.exec(select(Artefact)).all() == []
    assert _stored_keys(settings, student) == [] and _scratch(settings) == []
    session.refresh(student)
    assert student.storage_used_bytes == 0


def test_an_upload_over_the_quota_is_refused_and_nothing_is_stored(client, session, client_from, settings):
    _school, student = _student(session, client)
    token = make_token(client)
    student.storage_used_bytes = 1024 * 1024 - 100  # 100 bytes left of a 1 MB quota
    session.add(student)
    session.commit()
    tight = client_from("198.51.100.8", student_quota_mb=1)
    response = tight.post("/api/v1/items/files", headers=bearer(token),
                          files={"file": ("photo.jpg", jpeg_with_gps(), "image/jpeg")})
    assert response.status_code == 413 and response.headers["content-type"] == PROBLEM, response.text
    assert "storage space" in response.json()["detail"]
    assert session.exec(select(Artefact)).all() == [] and _stored_keys(settings, student) == []
    session.refresh(student)
    assert student.storage_used_bytes == 1024 * 1024 - 100


def test_only_a_student_with_a_writing_token_uploads(client, session, new_client):
    school, _student_user = _student(session, client)
    read_only = make_token(client, scopes="read")
    api = new_client()
    file = {"file": ("p.png", png(), "image/png")}
    assert api.post("/api/v1/items/files", headers=bearer(read_only), files=file).status_code == 403
    assert api.post("/api/v1/items/files", files=file).status_code == 401
    teacher_browser = new_client()
    login(teacher_browser, make_user(session, school, role=Role.teacher))
    assert api.post("/api/v1/items/files", headers=bearer(make_token(teacher_browser)), files=file).status_code == 403
    assert session.exec(select(Artefact)).all() == []


# --- reflections ---------------------------------------------------------------------------------


def test_reflections_are_checked_like_the_form_and_an_edit_never_overwrites_a_newer_one(client, session, new_client):
    school, student = _student(session, client)
    other = make_user(session, school)
    mine, theirs = make_note(session, student, title="Volcano"), make_note(session, other, title="Not mine")
    api, token = new_client(), make_token(client)

    refused = api.post("/api/v1/reflections", headers=bearer(token), json={"title": "", "status": "published"})
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"title", "body"}
    draft = api.post("/api/v1/reflections", headers=bearer(token), json={
        "title": "Thinking", "status": "draft", "artefact_ids": [mine.id, theirs.id], "tags": ["science"]})
    assert draft.status_code == 201, draft.text
    body = draft.json()
    assert draft.headers["location"] == body["api_url"] == f"/api/v1/reflections/{body['id']}"
    assert (body["status"], body["kind"], body["artefact_ids"], body["tags"]) == ("draft", "draft", [mine.id],
                                                                                  ["science"])
    version = body["version"]

    published = api.put(body["api_url"], headers=bearer(token), json={
        "title": "Thinking", "body": "Gas needs room.", "status": "published", "audience": "class",
        "version": version})
    assert published.status_code == 200, published.text
    assert published.json()["version"] == version + 1 and published.json()["status"] == "published"
    assert published.json()["artefact_ids"] == []  # a whole replacement: links not sent are dropped

    stale = api.put(body["api_url"], headers=bearer(token), json={
        "title": "Overwrite?", "body": "Old tab.", "version": version})
    assert stale.status_code == 409 and stale.headers["content-type"] == PROBLEM
    assert str(version + 1) in stale.json()["detail"]
    session.expire_all()
    saved = session.get(Reflection, body["id"])
    assert (saved.title, saved.body, saved.version) == ("Thinking", "Gas needs room.", version + 1)

    classmate_browser = new_client()
    login(classmate_browser, other)
    theirs_token = make_token(classmate_browser)
    assert api.put(body["api_url"], headers=bearer(theirs_token), json={
        "title": "Mine now", "body": "x", "version": version + 1}).status_code == 404
    assert api.get(body["api_url"], headers=bearer(theirs_token)).status_code == 404  # not in a class together


def test_the_reflection_list_pages_by_cursor_and_holds_drafts_for_the_owner_only(client, session, new_client):
    _school, student = _student(session, client)
    for number in range(5):
        make_reflection(session, student, title=f"Reflection {number}", draft=number == 4)
    api, token = new_client(), make_token(client, scopes="read")
    titles, address = [], "/api/v1/reflections?limit=2"
    while address:
        page = api.get(address, headers=bearer(token))
        assert page.status_code == 200 and page.json()["total"] == 5
        titles += [r["title"] for r in page.json()["reflections"]]
        address = page.json()["next"]
    assert sorted(titles) == [f"Reflection {n}" for n in range(5)] and len(titles) == 5
    assert api.get("/api/v1/reflections?cursor=nonsense", headers=bearer(token)).status_code == 400


# --- frameworks and self-assessments ------------------------------------------------------------


def _assessed_world(session, client, locale=None):
    school, student = _student(session, client)
    student.locale = locale
    session.add(student)
    session.commit()
    teacher = make_user(session, school, role=Role.teacher)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    framework = make_framework(session, school, classes=[school_class])
    make_framework(session, school, name="Not this class's")
    return school, student, teacher, framework


def test_frameworks_come_with_scales_and_nested_competencies_in_the_readers_language(client, session, new_client):
    _school, _student_user, _teacher, framework = _assessed_world(session, client, locale="es")
    communicating = next(c for c in framework.competencies if c.code == "COM.1")
    session.add(CompetencyTranslation(competency_id=communicating.id, locale="es", name="Comunicar"))
    session.add(ProficiencyLevelTranslation(level_id=framework.levels[0].id, locale="es", label="Emergente"))
    session.commit()
    response = new_client().get("/api/v1/frameworks", headers=bearer(make_token(client, scopes="read")))
    assert response.status_code == 200, response.text
    [only] = response.json()["frameworks"]
    assert only["name"] == "Core Competencies"
    assert [level["label"] for level in only["levels"]] == ["Emergente", "Developing", "Proficient", "Extending"]
    assert [(c["code"], c["name"], c["depth"]) for c in only["competencies"]] == [
        ("COM", "Communication", 0), ("COM.1", "Comunicar", 1), ("THK", "Thinking", 0)]


def test_a_self_rating_is_checked_like_the_form_and_listed_with_the_teachers(client, session, new_client):
    _school, student, teacher, framework = _assessed_world(session, client)
    thinking = next(c for c in framework.competencies if c.code == "THK")
    evidence = make_note(session, student, title="Proof")
    api, token = new_client(), make_token(client)
    address = f"/api/v1/competencies/{thinking.id}/ratings"
    refused = api.post(address, headers=bearer(token), json={"level_id": 999_999, "reason": " "})
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"level_id", "reason"}
    assert session.exec(select(CompetencyRating)).all() == []

    level = framework.levels[1]
    created = api.post(address, headers=bearer(token), json={
        "level_id": level.id, "reason": "I explained it.", "artefact_ids": [evidence.id]})
    assert created.status_code == 201, created.text
    assert created.headers["location"] == address
    assert (created.json()["source"], created.json()["level"]["label"], created.json()["artefact_ids"]) == (
        "self", "Developing", [evidence.id])
    data = rating_service.RatingInput(level_id=framework.levels[2].id, reason="Agreed, nearly.")
    session.add(CompetencyRating(student_id=student.id, competency_id=thinking.id, level_id=data.level_id,
                                 rated_by_id=teacher.id, source="teacher", reason=data.reason, created_at=utcnow()))
    session.commit()

    one = api.get(address, headers=bearer(token)).json()
    assert one["latest_self"]["reason"] == "I explained it." and one["latest_teacher"]["level"]["label"] == "Proficient"
    assert [r["source"] for r in one["history"]] == ["teacher", "self"]
    every = api.get("/api/v1/self-assessments", headers=bearer(token)).json()["competencies"]
    assert [c["competency"]["code"] for c in every] == ["COM", "COM.1", "THK"]
    assert every[2]["latest_self"]["level"]["label"] == "Developing" and every[0]["history"] == []

    other_framework = make_framework(session, make_school(session, "Elsewhere"), name="Theirs")
    assert api.get(f"/api/v1/competencies/{other_framework.competencies[0].id}/ratings",
                   headers=bearer(token)).status_code == 404
    teacher_browser = new_client()
    login(teacher_browser, teacher)
    assert api.get("/api/v1/self-assessments", headers=bearer(make_token(teacher_browser))).status_code == 403


# --- feedback --------------------------------------------------------------------------------------


def test_comments_follow_the_forms_rules_approvals_and_notifications(client, session, new_client):
    school, student = _student(session, client)
    classmate, teacher = make_user(session, school), make_user(session, school, role=Role.teacher)
    stranger = make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student, classmate])
    school_class.peer_comments_need_approval = True
    session.add(school_class)
    session.commit()
    from app.models import Audience

    shared = make_note(session, student, title="Shared", audience=Audience.class_)
    private = make_note(session, student, title="Private")
    tokens = {}
    for name, user in (("classmate", classmate), ("teacher", teacher), ("stranger", stranger)):
        browser = new_client()
        login(browser, user)
        tokens[name] = make_token(browser)
    tokens["owner"] = make_token(client)
    api = new_client()
    thread = f"/api/v1/items/{shared.id}/comments"

    peer = api.post(thread, headers=bearer(tokens["classmate"]), json={"body": "Nice"})
    assert peer.status_code == 422 and "noticed" in peer.json()["errors"]  # classmates write noticed/wonder/next
    peer = api.post(thread, headers=bearer(tokens["classmate"]), json={"noticed": "Clear labels"})
    assert peer.status_code == 201, peer.text
    assert (peer.json()["kind"], peer.json()["status"]) == ("peer", "pending")
    assert session.exec(select(Notification).where(Notification.user_id == teacher.id,
                                                   Notification.kind == NotificationKind.comment_pending)).one()
    assert api.get(thread, headers=bearer(tokens["owner"])).json()["comments"] == []  # waiting for approval
    assert len(api.get(thread, headers=bearer(tokens["teacher"])).json()["comments"]) == 1

    advice = api.post(thread, headers=bearer(tokens["teacher"]), json={"body": "Good", "next_step": "Add a key"})
    assert advice.status_code == 201 and advice.json()["status"] == "visible"
    reply = api.post(thread, headers=bearer(tokens["owner"]),
                     json={"body": "Thanks!", "parent_id": advice.json()["id"]})
    assert reply.status_code == 201 and reply.json()["kind"] == "student"
    seen = api.get(thread, headers=bearer(tokens["owner"])).json()
    assert seen["writes_as"] == "student" and [c["body"] for c in seen["comments"]] == ["Good"]
    assert [r["body"] for r in seen["comments"][0]["replies"]] == ["Thanks!"]
    assert session.exec(select(Notification).where(Notification.user_id == student.id,
                                                   Notification.kind == NotificationKind.feedback_received)).one()

    for viewer in ("stranger", "classmate"):  # a private item is nobody else's business: 404, never 403
        assert api.get(f"/api/v1/items/{private.id}/comments", headers=bearer(tokens[viewer])).status_code == 404
        assert api.post(f"/api/v1/items/{private.id}/comments", headers=bearer(tokens[viewer]),
                        json={"noticed": "x"}).status_code == 404
    assert api.get(thread, headers=bearer(tokens["stranger"])).status_code == 404
    statuses = sorted(c.status.value for c in session.exec(select(Comment)).all())
    assert statuses == [CommentStatus.pending.value, "visible", "visible"]


def test_a_student_asks_people_who_can_see_the_item_for_feedback(client, session, new_client):
    school, student = _student(session, client)
    classmate, teacher = make_user(session, school), make_user(session, school, role=Role.teacher)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    private = make_note(session, student, title="Private")
    api, token = new_client(), make_token(client)
    people = api.get("/api/v1/feedback/recipients", headers=bearer(token)).json()["people"]
    assert [p["id"] for p in people] == [teacher.id, classmate.id]
    address = f"/api/v1/items/{private.id}/feedback-requests"
    blind = api.post(address, headers=bearer(token), json={"question": "Clear?", "recipient_ids": [classmate.id]})
    assert blind.status_code == 422 and "recipients" in blind.json()["errors"]
    sent = api.post(address, headers=bearer(token), json={"question": "Is it clear?", "recipient_ids": [teacher.id]})
    assert sent.status_code == 201, sent.text
    # As every create: where it can be read (a request has no page of its own, it is in its item's thread).
    assert sent.headers["location"] == f"/api/v1/items/{private.id}/comments"
    assert (sent.json()["status"], sent.json()["recipient_ids"]) == ("open", [teacher.id])
    assert session.exec(select(FeedbackRequest)).one().question == "Is it clear?"
    assert session.exec(select(Notification).where(Notification.user_id == teacher.id,
                                                   Notification.kind == NotificationKind.request_received)).one()
    assert api.get(f"/api/v1/items/{private.id}/comments", headers=bearer(token)).json()["open_requests"] == [
        sent.json()["id"]]


def test_only_the_student_who_asked_withdraws_a_request_and_it_leaves_the_inbox(client, session, new_client):
    school, student = _student(session, client)
    classmate, teacher = make_user(session, school), make_user(session, school, role=Role.teacher)
    make_class(session, school, teachers=[teacher], students=[student, classmate])
    shared = make_note(session, student, title="Shared", audience=Audience.class_)
    api, token = new_client(), make_token(client)
    sent = api.post(f"/api/v1/items/{shared.id}/feedback-requests", headers=bearer(token),
                    json={"question": "Is it clear?", "recipient_ids": [teacher.id, classmate.id]}).json()
    withdraw = f"/api/v1/feedback-requests/{sent['id']}/withdraw"
    others = {}
    for user in (classmate, teacher):
        browser = new_client()
        login(browser, user)
        others[user.id] = make_token(browser)
    inbox = api.get("/api/v1/inbox", headers=bearer(others[teacher.id])).json()["requests"]
    assert [r["id"] for r in inbox] == [sent["id"]]
    read_only = make_token(client, scopes="read")
    # A classmate it asks may not take it back (404: it isn't theirs), the teacher it asks neither (403: a student's
    # action), nor the student's own read-only token.
    for other, status in ((others[classmate.id], 404), (others[teacher.id], 403), (read_only, 403)):
        refused = api.post(withdraw, headers=bearer(other))
        assert refused.status_code == status and refused.headers["content-type"] == PROBLEM
    session.expire_all()
    assert session.get(FeedbackRequest, sent["id"]).status.value == "open"
    withdrawn = api.post(withdraw, headers=bearer(token))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json() == {**sent, "status": "withdrawn"}
    session.expire_all()
    assert session.get(FeedbackRequest, sent["id"]).closed_at is not None
    assert api.get("/api/v1/inbox", headers=bearer(others[teacher.id])).json()["requests"] == []
    assert api.get(f"/api/v1/items/{shared.id}/comments", headers=bearer(token)).json()["open_requests"] == []
    assert api.post(withdraw, headers=bearer(token)).json()["status"] == "withdrawn"  # again: as it is
    assert api.post("/api/v1/feedback-requests/999999/withdraw", headers=bearer(token)).status_code == 404


def test_a_nul_character_in_a_streamed_forms_text_is_a_bad_request_on_both_databases(client, session, new_client,
                                                                                    settings):
    """Found by schemathesis on PostgreSQL (which can't store U+0000): the streamed upload forms, the Add evidence
    page's and the API's, read no form for the request-wide NUL check, so a NUL in a tag was a server error."""
    _school, student = _student(session, client)
    token = make_token(client)
    photo = ("file", ("ok.png", png(), "image/png"))
    api = new_client().post("/api/v1/items/files", headers=bearer(token), files=[photo, ("tags", (None, "a\x00b"))])
    assert api.status_code == 400 and api.headers["content-type"] == PROBLEM
    page = client.post("/artefacts/upload", files=[("files", photo[1]), ("title", (None, "x\x00"))])
    assert page.status_code == 400
    assert session.exec(select(Artefact)).all() == [] and _stored_keys(settings, student) == []


def test_the_lists_run_a_constant_number_of_queries(client, session, new_client, count_queries):
    _school, student, _teacher, framework = _assessed_world(session, client)
    note = make_note(session, student, title="Talked about")
    api, token = new_client(), make_token(client)
    addresses = ("/api/v1/reflections?limit=100", "/api/v1/self-assessments", f"/api/v1/items/{note.id}/comments",
                 "/api/v1/frameworks")

    def add(count: int) -> None:
        for number in range(count):
            make_reflection(session, student, title=f"R{number}", artefact_ids=[note.id])
            for competency in framework.competencies:
                api.post(f"/api/v1/competencies/{competency.id}/ratings", headers=bearer(token),
                         json={"level_id": framework.levels[0].id, "reason": "Because", "artefact_ids": [note.id]})
            api.post(f"/api/v1/items/{note.id}/comments", headers=bearer(token),
                     json={"body": f"Note to self {number}"})

    def queries() -> list[int]:
        counts = []
        for address in addresses:
            api.get(address, headers=bearer(token))  # the token's last use is noted once a minute at most
            with count_queries() as counter:
                assert api.get(address, headers=bearer(token)).status_code == 200
            counts.append(counter.count)
        return counts

    add(2)
    few = queries()
    add(6)
    assert queries() == few


def test_an_upload_cut_short_or_failing_to_save_leaves_no_file_and_no_row(client, session, app, settings,
                                                                         monkeypatch):
    from fastapi.testclient import TestClient

    from app.services.portfolio import artefacts as artefact_service

    _school, student = _student(session, client)
    token = make_token(client)
    boundary = "cut-short"
    cut = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n"
           f"Content-Type: image/png\r\n\r\n").encode() + png()  # no closing boundary: the client went away
    with TestClient(app, raise_server_exceptions=False) as api:
        response = api.post("/api/v1/items/files", content=cut, headers={
            **bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM

        original = artefact_service.create_file_artefacts

        def saved_then_failed(**kwargs):
            original(**kwargs)  # the quota reserved and the row added: then the database write fails
            raise RuntimeError("the database went away")

        monkeypatch.setattr(artefact_service, "create_file_artefacts", saved_then_failed)
        failed = api.post("/api/v1/items/files", headers=bearer(token), files={"file": ("p.png", png(), "image/png")})
        assert failed.status_code == 500 and failed.headers["content-type"] == PROBLEM
    assert session.exec(select(Artefact)).all() == []
    assert _stored_keys(settings, student) == [] and _scratch(settings) == []
    session.refresh(student)
    assert student.storage_used_bytes == 0
