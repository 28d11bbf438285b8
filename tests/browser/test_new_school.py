"""A school starts from `folio create-admin` alone, on a phone-sized screen: the new admin adds a teacher, a term and
a class in it, gives the class its teacher and adds a student; the teacher then signs in and finds them."""

import argparse
import re

import pytest
from playwright.sync_api import expect

from app.cli import cmd_create_admin
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from tests.browser.conftest import PageProblems, axe_scan, follow
from tests.conftest import make_settings
from tests.live_server import free_port, serving

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def empty_school(tmp_path_factory) -> str:
    """A fresh Folio with nothing in it but the administrator `folio create-admin` made."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("new-school")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'folio.db'}", base_url=base_url, job_runner="in-process")
    engine = make_engine(settings)
    upgrade(engine)
    engine.dispose()
    made = cmd_create_admin(settings, argparse.Namespace(
        username="principal", school="Cedar Hill School", display_name="Pat Principal", email=None,
        password="a strong admin password", password_stdin=False))
    assert made == 0
    with serving(create_app(settings), port) as served:
        yield served


@pytest.fixture
def phone(browser, empty_school):
    context = browser.new_context(base_url=empty_school, locale="en-GB", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems(page)
    yield page
    context.close()
    assert problems.messages == [], f"browser console errors: {problems.messages}"


def fits_the_screen(page) -> None:
    """Nothing scrolls sideways at 390 px (tables scroll inside their own wrapper), and axe finds nothing serious."""
    page.wait_for_load_state()  # a page still arriving after a click has no document to measure yet
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"
    axe_scan(page)


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    follow(page.get_by_role("button", name="Sign in"))


def test_a_new_admin_starts_a_school_in_the_browser(phone, browser, empty_school):
    page = phone
    sign_in(page, "principal", "a strong admin password")
    expect(page).to_have_url(re.compile(r"/admin$"))

    # A teacher, with a one-time password.
    page.goto("/admin/people")
    fits_the_screen(page)
    page.get_by_role("link", name="Add a person").click()
    expect(page.get_by_label("Name", exact=True)).to_be_visible()
    fits_the_screen(page)
    page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Role").select_option("teacher")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator("main h1")).to_contain_text("First sign-in for Ada Lovelace")
    teacher_password = page.locator("code.secret").inner_text()
    fits_the_screen(page)

    # A school year, and a class in it.
    page.get_by_role("link", name="Classes", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/admin/classes$"))
    fits_the_screen(page)
    page.get_by_role("textbox", name="School year").fill("2026–27")
    page.get_by_role("button", name="Add term").click()
    expect(page.get_by_role("heading", name="2026–27")).to_be_visible()
    page.get_by_role("link", name="New class in 2026–27").click()
    page.get_by_label("Name").fill("Grade 5 Cedar")
    page.get_by_role("button", name="Create class").click()
    expect(page.locator("main h1")).to_have_text("Grade 5 Cedar")

    # The class has no teacher yet: the admin gives it Ada.
    page.goto("/admin/classes")
    row = page.get_by_role("row", name=re.compile("Grade 5 Cedar"))
    expect(row).to_contain_text("No teacher yet")
    row.get_by_label("Teacher for Grade 5 Cedar").select_option(label="Ada Lovelace")
    row.get_by_role("button", name=re.compile("Assign")).click()
    expect(page.get_by_text("Ada Lovelace now teaches Grade 5 Cedar.")).to_be_visible()
    fits_the_screen(page)

    # A student, added to the class from its page.
    page.get_by_role("link", name="Grade 5 Cedar").click()
    page.get_by_role("link", name="Add students").click()
    page.get_by_label("Name", exact=True).first.fill("Maya Chen")
    page.get_by_label("Username", exact=True).first.fill("maya")
    page.get_by_role("button", name=re.compile("Add student")).first.click()
    expect(page.get_by_text("maya", exact=True).first).to_be_visible()

    # The other new pages fit a phone too: a person's page, the filtered list, the year's end.
    page.goto("/admin/people")
    page.get_by_label("Role").select_option("student")
    expect(page.get_by_role("link", name="Maya Chen", exact=True)).to_be_visible()
    page.get_by_role("link", name="Maya Chen", exact=True).click()
    expect(page.get_by_role("heading", name="Leaving the school")).to_be_visible()
    fits_the_screen(page)
    page.goto("/admin/classes")
    page.get_by_role("link", name="End of year: roll over").click()
    expect(page.locator("main h1")).to_contain_text("Roll over 2026–27")
    fits_the_screen(page)

    # The teacher signs in with the one-time password, chooses their own, and finds the class and the student.
    teacher = browser.new_context(base_url=empty_school, locale="en-GB", viewport=PHONE).new_page()
    sign_in(teacher, "ada", teacher_password)
    expect(teacher).to_have_url(re.compile(r"/account/password$"))
    teacher.get_by_label("Current password").fill(teacher_password)
    teacher.get_by_label("New password", exact=True).fill("ada's own password")
    teacher.get_by_label("New password again").fill("ada's own password")
    teacher.get_by_role("button", name="Change password").click()
    expect(teacher).to_have_url(re.compile(r"/teacher$"))
    teacher.get_by_role("link", name="Grade 5 Cedar").first.click()
    expect(teacher.get_by_role("link", name="Maya Chen", exact=True)).to_be_visible()
    fits_the_screen(teacher)
    teacher.context.close()
