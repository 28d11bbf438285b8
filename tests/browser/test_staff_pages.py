"""Every page a teacher or admin reaches from their home passes axe, reached by following real links."""

import re

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser


def sign_in(page, username):
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))


def test_teacher_pages_pass_axe(page):
    sign_in(page, "teacher")
    expect(page).to_have_url(re.compile(r"/teacher$"))
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    expect(page).to_have_url(re.compile(r"/classes/\d+$"))
    axe_scan(page)
    class_url = page.url
    # The secondary actions sit in the "More" menu, which opens from the keyboard (no JavaScript needed).
    page.locator("main summary", has_text="More").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Class settings")).to_be_visible()
    axe_scan(page)
    page.keyboard.press("Tab")
    page.keyboard.press("Escape")  # closes it, back on its button
    expect(page.get_by_role("link", name="Class settings")).to_be_hidden()
    expect(page.locator("main summary", has_text="More")).to_be_focused()
    for link in ("Add students", "Class settings", "Reflection prompts"):
        page.goto(class_url)
        if link != "Add students":
            page.locator("main summary", has_text="More").click()
        page.get_by_role("link", name=re.compile(link)).first.click()
        expect(page.locator("main h1")).to_be_visible()
        axe_scan(page)
    page.goto(class_url)
    page.locator("summary", has_text="for Maya Chen").click()
    page.get_by_role("link", name="Competencies of Maya Chen").click()
    expect(page.locator("main h1")).to_contain_text("Maya Chen")
    axe_scan(page)
    page.get_by_role("link", name=re.compile("Communicating")).first.click()
    expect(page.locator("svg[role=img]")).to_be_visible()
    axe_scan(page)


def test_admin_framework_pages_pass_axe(page):
    sign_in(page, "admin")
    page.goto("/admin/frameworks")
    axe_scan(page)
    page.get_by_role("link", name=re.compile("BC Core Competencies")).first.click()
    expect(page.locator("main h1")).to_be_visible()
    axe_scan(page)
    page.locator("main .page-header summary", has_text="More").click()
    page.get_by_role("link", name="Archive this framework…").click()
    expect(page.locator("main h1")).to_have_text("Archive “BC Core Competencies”?")
    axe_scan(page)
    page.get_by_role("link", name="Keep it").click()
    page.locator("summary", has_text="COM.1").click()
    expect(page.get_by_role("link", name="Delete… COM.1")).to_be_visible()
    axe_scan(page)


def test_student_join_page_passes_axe(page):
    sign_in(page, "student")
    follow(page.get_by_role("link", name="Join a class with a code"))
    axe_scan(page)
    page.get_by_label(re.compile("code", re.I)).first.fill("NOPE99")
    page.get_by_role("button", name=re.compile("Join")).click()
    expect(page.get_by_text(re.compile("No class has that code"))).to_be_visible()
    axe_scan(page)


def test_audit_log_and_a_students_access_history_pass_axe(page):
    sign_in(page, "admin")
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("main h1")).to_have_text("Audit log")
    expect(page.get_by_role("cell", name="Signed in").first).to_be_visible()
    axe_scan(page)
    page.get_by_label("Person (username or email)").fill("nobody-here")
    page.get_by_label("From").fill("2026-09-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text(re.compile("Nobody at your school"))).to_be_visible()
    axe_scan(page)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "student")
    page.goto("/account")
    expect(page.get_by_role("heading", name="Who was given access to your work")).to_be_visible()
    axe_scan(page)
