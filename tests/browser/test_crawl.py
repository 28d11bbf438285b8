"""Every page a demo user can reach by links from their home: no server error, no sideways scrolling at
1280 or 390 px, no serious axe violation, and in Spanish no English interface text left behind.

Pages are deduplicated by URL pattern (numbers replaced), so each kind of page is checked once per role. Each
role's pages are walked twice: in English at 1280 px (axe runs there), and in Spanish at 390 px (the longer
words on the narrower screen are the harder test of fitting). The two walks are independent (each follows the
links of the pages it sees), so with xdist the tests of one role may run in different processes without either
walking twice. Screenshots of each role's main pages at both sizes go to test-output/screenshots/ (not
committed), to look through by eye.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from babel.messages.pofile import read_po

from app.i18n import TRANSLATIONS_DIR
from app.services.demo.demo import DEMO_PASSWORD
from tests.browser.conftest import PageProblems, axe_scan

pytestmark = pytest.mark.browser
BROWSER_RUN_FIRST = True  # the longest browser tests (tests/conftest.py: pytest_collection_modifyitems)

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "test-output" / "screenshots"
ROLES = [("student", "/student"), ("teacher", "/teacher"), ("family", "/family"), ("admin", "/admin")]
SIZES = {"wide": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
MAX_PAGES = 40
MAIN_PAGES = 12  # the first pages of the walk (home and what it links to) are photographed
# Leaving the session, downloads and the presentation mode (a full-screen slide deck of its own) are not pages
# to walk; the rest of the app is.
SKIP = re.compile(r"^/(logout|files/|s/|jobs/\d+/download)|\.(json|csv|zip|pdf)$|/download$")


def pattern(url: str) -> str:
    """The kind of page a URL is: its path with every number replaced, and its query's names."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
    names = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(names) if names else "")


def _links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        href = urldefrag(href).url
        if href.startswith(origin + "/") and not SKIP.search(urlsplit(href).path):
            found.append(href[len(origin):])
    return found


