"""Daily use in a real browser (issue 13): Back after an HTMX filter, pages that fit a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def test_back_after_an_htmx_filter_restores_the_whole_page(page):
    sign_in(page, "student")
    expect(page).to_have_url(re.compile(r"/student$"))
    page.get_by_text("Filters").click()
    page.get_by_label("Kind").select_option("note")
    expect(page).to_have_url(re.compile(r"/student\?.*kind=note"))
    page.get_by_label("Kind").select_option("reflection")
    expect(page).to_have_url(re.compile(r"/student\?.*kind=reflection"))
    # A history-cache miss (a full cache, another tab, a reload): htmx asks the server for the page again.
    page.evaluate("() => sessionStorage.removeItem('htmx-history-cache')")
    with page.expect_request(lambda r: r.headers.get("hx-history-restore-request") == "true"):
        page.go_back()
    expect(page).to_have_url(re.compile(r"/student\?.*kind=note"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya Chen")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator("#timeline")).to_have_count(1)
    expect(page.get_by_label("Kind")).to_have_value("note")
    # And Back again from a whole page reached by a link still lands on a whole page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Goals").click()
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Maya Chen")
    expect(page.locator("#timeline")).to_have_count(1)
