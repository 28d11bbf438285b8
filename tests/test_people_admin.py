"""An admin runs the school's people: adds them (a one-time password or a setup link), edits them, switches them off
and on, finds them; and deletes a leaver's account once the retention period has passed."""

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.models import (
    Artefact, AuditEvent, AuditEventKind, GuardianLink, Item, Role, SchoolClass, SetupLink, User, UserSession,
)
from app.models.base import utcnow
from app.services.jobs import job_runs
from tests.factories import PASSWORD, link_guardian, login, make_class, make_school, make_user, post_multipart
from tests.media import png


def _user(session, username: str) -> User | None:
    session.expire_all()
    return session.exec(select(User).where(User.username == username)).first()


def _events(session, kind: AuditEventKind) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.event == kind)).all())


def test_a_new_admin_adds_a_teacher_with_a_one_time_password_they_must_change(client, new_client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    assert 'href="/admin/people/new"' in client.get("/admin/people").text
    response = client.post("/admin/people/new", data={
        "display_name": "Ada Lovelace", "username": "Ada.L", "email": "Ada@School.org", "role": "teacher",
        "start_with": "password"})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    password = re.search(r'<code class="secret">([^<]+)</code>', response.text).group(1)
    teacher = _user(session, "ada.l")
    assert teacher.role is Role.teacher and teacher.email == "ada@school.org" and teacher.must_change_password
    assert teacher.school_id == school.id
    [event] = _events(session, AuditEventKind.account_created)
    assert event.actor_id == admin.id and event.subject_id == teacher.id and password not in str(event.details)

    browser = new_client()
    login(browser, "ada.l", password)
    assert browser.get("/teacher").headers["location"] == "/account/password"


def test_bad_input_is_shown_beside_each_field_and_nothing_is_made(client, session):
    school = make_school(session)
    taken = make_user(session, school, Role.teacher, email="taken@school.org")
    login(client, make_user(session, school, Role.admin))
    response = client.post("/admin/people/new", data={
        "display_name": " ", "username": taken.username.upper(), "email": "taken@school.org", "role": "wizard",
        "start_with": "password"})
    assert response.status_code == 422
    page = response.text
    assert 'id="display_name-error"' in page and "Write the person" in page
    assert 'id="username-error"' in page and f"The username “{taken.username}” is taken." in page
    assert 'id="email-error"' in page and 'id="role-error"' in page
    response = client.post("/admin/people/new", data={"display_name": "X", "username": "a b", "role": "teacher"})
    assert response.status_code == 422 and "Use 3 to 40 letters" in response.text
    assert session.exec(select(User).where(User.display_name == "X")).first() is None


def test_a_setup_link_lets_the_person_choose_a_password_once(client, new_client, session):
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))
    response = client.post("/admin/people/new", data={
        "display_name": "Sam Parent", "username": "sam.parent", "role": "guardian", "start_with": "link"})
    assert response.status_code == 200
    link = re.search(r"<code data-setup-link>http://[^/]+(/setup/[A-Za-z0-9_-]+)</code>", response.text).group(1)
    person = _user(session, "sam.parent")
    stored = session.exec(select(SetupLink).where(SetupLink.user_id == person.id)).one()
    assert link.rsplit("/", 1)[1] not in stored.token_hash  # only the hash is kept

    visitor = new_client()
    assert "Sam Parent" in visitor.get(link).text
    refused = visitor.post(link, data={"password": "short", "confirm": "short"})
    assert refused.status_code == 422 and 'id="password-error"' in refused.text
    response = visitor.post(link, data={"password": "a long new password", "confirm": "a long new password"})
    assert response.status_code == 303 and response.headers["location"] == "/family"
    assert visitor.get("/family").status_code == 200
    assert visitor.get(link).status_code == 404  # used up
    login(new_client(), "sam.parent", "a long new password")
    assert _events(session, AuditEventKind.setup_link_used)