def _sign_in(context, username: str):
    page = context.new_page()
    page.goto("/login")
    page.locator("input[name=identifier]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form[action='/login'] button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def _overflow(page) -> int:
    # Measured once animations have settled: a slide sliding in is wider only for a moment (present.css clips it).
    page.evaluate("() => Promise.all(document.getAnimations().map(a => a.finished.catch(() => null)))")
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _crawl(page, origin: str, role: str, home: str, size: str, problems: list[str], *, axe: bool,
           also=lambda url: None) -> list[str]:
    """Walk the links from home, breadth first, one URL per pattern, checking each page at `size` on the way (and
    with `also`); returns the URLs of the pages visited."""
    queue, seen, visited = [home], {pattern(home)}, []
    while queue and len(visited) < MAX_PAGES:
        url = queue.pop(0)
        if not _check_page(page, url, role, size, problems, axe=axe, shoot=len(visited) < MAIN_PAGES):
            continue
        also(url)
        visited.append(url)
        for link in _links(page, origin):
            if pattern(link) not in seen:
                seen.add(pattern(link))
                queue.append(link)
    return visited


def _shot_name(role: str, size: str, url: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
    return f"{role}-{size}-{slug}.png"


def _check_page(page, url: str, role: str, size: str, problems: list[str], *, axe: bool,
                shoot: bool = True) -> bool:
    """Visit `url` and note what is wrong with it; False when it isn't a page (a download) or failed."""
    response = page.goto(url)
    if response is None or response.status >= 500:
        problems.append(f"{response.status if response else 'no response'} for {url} at {size}")
        return False
    if "text/html" not in (response.headers.get("content-type") or ""):
        return False
    overflow = _overflow(page)
    if overflow > 0:
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                 .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                 .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''))""")
        problems.append(f"{url} at {size} scrolls sideways by {overflow}px ({', '.join(wide)})")
    if axe:
        try:
            axe_scan(page)
        except AssertionError as failure:
            problems.append(str(failure))
    if shoot:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / _shot_name(role, size, url)), full_page=False)
    return True


@pytest.mark.parametrize("username, home", ROLES)
def test_every_page_a_role_reaches_answers_fits_1280px_and_passes_axe(browser, live_server, username, home):
    context = browser.new_context(base_url=live_server, locale="en-GB", viewport=SIZES["wide"])
    context.set_default_timeout(15_000)
    page = _sign_in(context, username)
    console = PageProblems(page)
    problems: list[str] = []
    urls = _crawl(page, live_server, username, home, "wide", problems, axe=True)
    context.close()
    assert home in urls and len(urls) > 3, f"{username} reached only {urls}"
    assert problems + console.messages == [], "\n".join(problems + console.messages)


@lru_cache(maxsize=1)
def english_interface_strings() -> tuple[set[str], list[re.Pattern]]:
    """The catalog's English strings that Spanish says differently: exact ones, and ones with placeholders."""
    with open(TRANSLATIONS_DIR / "es" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    exact: set[str] = set()
    templated: list[re.Pattern] = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if english in strings or len(english) < 3:
                continue
            text = " ".join(english.split())
            if re.search(r"%\(\w+\)[sd]|%[sd]", text):
                body = re.split(r"%\(\w+\)[sd]|%[sd]", text)
                # Only ones with enough fixed words to be recognised; "%(name)s" alone matches anything.
                if sum(len(piece.strip()) for piece in body) >= 8:
                    templated.append(re.compile("^" + "(.+?)".join(re.escape(piece) for piece in body) + "$"))
            else:
                exact.add(text)
    return exact, templated


# The visible text of the page, text node by text node, and the words of attributes people hear or see, leaving
# out what people wrote (Markdown), the language menu (each language names itself) and what is marked translate="no"
# (names in code, such as the API reference's fields).
VISIBLE_TEXT = """() => {
  const skip = 'script, style, template, .prose, .language-switcher, [lang]:not(html), [translate="no"]';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (!text || !parent || parent.closest(skip)) continue;
    if (parent.checkVisibility({visibilityProperty: true}) || parent.closest('.visually-hidden')) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], input[type=submit][value]')) {
    if (el.closest(skip)) continue;
    for (const name of ['placeholder', 'aria-label', 'title', 'value']) {
      if (el.hasAttribute(name) && (name !== 'value' || el.type === 'submit')) out.push(el.getAttribute(name).trim());
    }
  }
  return out;
}"""
# Words the app wrote into someone's portfolio when they did something (a stored title, in the language they used
# then) and usernames (the demo's "teacher" and "family" are words of the catalog too) are content, not interface.
STORED_TEXT = re.compile(r"^Achieved: ")
USERNAMES = {"student", "teacher", "teacher2", "family", "family2", "family3", "admin"}


def test_the_english_detector_knows_interface_words_and_leaves_content_alone():
    exact, templated = english_interface_strings()
    assert "Sign out" in exact and "Cerrar sesión" not in exact
    assert any(p.match("Edit the level “Acquis”") for p in templated)
    assert not any(p.match("Bridge challenge") for p in templated) and "Bridge challenge" not in exact


@pytest.mark.parametrize("username, home", ROLES)
def test_in_spanish_at_390px_every_page_fits_and_no_interface_text_is_left_in_english(
        browser, live_server, username, home):
    exact, templated = english_interface_strings()
    context = browser.new_context(base_url=live_server, locale="es-ES", viewport=SIZES["phone"])
    context.set_default_timeout(15_000)
    page = _sign_in(context, username)
    console = PageProblems(page)
    problems: list[str] = []
    left: set[str] = set()

    def english_left(url: str) -> None:
        assert page.evaluate("() => document.documentElement.lang") == "es", url
        for text in page.evaluate(VISIBLE_TEXT):
            if text in USERNAMES or STORED_TEXT.match(text):
                continue
            if text in exact or any(p.match(text) for p in templated):
                left.add(f"{url}: {text!r}")

    urls = _crawl(page, live_server, username, home, "phone", problems, axe=False, also=english_left)
    context.close()
    assert home in urls and len(urls) > 3, f"{username} reached only {urls}"
    assert problems + console.messages == [], "\n".join(problems + console.messages)
    assert not left, "English left on Spanish pages:\n" + "\n".join(sorted(left))
