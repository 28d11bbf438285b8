"""The student's weekly loop in a real browser: upload, reflect, rate, set a goal, tick a step, search."""

import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser


def photo(path, colour):
    image = Image.new("RGB", (900, 600), colour)
    for x in range(0, 900, 30):
        for y in range(0, 600, 3):
            image.putpixel((x, y), (255, 255, 255))
    image.save(path, "JPEG", quality=85)
    return str(path)


def test_a_student_lives_the_whole_loop(page, tmp_path):
    # Liam is in Grade 5 Maple (BC Core Competencies) and starts with an empty portfolio.
    page.goto("/login")
    page.get_by_label("Username or email").fill("liam")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    expect(page).to_have_url(re.compile(r"/student$"))
    axe_scan(page)

    # Two photos through the file picker, each with its own progress bar.
    follow(page.get_by_role("link", name="Add evidence").first)
    axe_scan(page)
    page.get_by_label("Choose files").set_input_files([photo(tmp_path / "lava-lamp-1.jpg", (200, 60, 40)),
                                                       photo(tmp_path / "lava-lamp-2.jpg", (40, 90, 200))])
    expect(page.locator(".upload-item progress")).to_have_count(2)
    page.get_by_label("Title", exact=True).fill("Lava lamp experiment")
    page.get_by_role("button", name="Add to my evidence").click()
    # The next step offers to reflect on both; this walk skips it and comes back later.
    expect(page.get_by_role("heading", level=1)).to_have_text("Reflect on this")
    expect(page.get_by_text("2 files added to your evidence.")).to_be_visible()
    page.goto("/artefacts")
    expect(page.get_by_role("link", name="Lava lamp experiment (1)")).to_be_visible()
    expect(page.get_by_role("link", name="Lava lamp experiment (2)")).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="Lava lamp experiment (1)").click()
    expect(page.locator("img.item__image")).to_be_visible()
    axe_scan(page)

    # A reflection linked to both photos and tagged to a competency.
    page.goto("/reflections/new")
    axe_scan(page)
    page.get_by_label("Title", exact=True).fill("Why the blobs rise")
    page.get_by_label("Your reflection").fill("The oil and water never mix; the fizzing tablet makes bubbles that lift the coloured water.")
    page.get_by_label("Lava lamp experiment (1)").check()
    page.get_by_label("Lava lamp experiment (2)").check()
    page.get_by_text("Choose competencies").click()
    page.get_by_label("THK.2 Critical and reflective thinking").check()
    page.get_by_role("button", name="Save reflection").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why the blobs rise")
    expect(page.get_by_role("link", name="Lava lamp experiment (2)")).to_be_visible()
    axe_scan(page)

    # Rate myself on that competency; the chart and history show it.
    page.goto("/competencies")
    axe_scan(page)
    page.get_by_role("link", name=re.compile("Critical and reflective thinking")).first.click()
    page.get_by_label("Developing").check()
    page.get_by_label("Why this level?").fill("I explained why the blobs rise using what I saw.")
    page.get_by_role("button", name="Save my rating").click()
    expect(page.locator("svg[role=img]")).to_be_visible()
    expect(page.get_by_role("cell", name="I explained why the blobs rise using what I saw.")).to_be_visible()
    axe_scan(page)

    # A goal with steps; tick one off on its page.
    page.goto("/goals/new")
    axe_scan(page)
    page.get_by_label("Your goal").fill("Explain experiments clearly")
    page.get_by_label("Why does it matter to you?").fill("So others can repeat what I did.")
    page.get_by_label("Step 1").fill("Write the method as numbered steps")
    page.get_by_label("Step 2").fill("Explain one result with a because")
    page.get_by_role("button", name="Save goal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Explain experiments clearly")
    axe_scan(page)
    step = page.get_by_role("button", name="Write the method as numbered steps")
    expect(step).to_have_attribute("aria-pressed", "false")
    step.click()
    expect(page.get_by_role("button", name="Write the method as numbered steps")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("1 of 2")).to_be_visible()

    # Find the reflection again by a word from its body.
    page.goto("/student")
    page.get_by_label("Search your portfolio").fill("fizzing")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 result for “fizzing”")).to_be_visible()
    expect(page.get_by_role("link", name="Why the blobs rise")).to_be_visible()
    axe_scan(page)
