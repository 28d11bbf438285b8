"""Every slide of the demo presentation fits the screen, with the talking points open, on a laptop (1280×800) and on
a phone held upright (390×844, touch): nothing wider than the screen, nothing below the controls, and no serious
or critical axe finding on any slide."""

import re

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser

SCREENS = {
    "laptop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True},
}

# What doesn't fit, measured in the page: the document wider than the screen, the shown slide reaching below the
# controls (or the screen), or any element of the slide sticking out of the slide sideways.
MEASURE = """() => {
  const root = document.documentElement;
  const slide = [...document.querySelectorAll('[data-slide]')].find(s => !s.hidden);
  const controls = document.querySelector('[data-present-controls]').getBoundingClientRect();
  const bar = document.querySelector('.present-bar').getBoundingClientRect();
  const box = slide.getBoundingClientRect();
  const wide = [...slide.querySelectorAll('*')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && (r.right > box.right + 1 || r.left < box.left - 1);
  }).map(el => el.tagName + '.' + el.className).slice(0, 5);
  const images = [...slide.querySelectorAll('img')].map(img => {
    const r = img.getBoundingClientRect();
    return {top: r.top, bottom: r.bottom, complete: img.complete && img.naturalWidth > 0};
  });
  return {id: slide.id, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, top: box.top,
          bottom: box.bottom, controlsTop: controls.top, innerHeight: window.innerHeight, wide, images,
          barHeight: bar.height, pageScroll: root.scrollHeight - root.clientHeight,
          keysShown: [...document.querySelectorAll('.present-bar kbd, .present-controls__keys')]
            .some(el => el.getClientRects().length > 0)};
}"""


@pytest.mark.parametrize("screen", SCREENS)
def test_every_slide_fits_the_screen_with_talking_points_open(browser, live_server, screen):
    context = browser.new_context(base_url=live_server, locale="en-GB", **SCREENS[screen])
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    page.goto("/showcases")
    page.get_by_role("link", name="My term so far").click()
    page.get_by_role("link", name="Present").first.click()
    expect(page.locator("[data-present-controls]")).to_be_visible()
    page.get_by_role("button", name=re.compile("^Talking points")).click()
    expect(page.get_by_role("button", name=re.compile("^Talking points"))).to_have_attribute("aria-expanded", "true")

    total = int(re.search(r"of (\d+)", page.locator("[data-progress-text]").inner_text()).group(1))
    assert total >= 5
    for number in range(1, total + 1):
        expect(page.locator("[data-progress-text]")).to_have_text(f"Slide {number} of {total}")
        page.wait_for_load_state("load")  # the slide's photo, so it is measured at its real size
        fit = page.evaluate(MEASURE)
        where = f"{screen}, slide {number} ({fit['id']})"
        assert fit["scrollWidth"] <= fit["clientWidth"], f"{where}: the page is wider than the screen"
        assert fit["wide"] == [], f"{where}: sticks out sideways: {fit['wide']}"
        assert fit["pageScroll"] <= 1, f"{where}: the page scrolls by {fit['pageScroll']}px"
        assert fit["bottom"] <= min(fit["controlsTop"], fit["innerHeight"]) + 1, f"{where}: below the controls: {fit}"
        for image in fit["images"]:
            assert image["complete"] and image["bottom"] <= fit["bottom"] + 1, f"{where}: photo cut off: {fit}"
        if screen == "phone":
            # On a touch screen the bar is one row, and nothing speaks of keys there are none of.
            assert fit["barHeight"] < 64 and not fit["keysShown"], f"{where}: {fit}"
        axe_scan(page)
        if number < total:
            page.get_by_role("button", name=re.compile("Next")).click()

    # The last slide is the family's form: all of it, its button too, is on the screen without scrolling.
    send = page.get_by_role("button", name="Send our response")
    expect(send).to_be_in_viewport()
    controls_top = page.locator("[data-present-controls]").bounding_box()["y"]
    assert send.bounding_box()["y"] + send.bounding_box()["height"] <= controls_top
    assert page.evaluate("() => document.querySelector('.slide--respond .slide__body').scrollTop") == 0
    context.close()
