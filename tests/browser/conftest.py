"""A live Folio (demo school, SQLite) served by uvicorn in a thread, and Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlmodel import Session

from app import storage
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade
from app.services.demo.demo import seed_demo
from tests.conftest import make_settings, unavailable
from tests.live_server import free_port, serving

CHROMIUM = os.environ.get("FOLIO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE_SOURCE = (Path(__file__).resolve().parent.parent / "vendor" / "axe-4.14.1.min.js").read_text()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> str:
    """The demo school served on a free loopback port; yields its base URL."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("live")
    # The live server runs export jobs itself, in its background thread, as `make run` does.
    settings = make_settings(tmp, f"sqlite:///{tmp / 'folio.db'}", base_url=base_url, job_runner="in-process")
    engine = make_engine(settings)
    upgrade(engine)
    with Session(engine) as session:
        seed_demo(session=session, settings=settings, only_if_empty=True, store=storage.uploads(settings))
    engine.dispose()

    with serving(create_app(settings), port) as served:
        yield served


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class PageProblems:
    """Script errors, CSP violations and failed sub-resources seen while a test ran; a good page has none.

    A document that answers 404 is not a problem in itself (tests visit error pages on purpose and
    check them); a stylesheet, script or image that fails to load is.
    """

    def __init__(self, page) -> None:
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.messages.append(message.text)

    def _response(self, response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            self.messages.append(f"{response.status} for {response.request.resource_type} {response.url}")


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = PageProblems(page)
    yield page
    context.close()
    assert problems.messages == [], f"browser console errors: {problems.messages}"


def follow(link) -> None:
    """Click a link (or button) that opens another page, and wait until that page has loaded.

    Playwright's click returns once the click is dispatched; a scan or measurement straight after it
    can meet the old page, or no document at all while the new one arrives.
    """
    with link.page.expect_navigation(wait_until="load"):
        link.click()


def axe_scan(page) -> None:
    """Run axe-core on the current page; fail on any serious or critical violation."""
    page.wait_for_load_state("load")
    # page.evaluate runs through the DevTools protocol, so the page's CSP (rightly) doesn't block it.
    # Let CSS animations (a slide fading in) finish, or axe measures contrast half-way through a fade.
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))")
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"axe violations on {page.url}:\n{json.dumps(bad, indent=2)}"
