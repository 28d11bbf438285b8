"""Quick reactions with JavaScript off: the feed's buttons are a plain form that posts, then brings the family back
to the same card of the same page of the feed."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import follow
from tests.browser.test_staff_pages import sign_in

pytestmark = pytest.mark.browser


def test_a_family_reacts_from_the_feed_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, "family")
    follow(page.get_by_role("link", name="See everything Maya Chen shares"))
    feed_url = page.url
    card = page.locator(".feed__item").nth(1)
    card_id = card.get_attribute("id")
    heart = card.get_by_role("button", name=re.compile("^Love it"))
    expect(heart).to_have_attribute("aria-pressed", "false")

    with page.expect_navigation():
        heart.click()  # no HTMX: the form posts and the server redirects back
    expect(page).to_have_url(re.compile(re.escape(feed_url.split("#")[0]) + rf"(\?page=1)?#{card_id}$"))
    card = page.locator(f"#{card_id}")
    expect(card.get_by_role("button", name=re.compile("^Love it"))).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_text("Li Chen reacted.")).to_be_visible()

    with page.expect_navigation():
        card.get_by_role("button", name=re.compile("^Love it")).click()  # taken back: the demo as it was
    expect(page.locator(f"#{card_id}").get_by_role("button", name=re.compile("^Love it"))).to_have_attribute(
        "aria-pressed", "false")

    # The family home mixes the children's feeds: back there, to the card.
    page.goto("/family")
    card = page.locator(".feed__item").first
    card_id = card.get_attribute("id")
    with page.expect_navigation():
        card.get_by_role("button", name=re.compile("^Well done")).click()
    expect(page).to_have_url(re.compile(rf"/family#{card_id}$"))
    clap = page.locator(f"#{card_id}").get_by_role("button", name=re.compile("^Well done"))
    expect(clap).to_have_attribute("aria-pressed", "true")
    with page.expect_navigation():
        clap.click()
    expect(page.locator(f"#{card_id}").get_by_role("button", name=re.compile("^Well done"))).to_have_attribute(
        "aria-pressed", "false")
    context.close()
