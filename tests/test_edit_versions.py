"""Two tabs, one item: both load the form, the first save wins, the second is refused (409) with what was typed kept
in the form and what is saved now shown beside it; never a silent overwrite. One test per kind of editable thing."""

from __future__ import annotations

import re

from app.models import Artefact, ArtefactKind, Audience
from app.models.base import utcnow
from sqlmodel import select
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


def test_goal_two_tabs(client, session):
    from app.models import Goal

    student = make_user(session, make_school(session))
    login(client, student)
    assert client.post("/goals/new", data={"title": "Read more", "why": "First why"}).status_code == 303
    goal = session.exec(select(Goal)).one()
    base = {"title": "Read more", "audience": "private"}
    two_tabs(client, f"/goals/{goal.id}/edit", {**base, "why": "Tab one why"}, {**base, "why": "Tab two why"},
             saved_text="Tab one why", typed_text="Tab two why")
    session.expire_all()
    assert session.get(Goal, goal.id).why == "Tab one why"


def test_goal_step_rename_two_tabs(client, session):
    from app.models import Goal, GoalStep

    student = make_user(session, make_school(session))
    login(client, student)
    client.post("/goals/new", data={"title": "Read more", "steps": ["Pick a book"]})
    goal = session.exec(select(Goal)).one()
    step = session.exec(select(GoalStep)).one()
    edit = f"/goals/{goal.id}/edit"
    rename = f"/goals/{goal.id}/steps/{step.id}/rename"
    tab_one = step_version(client.get(edit).text, step.id)
    tab_two = step_version(client.get(edit).text, step.id)
    assert client.post(rename, data={"text": "Pick two books", "version": tab_one}).status_code == 303
    refused = client.post(rename, data={"text": "Pick a long book", "version": tab_two})
    assert refused.status_code == 409
    assert "Someone changed this somewhere else" in refused.text
    assert 'value="Pick a long book"' in refused.text
    assert "Pick two books" in refused.text
    session.expire_all()
    assert session.get(GoalStep, step.id).text == "Pick two books"


def step_version(page: str, step_id: int) -> str:
    form = page.split(f'/steps/{step_id}/rename"', 1)[1]
    return re.search(r'name="version" value="(\d+)"', form).group(1)
