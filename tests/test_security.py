"""CSRF protection and the security headers on every kind of response."""

import pytest

from app.models import User
from tests.factories import PASSWORD, login, make_school, make_user

CHANGE = {"current_password": PASSWORD, "new_password": "attacker chosen", "confirm_password": "attacker chosen"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "https://evil.example", "HX-Request": "true"},
    ],
)
def test_cross_site_post_is_refused_and_changes_nothing(client, session, headers):
    user = make_user(session, make_school(session))
    login(client, user)
    response = client.post("/account/password", data=CHANGE, headers=headers)
    assert response.status_code == 403
    assert "sent from another website" in response.text
    session.expire_all()
    client.post("/logout")
    login(client, session.get(User, user.id))  # the old password still works


def test_cross_site_logout_is_refused(client, session):
    login(client, make_user(session, make_school(session)))
    assert client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.get("/student").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "same-origin", "HX-Request": "true"},
        {"Origin": "http://testserver"},
        {},  # not a browser: no ambient credentials to abuse
    ],
)
def test_same_origin_post_is_accepted(client, session, headers):
    user = make_user(session, make_school(session))
    response = client.post("/login", data={"identifier": user.username, "password": PASSWORD}, headers=headers)
    assert response.status_code == 303


def test_cross_site_get_is_harmless_and_allowed(client):
    assert client.get("/login", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _assert_secure(response):
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    for name, value in EXPECTED.items():
        assert response.headers[name] == value


def test_headers_on_pages_redirects_errors_and_static_files(client, session, app):
    _assert_secure(client.get("/login"))
    _assert_secure(client.get("/student"))  # redirect
    _assert_secure(client.get("/no-such-page"))
    static = client.get("/static/css/app.css?v=1")
    _assert_secure(static)
    assert "immutable" in static.headers["cache-control"]
    _assert_secure(client.post("/logout", headers={"Sec-Fetch-Site": "cross-site"}))


def test_headers_and_friendly_page_on_server_error(tmp_path, database_url):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(tmp_path, database_url))

    @app.get("/explode")
    def explode():
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/explode")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "boom" not in response.text
    _assert_secure(response)
    app.state.engine.dispose()


def test_no_page_loads_anything_from_another_host(client, session):
    from app.models import Role

    login(client, make_user(session, make_school(session), Role.admin))
    for path in ("/admin", "/admin/people", "/account", "/account/password", "/nope"):
        html = client.get(path).text
        for attribute in ('src="http', "src='http", 'href="http', 'src="//', 'href="//'):
            assert attribute not in html, (path, attribute)
