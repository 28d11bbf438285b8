"""Single sign-on in a real browser: Folio's button, the provider's own sign-in page (oidc-provider on Node), and back
to Folio signed in; a person the school never added sees the refusal page. Folio's pages stay clean under its CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import Role
from tests.browser.conftest import axe_scan
from tests.conftest import make_settings, unavailable
from tests.factories import make_school, make_user
from tests.live_server import free_port, serving
from tests.oidc_server import OidcUnavailable, ThrowawayOidcProvider

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    """A Folio with single sign-on to a provider of its own, and one student, Ana; yields (Folio's address, provider)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    provider = ThrowawayOidcProvider(redirect_uris=[f"{base_url}/sso/callback"])
    try:
        provider.start()
    except OidcUnavailable as exc:
        unavailable(f"OpenID Connect provider unavailable: {exc}")
    tmp = tmp_path_factory.mktemp("sso-live")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'folio.db'}", base_url=base_url, oidc_issuer=provider.issuer,
                             oidc_client_id=provider.client_id, oidc_client_secret=provider.client_secret,
                             oidc_allowed_domains="school.test", oidc_button_label="Test ID")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        make_user(session, make_school(session), Role.student, username="ana", display_name="Ana Lima",
                  email="ana@school.test")
    engine.dispose()
    with serving(create_app(settings), port):
        yield base_url, provider
    provider.stop()


@pytest.fixture
def sso_page(browser, sso_server):
    """A fresh browser (signed in nowhere, provider included) whose Folio pages must log no error or CSP violation."""
    base_url, _provider = sso_server
    context = browser.new_context(base_url=base_url, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []

    # Only Folio's pages are judged (the provider's development pages are not ours), as tests/browser/conftest.py's
    # PageProblems judges them: a refusal page answering 403 is fine, a blocked or failed sub-resource is not.
    def console(message) -> None:
        if (message.type == "error" and page.url.startswith(base_url)
                and not message.text.startswith("Failed to load resource")):
            problems.append(message.text)

    def response(answer) -> None:
        if answer.url.startswith(base_url) and answer.status >= 400 and answer.request.resource_type != "document":
            problems.append(f"{answer.status} for {answer.request.resource_type} {answer.url}")

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page
    context.close()
    assert problems == [], f"browser console errors on Folio's pages: {problems}"


def sign_in_at_provider(page, provider: ThrowawayOidcProvider, login: str) -> None:
    page.goto("/login")
    axe_scan(page)
    page.get_by_role("link", name="Sign in with Test ID").click()
    expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer) + "/interaction/"))
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()


def test_a_student_signs_in_with_the_school_provider(sso_page, sso_server):
    base_url, provider = sso_server
    sign_in_at_provider(sso_page, provider, "ana@school.test")
    expect(sso_page).to_have_url(f"{base_url}/student")
    expect(sso_page.get_by_text("Ana Lima").first).to_be_visible()
    axe_scan(sso_page)


def test_someone_the_school_never_added_sees_why(sso_page, sso_server):
    base_url, provider = sso_server
    sign_in_at_provider(sso_page, provider, "ghost@school.test")
    expect(sso_page).to_have_url(re.compile("^" + re.escape(base_url) + "/sso/callback"))
    expect(sso_page.get_by_role("heading", name="No Folio account for you yet")).to_be_visible()
    expect(sso_page.get_by_text("There is no Folio account for ghost@school.test")).to_be_visible()
    axe_scan(sso_page)
    sso_page.get_by_role("link", name="Back to the sign-in page").click()
    expect(sso_page).to_have_url(f"{base_url}/login")
