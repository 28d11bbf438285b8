"""Single sign-on, end to end against a real OpenID Connect provider (oidc-provider on Node, tests/oidc/): the good
sign-in, every way it must fail (state, nonce, expiry, domain, unknown and switched-off people), and password
sign-in turned off for a role."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.config import ROLE_NAMES, Settings
from app.main import create_app
from app.models import AuditEvent, AuditEventKind, Role, SetupLink, User, UserSession
from app.services.accounts import oidc
from app.services.accounts import setup_links
from tests.conftest import TEST_SECRET, make_settings, unavailable
from tests.factories import PASSWORD, login, make_class, make_school, make_user
from tests.oidc_server import OidcUnavailable, ThrowawayOidcProvider

CALLBACK = "http://testserver/sso/callback"


@pytest.fixture(scope="module")
def provider():
    server = ThrowawayOidcProvider(redirect_uris=[CALLBACK])
    try:
        server.start()
    except OidcUnavailable as exc:
        unavailable(f"OpenID Connect provider unavailable: {exc}")
    yield server
    server.stop()


def sso_settings(provider: ThrowawayOidcProvider) -> dict:
    return dict(oidc_issuer=provider.issuer, oidc_client_id=provider.client_id,
                oidc_client_secret=provider.client_secret, oidc_allowed_domains="school.test",
                oidc_button_label="Test ID")


@pytest.fixture
def settings(tmp_path, database_url, storage_url, provider) -> Settings:
    return make_settings(tmp_path, database_url, storage_url=storage_url, **sso_settings(provider))


@pytest.fixture
def client_with(tmp_path, database_url, provider):
    """A browser on an app with these settings over the test's database (and single sign-on to the provider)."""
    apps, clients = [], []

    def make(**overrides) -> TestClient:
        application = create_app(make_settings(tmp_path, database_url, **(sso_settings(provider) | overrides)))
        apps.append(application)
        clients.append(TestClient(application, base_url="http://testserver", follow_redirects=False))
        return clients[-1]

    yield make
    for test_client in clients:
        test_client.close()
    for application in apps:
        application.state.engine.dispose()


def sso_sign_in(client: TestClient, provider: ThrowawayOidcProvider, login: str, *, next: str = "",
                tamper=lambda url: url):
    """Click "Sign in with Test ID", sign in at the provider as `login`, and come back: Folio's answer."""
    start = client.get("/sso/start" + (f"?{urlencode({'next': next})}" if next else ""))
    assert start.status_code == 303, start.text
    callback = provider.sign_in(tamper(start.headers["location"]), login=login)
    assert callback.startswith(CALLBACK + "?"), callback
    return client.get(callback.removeprefix("http://testserver"))


def replace_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    query[name] = [value]
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def last_event(session) -> AuditEvent:
    session.expire_all()
    return session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()


def sessions_of(session, user: User) -> int:
    return len(session.exec(select(UserSession).where(UserSession.user_id == user.id)).all())


# --- the good sign-in ----------------------------------------------------------------------------------------


