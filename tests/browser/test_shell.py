"""Each demo user signs in through the real form, lands home, walks their navigation; every page passes axe."""

import re

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser

DEMO_USERS = [
    ("admin", "/admin", "Alex Morgan"),
    ("teacher", "/teacher", "Priya Shah"),
    ("student", "/student", "Maya Chen"),
    ("family", "/family", "Li Chen"),
]


def sign_in(page, username: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))


@pytest.mark.parametrize("username, home, name", DEMO_USERS)
def test_demo_user_signs_in_and_every_page_they_visit_passes_axe(page, username, home, name):
    page.goto("/login")
    axe_scan(page)
    sign_in(page, username)
    expect(page).to_have_url(re.compile(f"{home}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name}")
    axe_scan(page)

    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert home in hrefs and "/account" in hrefs
    for href in hrefs:
        page.goto(href)
        expect(page.locator("main h1")).to_be_visible()
        axe_scan(page)
    page.goto("/account/password")
    axe_scan(page)
    page.goto("/no-such-page")
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't find that page")
    axe_scan(page)

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")


def test_wrong_password_shows_the_message_and_passes_axe(page):
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill("not the password")
    follow(page.get_by_role("button", name="Sign in"))
    expect(page.get_by_role("alert")).to_contain_text("don't match")
    expect(page.get_by_label("Username or email")).to_have_value("student")
    axe_scan(page)


def test_keyboard_only_sign_in(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Username or email")).to_be_focused()
    page.keyboard.type("teacher")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/teacher$"))
    # Classes list students inside a disclosure that opens from the keyboard too.
    summary = page.locator("summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("table").first).to_be_visible()
    axe_scan(page)


def test_signing_in_works_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    sign_in(page, "family")
    expect(page).to_have_url(re.compile(r"/family$"))
    expect(page.get_by_role("link", name="Maya Chen", exact=True)).to_be_visible()
    context.close()


def test_htmx_filters_people_in_place_under_the_csp(page):
    sign_in(page, "admin")
    page.goto("/admin/people")
    # Other browser tests may add people (a family joining), so only the filtered count is exact.
    expect(page.get_by_text(re.compile(r"^\d+ people$"))).to_be_visible()
    page.evaluate("window.stillThesamePage = true")
    page.get_by_label("Role").select_option("teacher")
    expect(page.get_by_text("2 people")).to_be_visible()
    expect(page).to_have_url(re.compile(r"role=teacher"))
    expect(page.get_by_role("cell", name="Daniel Okafor", exact=True)).to_be_visible()
    page.get_by_label("Name, username or email").fill("okafor")
    expect(page.get_by_text("1 person", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=okafor"))
    assert page.evaluate("window.stillThesamePage === true"), "the list should update in place, not reload"
    axe_scan(page)


def test_the_accessibility_scan_really_catches_violations(page):
    page.goto("/login")
    page.evaluate("document.querySelector('label[for=identifier]').remove()")  # an unlabelled field
    with pytest.raises(AssertionError, match="label"):
        axe_scan(page)
