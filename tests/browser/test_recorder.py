"""Recording a spoken reflection in the browser (Chromium's fake microphone): a refused save keeps the recording."""


import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, axe_scan, follow

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser_with_microphone(browser):
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    yield chromium
    chromium.close()


def test_a_refused_save_keeps_the_recording(browser_with_microphone, live_server):
    context = browser_with_microphone.new_context(base_url=live_server, permissions=["microphone"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    page.goto("/reflections/new")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Recording")).to_be_visible()
    page.wait_for_timeout(1200)
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.get_by_text("Recorded. Listen back below")).to_be_visible()

    # No title: refused, and the form that comes back still holds the recording.
    page.get_by_role("button", name="Save reflection").click()
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.get_by_text("Recorded. Listen back below")).to_be_visible()
    axe_scan(page)
    page.get_by_label("Title").fill("What I said about fractions")
    page.get_by_role("button", name="Save reflection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What I said about fractions")
    expect(page.locator("audio")).to_have_count(1)
    context.close()
    assert problems == []
