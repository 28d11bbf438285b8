"""Issue 5 in a real browser: a student builds a showcase and presents it by keyboard; a family member joins with
an invitation, follows the feed in Spanish, comments, and answers the showcase. Every page gets an axe scan."""

import re

import pytest
from playwright.sync_api import expect

from app.i18n import translations_for
from tests.browser.conftest import axe_scan, follow
from tests.browser.test_feedback_loop import sign_in

pytestmark = pytest.mark.browser


def es(message: str) -> str:
    """The Spanish text of a message, from the same catalog the server uses."""
    translated = translations_for("es").ugettext(message)
    assert translated != message, f"no Spanish for {message!r}"
    return translated


def test_student_builds_a_showcase_and_presents_it_with_the_keyboard(browser, live_server):
    context, page, problems = sign_in(browser, live_server, "student")
    page.get_by_role("link", name="Showcases").click()
    expect(page.get_by_role("link", name="My term so far")).to_be_visible()  # the demo's ready showcase
    axe_scan(page)
    page.get_by_role("link", name="New showcase").click()
    page.get_by_label("Title").fill("Science this term")
    page.get_by_label("My family").check()
    axe_scan(page)
    page.get_by_role("button", name="Make the showcase").click()

    # The picker: add three pieces of work, then go to the showcase.
    expect(page.get_by_role("heading", level=1)).to_have_text("Add work to “Science this term”")
    axe_scan(page)
    for title in ("Volcano cross-section poster", "Our craft-stick truss bridge", "Testing our bridge"):
        page.get_by_role("button", name=f"Add {title}").click()
    page.get_by_role("link", name="Done").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Science this term")
    # A class item in a family showcase: the editor warns that the family won't see it.
    expect(page.get_by_text("Note").first).to_be_visible()
    axe_scan(page)

    # Reorder with the keyboard alone: focus "Move up" on the bridge and press Enter.
    page.get_by_role("button", name="Move up Our craft-stick truss bridge").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".showcase-entry").first).to_have_attribute("data-title", "Our craft-stick truss bridge")
    expect(page.locator(".showcase-entry").nth(1)).to_have_attribute("data-title", "Volcano cross-section poster")
    page.get_by_label("Talking points for “Our craft-stick truss bridge”").fill("Triangles spread the weight.")
    page.get_by_role("button", name="Save talking points for “Our craft-stick truss bridge”").click()

    # Present: title slide, then each item by arrow key, talking points with P, the response slide with End.
    page.get_by_role("link", name="Present").click()
    expect(page.get_by_text("Slide 1 of 5").last).to_be_visible()
    expect(page.get_by_role("heading", name="Science this term", level=2)).to_be_visible()
    axe_scan(page)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_text("Slide 2 of 5").last).to_be_visible()
    expect(page.get_by_role("heading", name="Our craft-stick truss bridge", level=2)).to_be_focused()
    expect(page.get_by_role("img", name=re.compile("Built with Noah and Amara"))).to_be_visible()
    expect(page.get_by_role("heading", name="Volcano cross-section poster", level=2)).to_be_hidden()  # one slide at a time
    page.keyboard.press("p")
    expect(page.get_by_text("Triangles spread the weight.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Talking points"))).to_have_attribute("aria-expanded", "true")
    axe_scan(page)
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("heading", name="Volcano cross-section poster", level=2)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_text("Slide 2 of 5").last).to_be_visible()
    page.keyboard.press("End")
    expect(page.get_by_role("heading", name="Your turn")).to_be_visible()
    axe_scan(page)

    # The family answers on the student's device.
    page.get_by_label("Your name (optional)").fill("Grandma Chen")
    page.get_by_label("What made you proud?").fill("How clearly you explained the triangles.")
    page.get_by_role("button", name="Send our response").click()
    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="Exit presentation").last.click()
    page.get_by_role("link", name="1 family response").click()
    expect(page.get_by_text("How clearly you explained the triangles.")).to_be_visible()
    axe_scan(page)
    context.close()
    assert problems == []


