"""Signing in and out, throttling, sessions, password change and reset."""

from datetime import timedelta

from sqlmodel import select

from app.models import LoginFailure, Role, User, UserSession
from app.models.base import utcnow
from tests.factories import PASSWORD, login, make_class, make_school, make_user


def test_sign_in_with_username_lands_on_role_home(client, session):
    student = make_user(session, make_school(session), Role.student, username="maya")
    response = client.post("/login", data={"identifier": "Maya", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/student"
    page = client.get("/student")
    assert page.status_code == 200
    assert student.display_name in page.text


def test_sign_in_with_email_is_case_insensitive(client, session):
    make_user(session, make_school(session), Role.teacher, email="Priya@Example.org")
    response = client.post("/login", data={"identifier": "PRIYA@example.org", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/teacher"


def test_wrong_password_and_unknown_account_get_the_same_message(client, session):
    make_user(session, make_school(session), username="maya")
    wrong = client.post("/login", data={"identifier": "maya", "password": "not-it"})
    unknown = client.post("/login", data={"identifier": "nobody", "password": "not-it"})
    assert wrong.status_code == unknown.status_code == 401
    message = "That username or email and password don&#39;t match"
    assert message in wrong.text and message in unknown.text
    assert 'value="maya"' in wrong.text  # what was typed is kept
    assert "folio_session" not in client.cookies


def test_empty_form_explains_each_field(client):
    response = client.post("/login", data={"identifier": " ", "password": ""})
    assert response.status_code == 422
    assert "Enter your username or email address." in response.text
    assert "Enter your password." in response.text
    assert 'aria-invalid="true"' in response.text


def test_session_token_is_random_and_only_its_hash_is_stored(client, session):
    user = make_user(session, make_school(session))
    login(client, user)
    token = client.cookies.get("folio_session")
    stored = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    assert len(token) >= 40
    assert stored.token_hash != token and token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_session_cookie_flags(client, session, tmp_path, database_url):
    user = make_user(session, make_school(session))
    response = client.post("/login", data={"identifier": user.username, "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


def test_secure_cookie_when_configured(tmp_path, database_url):
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    from app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, database_url, cookie_secure=True))
    with Session(app.state.engine, expire_on_commit=False) as session:
        user = make_user(session, make_school(session))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        response = client.post("/login", data={"identifier": user.username, "password": PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()
    assert "strict-transport-security" in response.headers
    app.state.engine.dispose()


def test_sign_out_ends_the_session_on_the_server(client, session, new_client):
    user = make_user(session, make_school(session))
    login(client, user)
    stolen = client.cookies.get("folio_session")
    assert client.post("/logout").headers["location"] == "/login"
    assert client.get("/student").status_code == 303
    replay = new_client()
    replay.cookies.set("folio_session", stolen)
    assert replay.get("/student").headers["location"].startswith("/login")


def test_idle_session_expires(client, session, app):
    user = make_user(session, make_school(session))
    login(client, user)
    stored = session.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    stored.last_seen_at = utcnow() - timedelta(minutes=app.state.settings.session_idle_minutes + 1)
    session.add(stored)
    session.commit()
    response = client.get("/student")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert session.exec(select(UserSession).where(UserSession.user_id == user.id)).first() is None


def test_protected_page_redirects_to_login_and_back(client, session):
    user = make_user(session, make_school(session), Role.admin)
    response = client.get("/admin/people?role=teacher")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/people?role=teacher"
    form = client.get(response.headers["location"])
    assert 'name="next" value="/admin/people?role=teacher"' in form.text
    signed_in = client.post(
        "/login", data={"identifier": user.username, "password": PASSWORD, "next": "/admin/people?role=teacher"}
    )
    assert signed_in.headers["location"] == "/admin/people?role=teacher"


def test_next_never_leaves_the_site(client, session):
    user = make_user(session, make_school(session))
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.cookies.clear()
        response = client.post("/login", data={"identifier": user.username, "password": PASSWORD, "next": target})
        assert response.headers["location"] == "/student"


def test_htmx_request_without_session_is_told_to_navigate(client):
    response = client.get("/student", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_throttling_after_repeated_failures_without_revealing_accounts(client, session, app):
    make_user(session, make_school(session), username="maya")
    limit = app.state.settings.login_max_failures
    for name in ("maya", "ghost"):
        for _ in range(limit):
            assert client.post("/login", data={"identifier": name, "password": "wrong"}).status_code == 401
        blocked = client.post("/login", data={"identifier": name, "password": "wrong"})
        assert blocked.status_code == 429
        assert "Too many unsuccessful attempts" in blocked.text
        assert int(blocked.headers["Retry-After"]) > 0
    # Even the right password waits: otherwise guessing could continue during the pause.
    assert client.post("/login", data={"identifier": "maya", "password": PASSWORD}).status_code == 429
    # The typed names are not stored in clear.
    keys = session.exec(select(LoginFailure.account_key)).all()
    assert "maya" not in keys and all(len(k) == 64 for k in keys)


def test_throttle_window_passes_and_success_clears_failures(client, session, app):
    make_user(session, make_school(session), username="maya")
    for _ in range(app.state.settings.login_max_failures):
        client.post("/login", data={"identifier": "maya", "password": "wrong"})
    for failure in session.exec(select(LoginFailure)).all():
        failure.created_at = utcnow() - timedelta(minutes=app.state.settings.login_window_minutes + 1)
        session.add(failure)
    session.commit()
    assert client.post("/login", data={"identifier": "maya", "password": PASSWORD}).status_code == 303
    client.cookies.clear()
    assert client.post("/login", data={"identifier": "maya", "password": "wrong"}).status_code == 401


def test_throttling_by_address_across_accounts(client_from, session):
    # Password spraying: one address trying many names is bounded too (a small limit here, to keep the test short).
    sprayer = client_from("203.0.113.5", login_max_failures_per_address=12)
    for n in range(12):
        assert sprayer.post("/login", data={"identifier": f"name{n}", "password": "x"}).status_code == 401
    assert sprayer.post("/login", data={"identifier": "another", "password": "x"}).status_code == 429
    # Another address is not affected.
    elsewhere = client_from("198.51.100.7", login_max_failures_per_address=12)
    assert elsewhere.post("/login", data={"identifier": "another", "password": "x"}).status_code == 401


def test_a_locked_account_still_signs_in_from_another_address(client_from, session, settings):
    make_user(session, make_school(session), Role.teacher, username="teacher2")
    attacker, teacher = client_from("203.0.113.5"), client_from("198.51.100.7")
    for _ in range(settings.login_max_failures):
        assert attacker.post("/login", data={"identifier": "teacher2", "password": "guess"}).status_code == 401
    # The attacker's address waits, even with the right password ...
    assert attacker.post("/login", data={"identifier": "teacher2", "password": PASSWORD}).status_code == 429
    # ... but the real teacher, elsewhere, signs in.
    assert teacher.post("/login", data={"identifier": "teacher2", "password": PASSWORD}).status_code == 303
    # And the teacher's success doesn't forgive the attacker's failures.
    assert attacker.post("/login", data={"identifier": "teacher2", "password": "guess"}).status_code == 429


def test_the_per_account_ceiling_holds_across_many_addresses(client_from, session, settings):
    make_user(session, make_school(session), Role.teacher, username="teacher2")
    ceiling = settings.login_max_failures_per_account
    assert ceiling > settings.login_max_failures
    for name, network in (("teacher2", "203.0.113"), ("ghost", "192.0.2")):
        failures, n = 0, 0
        while failures < ceiling:
            # Each address stays under its own limit: only the ceiling across addresses can stop this.
            attacker = client_from(f"{network}.{n}")
            for _ in range(min(settings.login_max_failures - 1, ceiling - failures)):
                assert attacker.post("/login", data={"identifier": name, "password": "guess"}).status_code == 401
                failures += 1
            n += 1
        # Now the account waits everywhere, even at a clean address with the right password; an account that
        # doesn't exist answers the same.
        blocked = client_from("198.51.100.7").post("/login", data={"identifier": name, "password": PASSWORD})
        assert blocked.status_code == 429 and "Too many unsuccessful attempts" in blocked.text


def test_a_class_behind_one_address_signs_in_despite_typos(client_from, session):
    school = make_school(session)
    students = [make_user(session, school) for _ in range(30)]
    school_nat = client_from("192.0.2.10")
    for n, student in enumerate(students):
        for _ in range(1 + n % 2):  # 45 typos in all
            assert school_nat.post("/login", data={"identifier": student.username, "password": "oops"}).status_code == 401
    for student in students:
        assert school_nat.post("/login", data={"identifier": student.username, "password": PASSWORD}).status_code == 303
        school_nat.cookies.clear()


def test_forwarded_for_is_ignored_from_an_untrusted_peer(client_from, session, settings):
    make_user(session, make_school(session), Role.teacher, username="teacher2")
    outsider = client_from("203.0.113.5")
    for n in range(settings.login_max_failures):
        response = outsider.post("/login", data={"identifier": "teacher2", "password": "guess"},
                                 headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert response.status_code == 401
    again = outsider.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                          headers={"X-Forwarded-For": "198.51.100.99"})
    assert again.status_code == 429


def test_forwarded_for_is_honoured_from_a_trusted_proxy(client_from, session, settings):
    make_user(session, make_school(session), Role.teacher, username="teacher2")
    proxy = client_from("127.0.0.1")  # loopback is trusted by default: a reverse proxy on the same machine
    for _ in range(settings.login_max_failures):
        response = proxy.post("/login", data={"identifier": "teacher2", "password": "guess"},
                              headers={"X-Forwarded-For": "203.0.113.5"})
        assert response.status_code == 401
    attacker = proxy.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                          headers={"X-Forwarded-For": "203.0.113.5"})
    assert attacker.status_code == 429
    # What the client itself sent comes first; the proxy appends the address it saw, and that one counts.
    spoofed = proxy.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                         headers={"X-Forwarded-For": "198.51.100.7, 203.0.113.5"})
    assert spoofed.status_code == 429
    teacher = proxy.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                         headers={"X-Forwarded-For": "198.51.100.7"})
    assert teacher.status_code == 303


def test_only_the_configured_proxies_are_trusted(client_from, session, settings):
    make_user(session, make_school(session), Role.teacher, username="teacher2")
    limit = settings.login_max_failures
    # Trusting a proxy network means loopback is no longer trusted.
    local = client_from("127.0.0.1", trusted_proxies="10.0.0.0/8")
    for n in range(limit):
        local.post("/login", data={"identifier": "teacher2", "password": "guess"},
                   headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert local.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                      headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    proxy = client_from("10.1.2.3", trusted_proxies="10.0.0.0/8")
    assert proxy.post("/login", data={"identifier": "teacher2", "password": PASSWORD},
                      headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 303


def test_change_password(client, session, new_client):
    user = make_user(session, make_school(session))
    login(client, user)
    other_device = new_client()
    login(other_device, user)

    bad = client.post("/account/password", data={
        "current_password": "nope", "new_password": "short", "confirm_password": "short"})
    assert bad.status_code == 422
    assert "That isn&#39;t your current password." in bad.text
    assert "Use at least 8 characters" in bad.text
    mismatch = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a new sentence", "confirm_password": "a new sentenc"})
    assert "The two new passwords don&#39;t match." in mismatch.text

    ok = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "a new sentence", "confirm_password": "a new sentence"})
    assert ok.status_code == 303
    assert client.get("/student").status_code == 200  # this browser stays signed in
    assert other_device.get("/student").status_code == 303  # the other one is signed out
    client.post("/logout")
    assert client.post("/login", data={"identifier": user.username, "password": PASSWORD}).status_code == 401
    login(client, user, "a new sentence")


def test_teacher_resets_own_student_who_must_then_choose_a_password(client, session, new_client):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school, Role.student)
    make_class(session, school, teachers=[teacher], students=[student])
    student_browser = new_client()
    login(student_browser, student)

    login(client, teacher)
    form = client.get(f"/people/{student.id}/password")
    assert form.status_code == 200
    done = client.post(f"/people/{student.id}/password", data={"new_password": "temp-pass-42", "must_change": "true"})
    assert done.status_code == 200 and "temp-pass-42" in done.text
    assert done.headers["cache-control"] == "no-store"
    assert student_browser.get("/student").status_code == 303  # signed out everywhere

    login(student_browser, student, "temp-pass-42")
    forced = student_browser.get("/student")
    assert forced.status_code == 303 and forced.headers["location"] == "/account/password"
    student_browser.post("/account/password", data={
        "current_password": "temp-pass-42", "new_password": "my own secret", "confirm_password": "my own secret"})
    assert student_browser.get("/student").status_code == 200


def test_reset_refuses_a_weak_password_and_changes_nothing(client, session):
    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    teacher = make_user(session, school, Role.teacher)
    login(client, admin)
    response = client.post(f"/people/{teacher.id}/password", data={"new_password": "abc"})
    assert response.status_code == 422 and "Use at least 8 characters" in response.text
    session.expire_all()
    assert session.get(User, teacher.id).must_change_password is False
    client.post("/logout")
    login(client, teacher)
