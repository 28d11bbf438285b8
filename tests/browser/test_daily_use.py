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


SIZES = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]
WIDE_PAGES = {
    "teacher": ["/classes/{class_id}/grid", "/classes/{class_id}/conferences", "/classes/{class_id}/overview"],
    "admin": ["/admin/people"],
    "student": ["/student", "/competencies"],
}


def _sideways(page) -> dict:
    return page.evaluate("""() => {
        const root = document.documentElement;
        const nav = document.querySelector('.site-nav ul');
        const hidden = nav ? [...nav.querySelectorAll('a')].filter(a => {
            const box = a.getBoundingClientRect();
            return box.right > root.clientWidth + 1 || box.left < -1;
        }).map(a => a.textContent.trim()) : [];
        const header = document.querySelector('.site-header, header');
        return {page: root.scrollWidth - root.clientWidth, navHidden: hidden,
                headerShort: header ? root.scrollWidth - header.getBoundingClientRect().width : 0};
    }""")


@pytest.mark.parametrize("size", SIZES, ids=["390", "1280"])
@pytest.mark.parametrize("username", list(WIDE_PAGES))
def test_wide_pages_fit_the_screen_without_sideways_scrolling(browser, live_server, username, size):
    from tests.browser.conftest import PageProblems, axe_scan

    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=size)
    page = context.new_page()
    problems = PageProblems(page)
    try:
        sign_in(page, username)
        page.wait_for_url(re.compile(r"/(teacher|admin|student)$"))
        class_id = None
        if username == "teacher":
            href = page.locator('a[href$="/prompts"]').first.get_attribute("href")
            class_id = href.split("/")[2]
        for template in WIDE_PAGES[username]:
            page.goto(template.format(class_id=class_id))
            expect(page.locator("main h1")).to_be_visible()
            found = _sideways(page)
            assert found["page"] <= 0, f"{page.url} scrolls {found['page']}px sideways at {size['width']}"
            assert found["navHidden"] == [], f"menu items off-screen on {page.url}: {found['navHidden']}"
            assert found["headerShort"] <= 0, f"the header stops short of the page on {page.url}"
            for wrap in page.locator(".table-wrap").all():
                scrolls = wrap.evaluate("w => w.scrollWidth > w.clientWidth")
                if scrolls:  # a table wider than the screen says so, and scrolls from the keyboard
                    assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
                    assert "table-wrap--scrolls" in (wrap.get_attribute("class") or "")
            axe_scan(page)
    finally:
        context.close()
    assert problems.messages == []