def test_an_expired_setup_link_does_not_work(client, new_client, session):
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))
    response = client.post("/admin/people/new", data={
        "display_name": "Late Larry", "username": "larry", "role": "teacher", "start_with": "link"})
    link = re.search(r"(/setup/[A-Za-z0-9_-]+)</code>", response.text).group(1)
    stored = session.exec(select(SetupLink)).one()
    stored.expires_at = utcnow() - timedelta(minutes=1)
    session.add(stored)
    session.commit()
    visitor = new_client()
    assert visitor.get(link).status_code == 404
    assert visitor.post(link, data={"password": "a long new password", "confirm": "a long new password"}).status_code == 404


def test_setup_link_is_emailed_when_mail_is_set_up(client, session, app, monkeypatch):
    sent = []
    monkeypatch.setattr("app.services.accounts.setup_links.send_email", lambda **kwargs: sent.append(kwargs))
    app.state.settings = app.state.settings.model_copy(update={"smtp_host": "mail.invalid"})
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))
    response = client.post("/admin/people/new", data={
        "display_name": "Eve Teacher", "username": "eve", "email": "eve@school.org", "role": "teacher",
        "start_with": "link"})
    assert response.status_code == 200 and "was emailed to eve@school.org" in response.text
    [message] = sent
    assert message["to"] == "eve@school.org" and "/setup/" in message["text"] and "eve" in message["text"]


def test_editing_a_person_checks_usernames_and_records_what_changed(client, session):
    school = make_school(session)
    student, other = make_user(session, school), make_user(session, school)
    login(client, make_user(session, school, Role.admin))
    assert student.display_name in client.get(f"/admin/people/{student.id}").text
    taken = client.post(f"/admin/people/{student.id}", data={
        "display_name": "Maya Chen", "username": other.username, "email": "", "role": "student"})
    assert taken.status_code == 422 and 'id="username-error"' in taken.text
    assert _user(session, student.username).display_name == student.display_name
    response = client.post(f"/admin/people/{student.id}", data={
        "display_name": "Maya Chen", "username": "maya.chen", "email": "maya@school.org", "role": "student"})
    assert response.status_code == 303
    changed = _user(session, "maya.chen")
    assert changed.display_name == "Maya Chen" and changed.email == "maya@school.org"
    [event] = _events(session, AuditEventKind.account_updated)
    assert event.details["changed"] == ["display_name", "username", "email"]


def test_a_role_does_not_change_under_a_class_or_a_family(client, session):
    school = make_school(session)
    student, guardian = make_user(session, school), make_user(session, school, Role.guardian)
    make_class(session, school, students=[student])
    link_guardian(session, guardian, student)
    login(client, make_user(session, school, Role.admin))
    response = client.post(f"/admin/people/{student.id}", data={
        "display_name": student.display_name, "username": student.username, "role": "teacher"})
    assert response.status_code == 422 and 'id="role-error"' in response.text
    assert _user(session, student.username).role is Role.student


