"""A teacher awards an Open Badges credential from a rating, the independent verifier accepts it from the live
server's own URLs, and the student finds it; every page passes axe."""

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.badges_verifier import VerifierUnavailable, node_verify
from tests.browser.conftest import axe_scan
from tests.browser.test_staff_pages import sign_in
from tests.conftest import unavailable

pytestmark = pytest.mark.browser


def test_award_verify_and_find_a_credential(page, live_server):
    sign_in(page, "teacher")
    page.goto("/teacher")
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    page.locator("summary", has_text="for Maya Chen").click()
    page.get_by_role("link", name="Competencies of Maya Chen").click()
    page.get_by_role("link", name=re.compile("Communicating")).first.click()
    page.locator("input[name=level_id]").last.check()
    page.get_by_label("Comment").fill("You explain your thinking clearly to the whole class.")
    page.get_by_label("Also award an Open Badges credential for this level").check()
    axe_scan(page)
    page.get_by_role("button", name="Save my assessment").click()
    expect(page.get_by_text(re.compile("a credential awarded for it"))).to_be_visible()
    page.get_by_role("link", name="Awarded").first.click()
    expect(page.locator("main h1")).to_contain_text("Communicating")
    axe_scan(page)
    credential_url = page.get_by_role("link", name="Download JSON").get_attribute("href")

    # The credential as issued, checked by the independent verifier against what the live server publishes.
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    credential = httpx.get(f"{live_server}{credential_url}", cookies=cookies).json()
    documents = {url: httpx.get(url).json() for url in (
        credential["issuer"]["id"], credential["credentialStatus"]["statusListCredential"])}
    assert httpx.get(credential["id"]).json() == credential  # its id is where anyone fetches it
    try:
        result = node_verify(credential, documents=documents)
    except VerifierUnavailable as error:
        unavailable(f"The independent credential verifier is not available: {error}")
    assert result["accepted"], result

    page.get_by_role("link", name="Verify it").click()
    expect(page.get_by_text("This credential is genuine and valid.")).to_be_visible()
    axe_scan(page)
    page.get_by_role("link", name="Verify another credential").click()
    page.get_by_label("The credential's JSON").fill(json.dumps(credential))
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("This credential is genuine and valid.")).to_be_visible()
    page.get_by_role("link", name="Verify another credential").click()
    page.get_by_role("button", name="Verify", exact=True).click()
    expect(page.get_by_text("Paste a credential's JSON or choose its file.").first).to_be_visible()
    axe_scan(page)

    page.context.clear_cookies()
    sign_in(page, "student")
    page.get_by_role("link", name="My credentials").first.click()
    expect(page.locator("main h1")).to_have_text("My credentials")
    axe_scan(page)
    page.get_by_role("link", name=re.compile("Communicating")).first.click()
    expect(page.get_by_role("link", name="Download JSON")).to_be_visible()
    axe_scan(page)