def test_family_joins_with_an_invitation_and_follows_in_spanish(browser, live_server):
    # Ms Shah prints an invitation for Maya's family.
    context, page, problems = sign_in(browser, live_server, "teacher")
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    page.get_by_role("link", name="Maya Chen", exact=True).first.click()
    follow(page.get_by_role("link", name="Family access of Maya Chen"))
    axe_scan(page)
    page.get_by_role("button", name="Create a printable invitation").click()
    code = page.locator(".invitation-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    axe_scan(page)
    page.get_by_role("button", name="Sign out").click()

    # Maya's grandfather, who reads Spanish, picks the language in the footer and creates his account.
    page.goto("/invite")
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    axe_scan(page)
    page.get_by_label(es("Invitation code")).fill(code.lower().replace("-", " "))
    new_account = page.get_by_role("region", name=es("Create a family account"))
    new_account.get_by_label(es("Your name")).fill("Wei Chen")
    new_account.get_by_label(es("Username"), exact=True).fill("wei.chen")
    new_account.get_by_label(es("Password"), exact=True).fill("a long family password")
    new_account.get_by_label(es("Password again")).fill("a long family password")
    new_account.get_by_role("button", name=es("Create my account")).click()

    # The family home, in Spanish, with the conference slot and Maya's feed.
    expect(page).to_have_url(re.compile("/family$"))
    expect(page.get_by_role("heading", name=es("Your children"))).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="Maya Chen").first.click()
    expect(page.get_by_role("link", name="Volcano cross-section poster").first).to_be_visible()
    expect(page.get_by_text("Fraction strips")).to_have_count(0)  # private: never in the family's feed
    axe_scan(page)
    page.get_by_role("link", name="Volcano cross-section poster").first.click()
    page.get_by_label(es("Your comment")).fill("¡Qué póster tan claro, Maya!")
    page.get_by_role("button", name=es("Post comment")).click()
    expect(page.get_by_text("¡Qué póster tan claro, Maya!")).to_be_visible()
    axe_scan(page)

    # The showcase Maya will present, and the family's response from their own login.
    page.goto("/family")
    page.get_by_role("link", name="Maya Chen").first.click()
    follow(page.get_by_role("link", name="My term so far").first)
    axe_scan(page)
    page.get_by_role("link", name=es("Respond to this showcase")).click()
    page.get_by_label(es("What made you proud?")).fill("Que hablaras con tanta calma.")
    axe_scan(page)
    page.get_by_role("button", name=es("Send my response")).click()
    expect(page.get_by_text("Que hablaras con tanta calma.")).to_be_visible()
    axe_scan(page)
    # Wei wasn't invited to Maya's conference (Li Chen was): his conference page doesn't show it.
    page.goto("/conferences")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_text("Room 12")).to_have_count(0)
    axe_scan(page)
    context.close()
    assert problems == []


def test_demo_family_sees_the_feed_the_showcase_and_the_conference(browser, live_server):
    context, page, problems = sign_in(browser, live_server, "family")
    expect(page.get_by_text("Room 12")).to_be_visible()
    expect(page.get_by_role("link", name="See “My term so far”")).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="See everything Maya Chen shares").click()
    expect(page.get_by_role("link", name="Our garden blog post").first).to_be_visible()
    expect(page.get_by_role("link", name="My term so far").first).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="My term so far").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My term so far")
    expect(page.get_by_text("Point to the magma chamber first.")).to_have_count(0)  # talking points: Maya's own
    axe_scan(page)
    page.goto("/family/digest")
    axe_scan(page)
    context.close()
    assert problems == []


def test_secret_link_conference_booking_and_family_settings_pages(browser, live_server):
    # Maya makes a secret link; a visitor with no account opens it.
    context, page, problems = sign_in(browser, live_server, "student")
    page.get_by_role("link", name="Showcases").click()
    page.get_by_role("link", name="My term so far").click()
    page.get_by_role("button", name="Make a secret link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your secret link")
    axe_scan(page)
    url = page.locator("#secret-link").input_value()
    page.goto("/account")
    page.get_by_role("link", name="Who in your family can see your work").click()
    expect(page.get_by_role("link", name="Remove Li Chen")).to_be_visible()
    axe_scan(page)
    context.close()
    assert problems == []

    visitor = browser.new_context()
    shared = visitor.new_page()
    shared.goto(url)
    expect(shared.get_by_role("heading", level=1)).to_have_text("My term so far")
    expect(shared.get_by_role("navigation")).to_have_count(0)  # nothing else of Folio is reachable from here
    axe_scan(shared)
    visitor.close()

    # Ms Shah books Noah's conference with his family invited.
    context, page, problems = sign_in(browser, live_server, "teacher")
    follow(page.get_by_role("link", name="Conferences"))
    axe_scan(page)
    page.goto("/teacher")
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    page.locator("main summary", has_text="More").click()
    page.get_by_role("link", name="Conferences").last.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conferences for Grade 5 Maple")
    axe_scan(page)
    page.get_by_role("link", name="Schedule a conference for Noah Williams").click()
    page.get_by_label("Date").fill("2031-03-12")
    page.get_by_label("Start time").fill("16:40")
    page.get_by_label("Where (optional)").fill("Library")
    expect(page.get_by_label("Grace Williams")).to_be_checked()
    axe_scan(page)
    page.get_by_role("button", name="Book the conference").click()
    expect(page.get_by_text("Library").first).to_be_visible()
    context.close()
    assert problems == []

    context, page, problems = sign_in(browser, live_server, "family2")
    expect(page.get_by_text("Library")).to_be_visible()
    page.get_by_role("link", name="Account").click()
    page.get_by_label("Daily").check()
    axe_scan(page)
    context.close()
    assert problems == []