def test_sign_in_with_the_provider_starts_a_session_like_a_password(client, session, provider):
    school = make_school(session)
    ana = make_user(session, school, Role.student, username="ana", email="Ana@School.test")

    page = client.get("/login")
    assert 'href="/sso/start"' in page.text and "Sign in with Test ID" in page.text
    # The button is a link (a top-level navigation): the pages themselves still reach nothing but this server.
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "form-action 'self'" in csp
    assert provider.issuer not in csp

    start = client.get("/sso/start")
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert start.headers["location"].startswith(provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == [CALLBACK] and query["client_id"] == [provider.client_id]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert "openid" in query["scope"][0].split()

    response = sso_sign_in(client, provider, "ana@school.test")
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/student"
    assert client.cookies.get("folio_session") and not client.cookies.get("folio_sso")
    assert client.get("/student").status_code == 200
    assert sessions_of(session, ana) == 1
    event = last_event(session)
    assert event.event is AuditEventKind.sign_in and event.subject_id == ana.id
    assert event.details["method"] == "sso" and event.details["sub"] == "ana@school.test"
    session.refresh(ana)
    assert ana.last_login_at is not None


def test_sign_in_goes_back_to_the_page_asked_for(client, session, provider):
    make_user(session, make_school(session), Role.teacher, email="tom@school.test")
    assert 'href="/sso/start?next=/account"' in client.get("/login?next=/account").text
    response = sso_sign_in(client, provider, "tom@school.test", next="/account")
    assert response.headers["location"] == "/account"
    # Another site's address is never a destination.
    response = sso_sign_in(client, provider, "tom@school.test", next="//evil.example/")
    assert response.headers["location"] == "/teacher"


def test_the_username_claim_matches_a_username_and_an_unverified_email_matches_nothing(client_with, session,
                                                                                       provider):
    school = make_school(session)
    bo = make_user(session, school, Role.student, username="bo")  # no email: a roster-made account
    make_user(session, school, Role.student, username="cy", email="unverified-cy@school.test")
    client = client_with(oidc_username_claim="preferred_username")
    response = sso_sign_in(client, provider, "bo@school.test")
    assert response.status_code == 303 and response.headers["location"] == "/student"
    assert sessions_of(session, bo) == 1

    # The provider doesn't vouch for cy's address: nothing is left to check the allowed domains with...
    refused = sso_sign_in(client, provider, "unverified-cy@school.test")
    assert refused.status_code == 403 and "didn&#39;t confirm your email address" in refused.text
    assert last_event(session).details["reason"] == "unverified"
    # ...and, with any domain allowed, the address matches nobody (nor is "unverified-cy" cy's username).
    refused = sso_sign_in(client_with(oidc_allowed_domains="", oidc_username_claim="preferred_username"), provider,
                          "unverified-cy@school.test")
    assert refused.status_code == 403 and "There is no Folio account for unverified-cy" in refused.text


# --- what must be refused ---------------------------------------------------------------------------------------


def test_a_wrong_state_is_refused(client, session, provider):
    ana = make_user(session, make_school(session), email="ana@school.test")
    start = client.get("/sso/start")
    callback = provider.sign_in(start.headers["location"], login="ana@school.test")
    forged = replace_param(callback, "state", "not-the-state-this-browser-was-given")
    response = client.get(forged.removeprefix("http://testserver"))
    assert response.status_code == 400
    assert "didn&#39;t complete" in response.text
    assert not client.cookies.get("folio_session") and sessions_of(session, ana) == 0
    event = last_event(session)
    assert event.event is AuditEventKind.sign_in_failed and event.details == {"method": "sso", "reason": "state"}


def test_a_callback_in_a_browser_that_never_started_is_refused(client, new_client, session, provider):
    ana = make_user(session, make_school(session), email="ana@school.test")
    start = client.get("/sso/start")
    callback = provider.sign_in(start.headers["location"], login="ana@school.test")
    # The code and state are right, but they arrive in another browser (a link sent to a victim, say).
    other = new_client()
    response = other.get(callback.removeprefix("http://testserver"))
    assert response.status_code == 400 and sessions_of(session, ana) == 0
    assert last_event(session).details["reason"] == "no_pending_sign_in"
    # A provider's error comes back as a plain refusal too.
    client.get("/sso/start")
    cancelled = client.get("/sso/callback?error=access_denied&state=x")
    assert cancelled.status_code == 400 and last_event(session).details["reason"] == "provider_error"


def test_a_wrong_nonce_is_refused(client, session, provider):
    ana = make_user(session, make_school(session), email="ana@school.test")
    # The provider signs a token for another request's nonce (a replayed or injected token): state is right.
    response = sso_sign_in(client, provider, "ana@school.test",
                           tamper=lambda url: replace_param(url, "nonce", "a-nonce-from-another-sign-in-0123456789"))
    assert response.status_code == 400
    assert sessions_of(session, ana) == 0
    assert last_event(session).details["reason"] == "invalid_claim:nonce"


def test_an_expired_id_token_is_refused(client, session, provider, monkeypatch):
    ana = make_user(session, make_school(session), email="ana@school.test")
    # The provider's ID tokens live an hour: two hours on, ours is expired.
    monkeypatch.setattr(oidc, "clock", lambda: int(time.time()) + 2 * 3600)
    response = sso_sign_in(client, provider, "ana@school.test")
    assert response.status_code == 400
    assert sessions_of(session, ana) == 0
    assert last_event(session).details["reason"] == "expired_token:exp"


def test_an_email_outside_the_allowed_domains_is_refused(client, session, provider):
    # Even with an account of that address: the school said which domains may come in.
    eve = make_user(session, make_school(session), email="eve@elsewhere.test")
    response = sso_sign_in(client, provider, "eve@elsewhere.test")
    assert response.status_code == 403
    assert "That account isn&#39;t from this school" in response.text
    assert "@school.test" in response.text and "eve@elsewhere.test" in response.text
    assert sessions_of(session, eve) == 0
    event = last_event(session)
    assert event.details["reason"] == "domain" and event.object_description == "eve@elsewhere.test"


def test_an_unknown_person_is_refused_and_no_account_is_made(client, new_client, session, provider):
    school = make_school(session)
    before = len(session.exec(select(User)).all())
    response = sso_sign_in(client, provider, "ghost@school.test")
    assert response.status_code == 403
    assert "There is no Folio account for ghost@school.test" in response.text
    assert not client.cookies.get("folio_session")
    assert len(session.exec(select(User)).all()) == before
    event = last_event(session)
    assert event.event is AuditEventKind.sign_in_failed and event.details["reason"] == "unknown"
    assert event.school_id == school.id  # the only school's admins can read about it
    admin = new_client()
    login(admin, make_user(session, school, Role.admin))
    log = admin.get("/admin/audit").text
    assert "ghost@school.test · single sign-on · no account matches" in log


def test_a_switched_off_account_is_refused(client, session, provider):
    ana = make_user(session, make_school(session), email="ana@school.test")
    ana.is_active = False
    session.add(ana)
    session.commit()
    response = sso_sign_in(client, provider, "ana@school.test")
    assert response.status_code == 403
    assert "Your Folio account is switched off" in response.text
    assert sessions_of(session, ana) == 0
    event = last_event(session)
    assert event.subject_id == ana.id and event.details["reason"] == "inactive"


# --- password sign-in off for a role -------------------------------------------------------------------------


def test_password_sign_in_off_for_students(client_with, session, provider):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school, Role.student, email="sam@school.test")
    make_class(session, school, teachers=[teacher], students=[student])
    student.must_change_password = True
    session.add(student)
    session.commit()
    settings = dict(password_login_roles="teacher,guardian,admin")

    browser = client_with(**settings)
    refused = browser.post("/login", data={"identifier": student.username, "password": PASSWORD})
    assert refused.status_code == 403
    assert "doesn&#39;t sign in with a password here" in refused.text and "Sign in with Test ID" in refused.text
    assert not browser.cookies.get("folio_session")
    assert last_event(session).details == {"subject_name": student.display_name, "reason": "password_off"}
    # A wrong password gets the usual answer: the special one tells nobody without the password anything.
    wrong = browser.post("/login", data={"identifier": student.username, "password": "not-it"})
    assert wrong.status_code == 401

    # The provider still lets them in, and nothing asks them for a new password.
    response = sso_sign_in(browser, provider, "sam@school.test")
    assert response.status_code == 303 and browser.get("/student").status_code == 200
    account = browser.get("/account").text
    assert "so you have no Folio password to change" in account and 'href="/account/password"' not in account
    page = browser.get("/account/password")
    assert "so you have no Folio password to change" in page.text
    assert browser.post("/account/password", data={"current_password": PASSWORD, "new_password": "another-one-1",
                                                   "confirm_password": "another-one-1"}).status_code == 409

    # Their teacher can't reset a password that isn't used; the teacher still signs in with one.
    staff = client_with(**settings)
    login(staff, teacher)
    assert "passwords aren&#39;t used for their role" in staff.get(f"/people/{student.id}/password").text
    old_hash = student.password_hash
    reset = staff.post(f"/people/{student.id}/password", data={"new_password": "chosen-by-teacher"})
    assert reset.status_code == 409
    session.expire_all()
    assert session.get(User, student.id).password_hash == old_hash

    # A setup link shows the way in instead of a password form, and choosing one is refused.
    token = setup_links.create_link(session=session, actor=teacher, user=student,
                                    settings=browser.app.state.settings, address=None)
    session.commit()
    setup = client_with(**settings)
    page = setup.get(f"/setup/{token}")
    assert page.status_code == 200 and 'href="/sso/start"' in page.text and 'name="password"' not in page.text
    chosen = setup.post(f"/setup/{token}", data={"password": "my-own-password", "confirm": "my-own-password"})
    assert chosen.status_code == 409
    session.expire_all()
    assert session.get(User, student.id).password_hash == old_hash
    assert session.exec(select(SetupLink).where(SetupLink.user_id == student.id)).first() is not None

    # An admin adding a student is steered to a setup link: a one-time password would be no use to them.
    office = client_with(**settings)
    login(office, make_user(session, school, Role.admin))
    added = office.post("/admin/people/new", data={"display_name": "New Pupil", "username": "newpupil",
                                                   "role": "student", "start_with": "password"})
    assert added.status_code == 422 and "choose the setup link" in added.text
    session.expire_all()
    assert session.exec(select(User).where(User.username == "newpupil")).first() is None


