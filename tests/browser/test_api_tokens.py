"""A student makes an API token on the Account page, a program uses it over real HTTP, and the student revokes it;
the Account page and the API reference pass axe."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_staff_pages import sign_in
from tests.browser.conftest import axe_scan

pytestmark = pytest.mark.browser


def test_make_use_and_revoke_a_token(page, live_server):
    sign_in(page, "student")
    page.goto("/account")
    page.get_by_label("Name", exact=True).fill("Browser test script")
    page.get_by_label("Read your work and add to it").check()
    page.get_by_label("In 90 days").check()
    page.get_by_role("button", name="Make the token").click()
    expect(page.get_by_text(re.compile("Copy it now"))).to_be_visible()
    token = page.get_by_label("Token", exact=True).input_value()
    assert token.startswith("folio_pat_")
    axe_scan(page)

    api = {"Authorization": f"Bearer {token}"}
    me = httpx.get(f"{live_server}/api/v1/me", headers=api)
    assert me.status_code == 200 and me.json()["username"] == "student"
    note = httpx.post(f"{live_server}/api/v1/items/notes", headers=api, json={"title": "From the API", "body": "Hi"})
    assert note.status_code == 201, note.text
    page.goto(note.json()["page_url"])
    expect(page.locator("main h1")).to_have_text("From the API")

    page.goto("/account")
    expect(page.get_by_label("Token", exact=True)).to_have_count(0)  # shown once only
    row = page.get_by_role("row").filter(has_text="Browser test script")
    expect(row).not_to_contain_text("Never")
    row.get_by_role("button", name=re.compile("Revoke")).click()
    expect(page.get_by_text(re.compile("is revoked"))).to_be_visible()
    assert httpx.get(f"{live_server}/api/v1/me", headers=api).status_code == 401


def test_the_api_reference_passes_axe(page):
    page.goto("/api/v1/docs")
    expect(page.locator("main h1")).to_have_text("Folio API reference")
    expect(page.get_by_role("heading", name="GET /api/v1/items/{item_id}", exact=True)).to_be_visible()
    axe_scan(page)
