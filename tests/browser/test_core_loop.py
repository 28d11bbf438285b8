"""The daily loop on a phone (issue 13): photo + spoken caption → reflect (spoken) → how am I doing, counted in taps.

Counting: every click, every file picked, and every field that needs typing counts one tap (a keyboard appearing is a
tap on the field). Before this loop existed, the same work (a photo, then a spoken reflection linked to it and a
competency, then a self-assessment pointing to the photo, with no spoken caption possible at all) took 17 taps from
the student's home page at 390×844, walked the same way on the old pages: Add evidence, "Or take a photo", Add to my
evidence; Reflections, Reflect, Title, Record, Stop, tick the photo, tick a competency, Save reflection; Competencies,
the competency, a level, "Why this level?", tick the photo, Save my rating.
"""

import json

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, axe_scan, follow
from tests.media import jpeg_with_gps

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
TAPS_BEFORE = 17


@pytest.fixture(scope="module")
def phone_with_microphone(browser):
    chromium = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=CHROMIUM_ARGS + ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    )
    yield chromium
    chromium.close()


@pytest.fixture
def phone(phone_with_microphone, live_server):
    context = phone_with_microphone.new_context(base_url=live_server, permissions=["microphone"], viewport=PHONE,
                                                has_touch=True, is_mobile=True, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    yield page
    context.close()
    assert problems == []


class Taps:
    def __init__(self) -> None:
        self.count = 0

    def tap(self, locator) -> None:
        self.count += 1
        locator.click()

    def pick(self, locator, path) -> None:
        self.count += 1
        locator.set_input_files(str(path))


def _record(taps: Taps, page, recorded_text: str) -> None:
    taps.tap(page.get_by_role("button", name="Record", exact=True))
    expect(page.get_by_role("status").filter(has_text="Recording")).to_be_visible()
    page.wait_for_timeout(700)
    taps.tap(page.get_by_role("button", name="Stop", exact=True))
    expect(page.get_by_text(recorded_text)).to_be_visible()


def test_the_core_loop_on_a_phone(phone, tmp_path):
    page, taps = phone, Taps()
    photo = tmp_path / "bridge.jpg"
    photo.write_bytes(jpeg_with_gps())

    taps.tap(page.get_by_role("link", name="Add evidence").first)
    camera = page.locator("label[for=camera]")
    expect(camera).to_have_text("Take a photo or video")
    box = camera.bounding_box()
    assert box["height"] >= 60 and box["width"] >= 0.65 * PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    expect(page.locator("#camera")).to_have_attribute("accept", "image/*,video/*")
    expect(page.locator("#camera")).to_have_attribute("capture", "environment")
    # Save is reachable without passing a list of every competency: the list is folded away.
    save = page.get_by_role("button", name="Add to my evidence")
    assert save.bounding_box()["y"] < 2 * PHONE["height"]
    expect(page.locator("input[name=competency_ids]").first).to_be_hidden()
    axe_scan(page)

    taps.pick(page.locator("#camera"), photo)
    expect(page.locator(".upload-item__preview")).to_have_count(1)  # the photo is shown before it is sent
    expect(page.locator(".upload-item__name")).to_have_text("bridge.jpg")
    _record(taps, page, "it is saved with your evidence")

    taps.tap(page.get_by_text("Choose competencies"))
    search = page.get_by_label("Find a competency")
    search.fill("zzzz-nothing")  # typed into the box just opened (no new tap): the filter hides every option
    expect(page.locator(".picker__option:visible")).to_have_count(0)
    search.fill("")
    first = page.locator(".picker__option:visible").first
    code = first.locator("code").inner_text()
    taps.tap(first.locator("label"))
    expect(page.locator("[data-picker-chips] .chip")).to_have_count(1)
    expect(page.locator("[data-picker-chips]")).to_contain_text(code)
    taps.tap(save)

    # Step 2: reflect, the photo linked and its competency ticked, the title filled in: just speak.
    expect(page.get_by_role("heading", level=1)).to_have_text("Reflect on this")
    expect(page.get_by_text("“bridge” is in your evidence.")).to_be_visible()
    expect(page.get_by_role("link", name="Skip", exact=True)).to_be_visible()
    expect(page.locator("input[name=competency_ids]:checked")).to_have_count(1)
    expect(page.get_by_label("Title")).to_have_value("bridge")
    axe_scan(page)
    _record(taps, page, "Recorded. Listen back below")
    taps.tap(page.get_by_role("button", name="Save reflection"))

    # Step 3: how am I doing, on that competency.
    expect(page.get_by_role("heading", level=1)).to_have_text("How am I doing?")
    expect(page.get_by_role("link", name="Done", exact=True)).to_be_visible()
    axe_scan(page)
    taps.tap(page.locator(".check-in input[type=radio]").first)
    page.get_by_label("Why?").fill("I said why in my reflection.")  # already filled in; changed here, not counted
    taps.tap(page.get_by_role("button", name="Save how I'm doing"))
    expect(page.get_by_text("Your self-assessment of 1 competency is saved")).to_be_visible()
    expect(page.locator("audio")).to_have_count(1)  # the spoken reflection

    print(f"\ncore loop taps: before {TAPS_BEFORE}, now {taps.count}")
    assert taps.count <= 12 < TAPS_BEFORE

    # The photo plays its spoken caption.
    page.get_by_role("link", name="bridge").first.click()
    expect(page.get_by_text("Spoken caption")).to_be_visible()


def test_a_busy_refusal_keeps_the_files_for_the_next_save(phone, tmp_path):
    """After a busy database refused the save, upload.js puts the token naming the kept files into the form, and the
    next Save sends it back (here the server's answer is played by the browser, as a busy database is hard to make)."""
    page = phone
    photo = tmp_path / "bridge.jpg"
    photo.write_bytes(jpeg_with_gps())
    answers = []

    def busy_once(route):
        if answers:
            route.continue_()
            return
        answers.append(route.request.post_data_buffer)
        route.fulfill(status=503, content_type="application/json", body=json.dumps({
            "created": [], "held_files": "HELD-TOKEN", "errors": [
                {"filename": "", "message": "Folio is busy. Your file is kept: save again to add it."}]}))

    page.route("**/artefacts/upload", busy_once)
    page.goto("/artefacts/new")
    page.locator("#files").set_input_files(str(photo))
    page.get_by_role("button", name="Add to my evidence").click()
    expect(page.get_by_text("Your file is kept: save again to add it.")).to_be_visible()
    expect(page.locator("input[name=held_files]")).to_have_value("HELD-TOKEN")
    with page.expect_request(lambda r: r.url.endswith("/artefacts/upload") and r.method == "POST") as sent:
        page.get_by_role("button", name="Add to my evidence").click()
    assert b"HELD-TOKEN" in sent.value.post_data_buffer
