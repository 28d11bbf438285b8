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


def test_forwarded_client_believes_only_trusted_proxies():
    from app.config import parse_networks
    from app.security import forwarded_client

    trusted = parse_networks("127.0.0.1, ::1, 10.0.0.0/8")
    # An untrusted peer is who it is, whatever it claims.
    assert forwarded_client(peer="203.0.113.5", forwarded_for=["198.51.100.7"], trusted=trusted) == "203.0.113.5"
    # A trusted proxy: the nearest address it didn't come through, over several headers and hops.
    assert forwarded_client(peer="127.0.0.1", forwarded_for=["1.2.3.4, 198.51.100.7", "10.0.0.2"],
                            trusted=trusted) == "198.51.100.7"
    # Ports and brackets are dropped; IPv4 seen through a dual-stack socket matches IPv4 proxies.
    assert forwarded_client(peer="::ffff:10.0.0.3", forwarded_for=["198.51.100.7:5123"], trusted=trusted) == "198.51.100.7"
    assert forwarded_client(peer="::1", forwarded_for=["[2001:db8::7]:443"], trusted=trusted) == "2001:db8::7"
    # No header, or only proxies in it: the request started at the first of them.
    assert forwarded_client(peer="127.0.0.1", forwarded_for=[], trusted=trusted) == "127.0.0.1"
    assert forwarded_client(peer="127.0.0.1", forwarded_for=["10.0.0.9, 10.0.0.2"], trusted=trusted) == "10.0.0.9"
    # Trusting none believes nobody.
    assert forwarded_client(peer="127.0.0.1", forwarded_for=["198.51.100.7"], trusted=()) == "127.0.0.1"


def test_a_mistyped_trusted_proxy_stops_the_start():
    from app.config import Settings

    with pytest.raises(ValueError, match="10.0.0.0/33"):
        Settings(_env_file=None, trusted_proxies="127.0.0.1, 10.0.0.0/33")
