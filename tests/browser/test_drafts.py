"""Long text typed into a form survives leaving the page unsaved: the browser keeps a draft and offers it back;
a successful save (or signing out) leaves no draft behind."""

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser

TYPED = "The bridge held 3 kg before it bent.\nNext time: triangles."


def drafts(page) -> dict:
    return page.evaluate("""() => Object.fromEntries(Object.keys(localStorage)
        .filter(k => k.startsWith('folio-draft:')).map(k => [k, JSON.parse(localStorage.getItem(k)).text]))""")


def test_an_unsaved_note_is_offered_back_and_cleared_once_saved(page):
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))

    page.goto("/artefacts/new?kind=note")
    page.get_by_label("Your note").fill(TYPED)
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('folio-draft:'))")
    assert list(drafts(page).values()) == [TYPED]

    # The tab is closed (or the connection lost) before saving; back on the form, the text is offered.
    page.goto("/student")
    page.goto("/artefacts/new?kind=note")
    expect(page.get_by_label("Your note")).to_have_value("")
    offer = page.get_by_role("status").filter(has_text="text you typed earlier")
    expect(offer).to_be_visible()
    axe_scan(page)
    offer.get_by_role("button", name="Put my text back").click()
    expect(page.get_by_label("Your note")).to_have_value(TYPED)
    expect(offer).to_have_count(0)

    # A refused save (no title) gives the text back, and the draft stays until a save goes through.
    page.get_by_role("button", name="Save note").click()
    expect(page.locator("#title-error")).to_be_visible()
    expect(page.get_by_label("Your note")).to_have_value(TYPED)
    assert list(drafts(page).values()) == [TYPED]
    expect(page.get_by_role("button", name="Put my text back")).to_have_count(0)  # the form holds it already

    page.get_by_label("Title", exact=True).fill("Bridge test")
    page.get_by_role("button", name="Save note").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reflect on this")  # the next step, about the note
    expect(page.get_by_text("“Bridge test” is in your evidence.")).to_be_visible()
    assert drafts(page) == {}  # saved: nothing left to offer
    page.goto("/artefacts/new?kind=note")
    expect(page.get_by_role("button", name="Put my text back")).to_have_count(0)


def test_signing_out_leaves_no_draft_behind(page):
    page.goto("/login")
    page.get_by_label("Username or email").fill("student")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    page.goto("/artefacts/new?kind=note")
    page.get_by_label("Your note").fill("Private thoughts")
    page.wait_for_function("() => Object.keys(localStorage).some(k => k.startsWith('folio-draft:'))")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Password")).to_be_visible()  # signed out, on the sign-in page
    assert drafts(page) == {}
