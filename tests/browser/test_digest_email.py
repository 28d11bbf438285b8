"""The digest email as a family member sees it on a phone: received from a real SMTP server, its inline photos
shown from the message itself, rendered by Chromium at 390 px (light and dark). The screenshots are written to
test-output/ (not committed) for a person to look at."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from sqlmodel import Session

from app.db import make_engine
from app.services.family import digests
from tests.conftest import make_settings
from tests.digest_world import award_credential, build_world, make_photo, week_later
from tests.test_mail import smtp_server  # noqa: F401 - the SMTP server fixture

pytestmark = pytest.mark.browser
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def _received_digest(tmp_path, sqlite_template, port, inbox):
    """Pat's digest with two photos and a credential, sent to the test server, as (html with its images as data:
    URLs, text)."""
    database = tmp_path / "folio.db"
    shutil.copy(sqlite_template, database)
    settings = make_settings(tmp_path, f"sqlite:///{database}", smtp_host="127.0.0.1", smtp_port=port,
                             smtp_security="none", mail_from="Folio <folio@school.example>")
    engine = make_engine(settings)
    with Session(engine) as session:
        world = build_world(session)
        make_photo(session, settings, tmp_path, world.maya, title="Our volcano erupts")
        make_photo(session, settings, tmp_path, world.maya, title="A bridge of straws")
        award_credential(session, settings, world.teacher, world.maya,
                         "COM.1 Communicating clearly and persuasively: Proficient")
        digests.send_due(session=session, settings=settings, now=week_later(world))
    engine.dispose()
    (message,) = inbox.to("pat@example.org")
    _plain, related = message.iter_parts()
    html_part, *images = related.iter_parts()
    html = html_part.get_content()
    # What a mail client does with cid: pictures: shows the message's own parts.
    for image in images:
        data = base64.b64encode(image.get_content()).decode()
        html = html.replace(f"cid:{image['Content-ID'].strip('<>')}", f"data:image/jpeg;base64,{data}")
    return html, len(images)


def test_the_digest_on_a_phone(browser, sqlite_template, tmp_path, smtp_server):  # noqa: F811
    inbox, port = smtp_server
    html, image_count = _received_digest(tmp_path, sqlite_template, port, inbox)
    assert image_count == 2
    OUTPUT.mkdir(exist_ok=True)
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                      color_scheme=scheme)
        page = context.new_page()
        fetched: list[str] = []
        page.route("**/*", lambda route: (fetched.append(route.request.url), route.abort()))
        page.set_content(html, wait_until="load")
        assert fetched == []  # nothing is loaded from anywhere: opening it tells nobody
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        shown = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
        assert shown == [True, True]
        assert page.evaluate("document.images[0].getBoundingClientRect().width") > 300  # photo-first, full width
        button = page.get_by_role("link", name="Open Folio")
        assert button.count() == 1 and button.bounding_box()["height"] >= 44  # one button, big enough for a thumb
        page.screenshot(path=str(OUTPUT / f"digest-390-{scheme}.png"), full_page=True)
        context.close()
    assert (OUTPUT / "digest-390-light.png").stat().st_size > 10_000
