"""The shell every page shares: landmarks, navigation by role, friendly errors, flash messages."""

from app.models import Role
from tests.factories import login, make_school, make_user


def test_shell_has_landmarks_skip_link_and_role_navigation(client, session):
    login(client, make_user(session, make_school(session), Role.admin, display_name="Alex Morgan"))
    html = client.get("/admin").text
    assert '<a class="skip-link" href="#main">Skip to main content</a>' in html
    assert '<main id="main"' in html and "<header" in html and "<footer" in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert '<a href="/admin" aria-current="page">Home</a>' in html
    assert 'href="/admin/people"' in html and "Alex Morgan" in html
    assert 'action="/logout"' in html


def test_student_navigation_has_no_admin_links(client, session):
    login(client, make_user(session, make_school(session), Role.student))
    assert "/admin/people" not in client.get("/student").text


def test_friendly_404_keeps_the_navigation(client, session):
    login(client, make_user(session, make_school(session), Role.teacher))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "We couldn&#39;t find that page" in response.text
    assert 'href="/teacher"' in response.text


def test_friendly_404_for_visitors(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404 and "We couldn&#39;t find that page" in response.text
    assert "site-nav" not in response.text


def test_flash_message_shows_once(client, session):
    login(client, make_user(session, make_school(session)))
    response = client.post("/logout")
    page = client.get(response.headers["location"])
    assert "You have signed out." in page.text
    assert "You have signed out." not in client.get("/login").text


def test_malformed_form_gets_a_400_page(client, session):
    login(client, make_user(session, make_school(session), Role.admin))
    response = client.get("/admin/people?page=lots")
    assert response.status_code == 400
    assert "That request didn&#39;t make sense" in response.text


def test_templates_are_checked_for_changes_on_every_use_only_in_development(tmp_path, database_url, monkeypatch):
    # Jinja's auto_reload stats every template a page uses (each include of a timeline row too) on every render.
    import os

    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    stats: list[str] = []
    real_getmtime = os.path.getmtime
    monkeypatch.setattr(os.path, "getmtime", lambda path: stats.append(path) or real_getmtime(path))
    for environment, checks in (("production", False), ("development", True)):
        app = create_app(make_settings(tmp_path, database_url, environment=environment))
        with TestClient(app) as browser:
            assert browser.get("/login").status_code == 200  # compiles the templates
            stats.clear()
            assert browser.get("/login").status_code == 200
        app.state.engine.dispose()
        assert bool(stats) is checks, (environment, stats)


def test_htmx_history_restore_gets_the_whole_page_and_caches_keep_the_two_apart(client, new_client, session):
    """Issue 13: htmx sends HX-Request when it restores history after Back; a bare fragment became the page."""
    from tests.factories import link_guardian, make_note

    school = make_school(session)
    student = make_user(session, school, display_name="Maya")
    make_note(session, student, title="Volcano notes")
    admin = make_user(session, school, Role.admin)
    guardian = make_user(session, school, Role.guardian)
    link_guardian(session, guardian, student)
    login(client, student)
    swap = {"HX-Request": "true"}
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Current-URL": "/student"}
    staff, family = new_client(), new_client()
    login(staff, admin)
    login(family, guardian)
    for browser, url in ((client, "/student?kind=note"), (staff, "/admin/people?q=Maya"),
                         (family, f"/family/children/{student.id}?page=1")):
        fragment = browser.get(url, headers=swap)
        assert fragment.status_code == 200 and "<html" not in fragment.text, url
        whole = browser.get(url, headers=restore)
        assert whole.status_code == 200 and "<html" in whole.text and 'class="site-nav"' in whole.text, url
        for response in (fragment, whole, browser.get(url)):
            vary = {part.strip() for part in response.headers["Vary"].split(",")}
            assert {"HX-Request", "HX-History-Restore-Request"} <= vary, url
