"""Two tabs, one item: both load the form, the first save wins, the second is refused (409) with what was typed kept
in the form and what is saved now shown beside it; never a silent overwrite. One test per kind of editable thing."""

from __future__ import annotations

import re

from app.models import Artefact, ArtefactKind, Audience
from app.models.base import utcnow
from tests.factories import login, make_school, make_user


def version_in(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, "the form carries the version it was opened at"
    return found.group(1)


def two_tabs(client, url: str, first: dict, second: dict, *, saved_text: str, typed_text: str):
    """Open `url` twice, save `first` from tab one and `second` from tab two; return tab two's answer."""
    tab_one = version_in(client.get(url).text)
    tab_two = version_in(client.get(url).text)
    assert client.post(url, data={**first, "version": tab_one}).status_code == 303
    refused = client.post(url, data={**second, "version": tab_two})
    assert refused.status_code == 409
    assert "Someone changed this somewhere else" in refused.text
    assert typed_text in refused.text  # what tab two typed is still in the form
    assert saved_text in refused.text  # and what tab one saved is shown beside it
    # The refused form now carries the saved version: saving again is a deliberate overwrite, and works.
    assert version_in(refused.text) == str(int(tab_one) + 1)
    return refused


def test_evidence_note_two_tabs(client, session):
    student = make_user(session, make_school(session))
    note = Artefact(owner_id=student.id, kind=ArtefactKind.note, title="Lab", body="Start", occurred_on=utcnow().date(),
                    audience=Audience.private)
    session.add(note)
    session.commit()
    login(client, student)
    url = f"/artefacts/{note.id}/edit"
    base = {"title": "Lab", "occurred_on": "2026-12-01", "audience": "private"}
    refused = two_tabs(client, url, {**base, "body": "Saved from tab one"}, {**base, "body": "Typed in tab two"},
                       saved_text="Saved from tab one", typed_text="Typed in tab two")
    session.expire_all()
    assert session.get(Artefact, note.id).body == "Saved from tab one"
    again = client.post(url, data={**base, "body": "Typed in tab two", "version": version_in(refused.text)})
    assert again.status_code == 303
    session.expire_all()
    assert session.get(Artefact, note.id).body == "Typed in tab two"


def test_link_and_evidence_details_two_tabs(client, session):
    student = make_user(session, make_school(session))
    link = Artefact(owner_id=student.id, kind=ArtefactKind.link, title="Site", url="https://example.org/a",
                    occurred_on=utcnow().date(), audience=Audience.private)
    session.add(link)
    session.commit()
    login(client, student)
    base = {"url": "https://example.org/a", "occurred_on": "2026-12-01", "audience": "private"}
    two_tabs(client, f"/artefacts/{link.id}/edit", {**base, "title": "Site", "description": "Tab one's words"},
             {**base, "title": "Site", "description": "Tab two's words", "audience": "family"},
             saved_text="Tab one&#39;s words", typed_text="Tab two&#39;s words")
    session.expire_all()
    saved = session.get(Artefact, link.id)
    assert (saved.description, saved.audience) == ("Tab one's words", Audience.private)