# --- settings -------------------------------------------------------------------------------------------------


def test_without_an_issuer_there_is_no_button_and_no_sso_routes(client_with, session):
    browser = client_with(oidc_issuer="", oidc_client_id="", oidc_client_secret="")
    assert "/sso/start" not in browser.get("/login").text
    assert browser.get("/sso/start").status_code == 404
    assert browser.get("/sso/callback?code=x&state=y").status_code == 404


def test_settings_refuse_roles_left_without_a_way_in():
    assert set(ROLE_NAMES) == {role.value for role in Role}
    with pytest.raises(ValueError, match="FOLIO_OIDC_ISSUER"):
        Settings(_env_file=None, secret_key=TEST_SECRET, password_login_roles="teacher,admin")
    with pytest.raises(ValueError, match="unknown role"):
        Settings(_env_file=None, secret_key=TEST_SECRET, password_login_roles="teacher,pupil")
    with pytest.raises(ValueError, match="https:// address in production"):
        Settings(_env_file=None, environment="production", secret_key=TEST_SECRET, oidc_issuer="http://id.example",
                 oidc_client_id="c", oidc_client_secret="s")
    with pytest.raises(ValueError, match="FOLIO_OIDC_CLIENT_ID"):
        Settings(_env_file=None, secret_key=TEST_SECRET, oidc_issuer="https://accounts.example")
    settings = Settings(_env_file=None, secret_key=TEST_SECRET, oidc_issuer="https://accounts.example",
                        oidc_client_id="c", oidc_client_secret="s", password_login_roles="Teacher, admin",
                        oidc_allowed_domains="@School.org, pupils.school.org")
    assert settings.password_login_allowed(Role.teacher) and not settings.password_login_allowed("student")
    assert settings.oidc_domains == {"school.org", "pupils.school.org"}


