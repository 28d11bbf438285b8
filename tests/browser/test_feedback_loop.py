"""The feedback loop in a real browser: ask, answer with a next step, rate; the student acts on it."""

import re

import pytest
from playwright.sync_api import expect

from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import axe_scan, follow

pytestmark = pytest.mark.browser


def sign_in(browser, live_server, username):
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and not m.text.startswith("Failed to load resource") and problems.append(m.text))
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    follow(page.get_by_role("button", name="Sign in"))
    return context, page, problems


def test_request_answer_rate_and_act_on_the_next_step(browser, live_server):
    # Maya asks her teacher about her bridge.
    context, page, problems = sign_in(browser, live_server, "student")
    page.goto("/artefacts")
    page.get_by_role("link", name="Our craft-stick truss bridge").click()
    follow(page.get_by_role("link", name="Ask for feedback"))
    axe_scan(page)
    page.get_by_label(re.compile("Priya Shah")).check()
    page.get_by_label("What would you like to know?").fill("Is my explanation of the triangles convincing?")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our craft-stick truss bridge")
    axe_scan(page)
    context.close()
    assert problems == []

    # Ms Shah answers from her inbox with a next step, then rates Maya on Communicating.
    context, page, problems = sign_in(browser, live_server, "teacher")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    expect(page.get_by_role("button", name=re.compile("Maya Chen asked for your feedback on “Our craft-stick truss bridge”"))).to_be_visible()
    follow(page.get_by_role("link", name="Inbox"))
    axe_scan(page)
    page.get_by_role("link", name="Our craft-stick truss bridge").first.click()
    page.get_by_label("Your comment").fill("Your diagram shows the load path well; the triangles explain themselves.")
    page.get_by_label("Next step (optional)").fill("Explain why triangles keep their shape")
    axe_scan(page)
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Your diagram shows the load path well")).to_be_visible()
    page.goto("/teacher")
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    page.locator("summary", has_text="for Maya Chen").click()  # the row's menu of actions
    page.get_by_role("link", name="Competencies of Maya Chen").click()
    page.get_by_role("link", name=re.compile("Communicating")).first.click()
    page.get_by_role("radio", name="Extending").check()
    page.get_by_label("Comment").fill("Your book talk held the whole class; you answered questions with examples.")
    page.get_by_role("button", name="Save my assessment").click()
    expect(page.get_by_role("cell", name=re.compile("Your book talk held the whole class"))).to_be_visible()
    axe_scan(page)
    context.close()
    assert problems == []

    # Maya sees the notification, turns the next step into a goal step, and sees both ratings.
    context, page, problems = sign_in(browser, live_server, "student")
    expect(page.locator(".notification-count")).to_be_visible()
    follow(page.get_by_role("link", name=re.compile("^Notifications")))
    axe_scan(page)
    page.get_by_role("button", name=re.compile("Priya Shah left feedback on “Our craft-stick truss bridge”")).click()
    page.get_by_label("Add it to").select_option(label="Speak up more in group discussions")
    follow(page.get_by_role("button", name="Add to my goals"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Speak up more in group discussions")
    page.goto("/goals")
    page.get_by_role("link", name="Speak up more in group discussions").click()
    expect(page.get_by_role("button", name="Explain why triangles keep their shape")).to_be_visible()
    axe_scan(page)
    page.goto("/competencies")
    page.get_by_role("link", name=re.compile("Communicating")).first.click()
    chart = page.locator("svg[role=img]")
    expect(chart).to_contain_text("My rating")
    expect(chart).to_contain_text("Teacher's rating")
    expect(page.get_by_text(re.compile("Priya Shah sees you at Extending"))).to_be_visible()
    axe_scan(page)
    context.close()
    assert problems == []