def test_the_last_admin_can_neither_demote_nor_switch_themselves_off(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    demoted = client.post(f"/admin/people/{admin.id}", data={
        "display_name": admin.display_name, "username": admin.username, "role": "teacher"})
    assert demoted.status_code == 422 and "only active admin" in demoted.text
    client.post(f"/admin/people/{admin.id}/deactivate")
    assert _user(session, admin.username).is_active and _user(session, admin.username).role is Role.admin
    second = make_user(session, school, Role.admin)
    assert client.post(f"/admin/people/{second.id}/deactivate").status_code == 303
    assert not _user(session, second.username).is_active


def test_a_switched_off_person_is_signed_out_cannot_sign_in_and_leaves_the_lists(client, new_client, session):
    school = make_school(session)
    teacher, student = make_user(session, school, Role.teacher), make_user(session, school, display_name="Quinn Q")
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    student_browser, teacher_browser = new_client(), new_client()
    login(student_browser, student)
    login(teacher_browser, teacher)
    assert "Quinn Q" in teacher_browser.get(f"/classes/{school_class.id}").text
    login(client, make_user(session, school, Role.admin))
    note = student_browser.post("/artefacts/note", data={"title": "Kept", "body": "x", "audience": "private"})
    assert note.status_code == 303

    assert client.post(f"/admin/people/{student.id}/deactivate").status_code == 303
    assert student_browser.get("/student").headers["location"].startswith("/login")
    assert session.exec(select(UserSession).where(UserSession.user_id == student.id)).first() is None
    refused = new_client().post("/login", data={"identifier": student.username, "password": PASSWORD})
    assert refused.status_code == 401 and "folio_session" not in refused.cookies
    assert "Quinn Q" not in teacher_browser.get(f"/classes/{school_class.id}").text
    assert ">Quinn Q</a>" not in client.get("/admin/people").text
    assert ">Quinn Q</a>" in client.get("/admin/people?status=inactive").text
    assert session.exec(select(Artefact).where(Artefact.owner_id == student.id)).first() is not None

    assert client.post(f"/admin/people/{student.id}/reactivate").status_code == 303
    login(new_client(), student)
    kinds = [e.event for e in session.exec(select(AuditEvent).where(AuditEvent.subject_id == student.id)).all()]
    assert AuditEventKind.account_deactivated in kinds and AuditEventKind.account_reactivated in kinds


def test_people_are_found_by_name_role_class_and_status_a_page_at_a_time(client, session):
    school = make_school(session)
    in_class = [make_user(session, school, display_name=f"Pupil {n:02}") for n in range(30)]
    make_class(session, school, students=in_class[:3], name="Blue")
    blue = session.exec(select(User).where(User.display_name == "Pupil 00")).one()
    make_user(session, school, Role.teacher, display_name="Grace Hopper", email="grace@school.org")
    make_user(session, make_school(session), display_name="Pupil elsewhere")
    login(client, make_user(session, school, Role.admin))
    first = client.get("/admin/people?role=student").text
    assert "30 people" in first and "Pupil 00" in first and "Pupil 29" not in first and "Page 1 of 2" in first
    assert "Pupil 29" in client.get("/admin/people?role=student&page=2").text
    assert "Pupil elsewhere" not in client.get("/admin/people?q=elsewhere").text
    assert "Grace Hopper" in client.get("/admin/people?q=GRACE@school").text
    assert "1 person" in client.get("/admin/people?q=hopper grace").text
    blue_class = session.exec(select(SchoolClass).where(SchoolClass.name == "Blue")).one()
    page = client.get(f"/admin/people?class_id={blue_class.id}").text
    assert "3 people" in page and blue.display_name in page
    assert "0 people" in client.get("/admin/people?q=100%25").text
    assert client.get("/admin/people?class_id=99999999").status_code == 200  # another school's or no class: ignored


def test_another_schools_admin_cannot_touch_a_person(client, session):
    school, elsewhere = make_school(session), make_school(session)
    student = make_user(session, school)
    login(client, make_user(session, elsewhere, Role.admin))
    assert client.get(f"/admin/people/{student.id}").status_code == 404
    assert client.post(f"/admin/people/{student.id}/deactivate").status_code == 404
    assert _user(session, student.username).is_active


def _leaver_with_a_photo(session, new_client, school):
    student = make_user(session, school, display_name="Leaving Lou")
    browser = new_client()
    login(browser, student)
    response = post_multipart(browser, "/artefacts/upload", {"title": "Lou's photo", "audience": "private"},
                              files={"files": ("photo.png", png(), "image/png")})
    assert response.status_code == 303
    return student


def test_a_leaver_is_handed_their_archive_and_deleted_after_the_retention_period(client, new_client, session, app,
                                                                                  settings):
    school = make_school(session)
    student = _leaver_with_a_photo(session, new_client, school)
    guardian = make_user(session, school, Role.guardian)
    link_guardian(session, guardian, student)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    student_id, username, admin_id = student.id, student.username, admin.id

    response = client.post(f"/admin/people/{student_id}/archive")
    assert response.status_code == 303 and response.headers["location"].startswith("/jobs/")
    job_runs.run_pending(engine=app.state.engine, settings=app.state.settings)
    download = client.get(response.headers["location"] + "/download")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"

    refused = client.post(f"/admin/people/{student_id}/delete", data={"confirm_username": username})
    assert refused.status_code == 409 and "Switch the account off first" in refused.text
    client.post(f"/admin/people/{student_id}/deactivate")
    too_soon = client.post(f"/admin/people/{student_id}/delete", data={"confirm_username": username})
    assert too_soon.status_code == 409 and f"{settings.retention_days} days" in too_soon.text

    session.expire_all()
    artefact = session.exec(select(Artefact).where(Artefact.owner_id == student_id)).one()
    stored = [artefact.stored_name, artefact.thumb_small, artefact.thumb_large]
    assert all((settings.upload_dir / name).is_file() for name in stored if name)
    lou = session.get(User, student_id)
    lou.deactivated_at = utcnow() - timedelta(days=settings.retention_days + 1)
    session.add(lou)
    session.commit()
    unconfirmed = client.post(f"/admin/people/{student_id}/delete", data={"confirm_username": "nope"})
    assert unconfirmed.status_code == 422 and 'id="confirm_username-error"' in unconfirmed.text
    assert client.post(f"/admin/people/{student_id}/delete",
                       data={"confirm_username": username}).status_code == 303

    session.expire_all()
    assert session.get(User, student_id) is None
    assert session.exec(select(Item).where(Item.owner_id == student_id)).first() is None
    assert session.exec(select(GuardianLink).where(GuardianLink.student_id == student_id)).first() is None
    assert not any((settings.upload_dir / name).exists() for name in stored if name)
    [event] = _events(session, AuditEventKind.account_deleted)
    assert event.actor_id == admin_id and event.object_description == "Leaving Lou"
    assert "photo" not in str(event.details) and event.details["files"] >= 1
    assert session.get(User, guardian.id) is not None


def test_only_a_students_account_is_deleted_here(client, session):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    login(client, make_user(session, school, Role.admin))
    response = client.post(f"/admin/people/{teacher.id}/delete", data={"confirm_username": teacher.username})
    assert response.status_code == 409 and session.get(User, teacher.id) is not None


def test_a_switched_off_student_is_not_added_to_a_class(client, session):
    school = make_school(session)
    student = make_user(session, school)
    school_class = make_class(session, school)
    login(client, make_user(session, school, Role.admin))
    client.post(f"/admin/people/{student.id}/deactivate")
    response = client.post(f"/classes/{school_class.id}/students", data={"username": student.username})
    assert response.status_code == 422 and "is taken" in response.text
    assert client.post(f"/admin/people/{student.id}/reactivate").status_code == 303
    assert client.post(f"/classes/{school_class.id}/students", data={"username": student.username}).status_code == 200


def test_the_people_list_runs_the_same_number_of_queries_for_any_page(client, session, count_queries):
    school = make_school(session)
    pupils = [make_user(session, school) for _ in range(30)]
    make_class(session, school, students=pupils[:20])
    login(client, make_user(session, school, Role.admin))
    counts = []
    for url in ("/admin/people?role=teacher", "/admin/people?role=student", "/admin/people"):
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    assert len(set(counts)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_admins_adding_the_same_username_at_once_get_a_message_not_an_error(client, session, app, monkeypatch):
    """On PostgreSQL two requests can both pass the "is it taken?" check; the second save is refused by the unique
    index and answered with the form and a message. (SQLite's writers take turns, so there the check sees it.)"""
    from sqlmodel import Session as DbSession

    from app.services.accounts import people_admin

    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    login(client, admin)
    checked = people_admin.parse_person

    def check_then_lose_the_race(**kwargs):
        result = checked(**kwargs)
        if not getattr(check_then_lose_the_race, "raced", False):
            check_then_lose_the_race.raced = True
            with DbSession(app.state.engine) as other:  # the other admin's request commits first
                make_user(other, school, Role.teacher, username="ada.l")
        return result

    monkeypatch.setattr(people_admin, "parse_person", check_then_lose_the_race)
    response = client.post("/admin/people/new", data={
        "display_name": "Ada Lovelace", "username": "Ada.L", "email": "", "role": "teacher", "start_with": "password"})
    assert response.status_code == 422
    assert "The username “ada.l” is taken." in response.text
    session.expire_all()
    assert len(session.exec(select(User).where(User.username == "ada.l")).all()) == 1