def test_an_id_token_for_another_client_or_altered_is_refused(provider):
    settings = Settings(_env_file=None, secret_key=TEST_SECRET, base_url="http://testserver",
                        **sso_settings(provider))
    url, pending = oidc.authorization_request(settings=settings)
    callback = parse_qs(urlsplit(provider.sign_in(url, login="ana@school.test")).query)
    with oidc._client(settings, oidc.provider_metadata(settings=settings)) as client:
        token = client.fetch_token(oidc.provider_metadata(settings=settings)["token_endpoint"],
                                   code=callback["code"][0], code_verifier=pending.code_verifier)
    id_token = token["id_token"]
    assert oidc.validate_id_token(settings=settings, id_token=id_token, nonce=pending.nonce)["sub"] == "ana@school.test"

    # The same genuine token, presented to a Folio registered as another client of the provider.
    other = settings.model_copy(update={"oidc_client_id": "another-app"})
    with pytest.raises(oidc.SsoError) as refused:
        oidc.validate_id_token(settings=other, id_token=id_token, nonce=pending.nonce)
    assert refused.value.reason == "invalid_claim:aud"

    # A token whose claims were changed after signing (someone else's email) fails the signature check.
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "head@school.test"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(oidc.SsoError) as refused:
        oidc.validate_id_token(settings=settings, id_token=f"{header}.{forged}.{signature}", nonce=pending.nonce)
    assert refused.value.reason == "id_token"
    # And an unsigned one ("alg": "none") is never accepted.
    unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    with pytest.raises(oidc.SsoError):
        oidc.validate_id_token(settings=settings, id_token=f"{unsigned}.{payload}.", nonce=pending.nonce)
