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


def admin_with_framework(session):
    from app.models import Role
    from app.services.competencies import competency_editing, framework_editing, scales

    school = make_school(session)
    admin = make_user(session, school, Role.admin)
    framework = framework_editing.create_framework(session=session, school_id=school.id,
                                         data=framework_editing.FrameworkInput(name="Core", description="First words", default_scale=False))
    session.flush()
    competency = competency_editing.add_competency(session=session, framework=framework, data=competency_editing.CompetencyInput(
        code="C1", name="Communicate", description="Start"))
    level = scales.add_level(session=session, framework=framework, data=scales.LevelInput(label="Emerging", descriptor="Start"))
    session.commit()
    return admin, framework, competency, level


def test_framework_details_two_tabs(client, session):
    from app.models import Framework

    admin, framework, _competency, _level = admin_with_framework(session)
    login(client, admin)
    two_tabs(client, f"/admin/frameworks/{framework.id}", {"name": "Core", "description": "Tab one words"},
             {"name": "Core", "description": "Tab two words"}, saved_text="Tab one words", typed_text="Tab two words")
    session.expire_all()
    assert session.get(Framework, framework.id).description == "Tab one words"


def test_competency_two_tabs(client, session):
    from app.models import Competency

    admin, framework, competency, _level = admin_with_framework(session)
    login(client, admin)
    base = {"competency_code": "C1", "competency_name": "Communicate"}
    two_tabs(client, f"/admin/frameworks/{framework.id}/competencies/{competency.id}",
             {**base, "competency_description": "Tab one words"}, {**base, "competency_description": "Tab two words"},
             saved_text="Tab one words", typed_text="Tab two words")
    session.expire_all()
    assert session.get(Competency, competency.id).description == "Tab one words"


def test_scale_level_two_tabs(client, session):
    from app.models import ProficiencyLevel

    admin, framework, _competency, level = admin_with_framework(session)
    login(client, admin)
    two_tabs(client, f"/admin/frameworks/{framework.id}/levels/{level.id}",
             {"level_label": "Emerging", "level_descriptor": "Tab one words"},
             {"level_label": "Emerging", "level_descriptor": "Tab two words"},
             saved_text="Tab one words", typed_text="Tab two words")
    session.expire_all()
    assert session.get(ProficiencyLevel, level.id).descriptor == "Tab one words"


def test_class_prompts_two_tabs(client, session):
    from app.models import Role, SchoolClass
    from tests.factories import make_class

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    two_tabs(client, f"/classes/{school_class.id}/prompts", {"prompts": "Tab one prompt?"},
             {"prompts": "Tab two prompt?"}, saved_text="Tab one prompt?", typed_text="Tab two prompt?")
    session.expire_all()
    assert session.get(SchoolClass, school_class.id).reflection_prompts.strip() == "Tab one prompt?"


def test_class_settings_two_tabs(client, session):
    from app.models import Role, SchoolClass
    from tests.factories import make_class

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    school_class = make_class(session, school, teachers=[teacher])
    login(client, teacher)
    url = f"/classes/{school_class.id}/settings"
    tab_one, tab_two = version_in(client.get(url).text), version_in(client.get(url).text)
    assert client.post(url, data={"classmates_see_class_items": "true", "version": tab_one}).status_code == 303
    refused = client.post(url, data={"secret_links_allowed": "true", "version": tab_two})
    assert refused.status_code == 409
    assert "Someone changed this somewhere else" in refused.text
    # The form keeps tab two's choices (only secret links on), the saved ones are shown beside it.
    assert re.search(r'id="secret_links_allowed"[^>]*checked', refused.text)
    assert not re.search(r'id="classmates_see_class_items"[^>]*checked', refused.text)
    session.expire_all()
    saved = session.get(SchoolClass, school_class.id)
    assert (saved.classmates_see_class_items, saved.secret_links_allowed) == (True, False)


def test_showcase_talking_points_two_tabs(client, session):
    from app.models import Showcase, ShowcaseItem, ShowcaseItemType

    student = make_user(session, make_school(session))
    note = Artefact(owner_id=student.id, kind=ArtefactKind.note, title="Volcano", body="x", occurred_on=utcnow().date(),
                    audience=Audience.private)
    showcase = Showcase(owner_id=student.id, title="My term")
    session.add_all([note, showcase])
    session.flush()
    entry = ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType.artefact, target_id=note.id)
    session.add(entry)
    session.commit()
    login(client, student)
    page = f"/showcases/{showcase.id}"
    save = f"/showcases/{showcase.id}/items/{entry.id}/points"

    def points_version(html: str) -> str:
        return re.search(r'name="version" value="(\d+)"', html.split(f'/items/{entry.id}/points"', 1)[1]).group(1)

    tab_one, tab_two = points_version(client.get(page).text), points_version(client.get(page).text)
    assert client.post(save, data={"talking_points": "Say it erupted twice", "version": tab_one}).status_code == 303
    refused = client.post(save, data={"talking_points": "Show the lava photo", "version": tab_two})
    assert refused.status_code == 409
    assert "Someone changed this somewhere else" in refused.text
    assert "Show the lava photo" in refused.text and "Say it erupted twice" in refused.text
    session.expire_all()
    assert session.get(ShowcaseItem, entry.id).talking_points == "Say it erupted twice"


def test_conference_slot_two_tabs(client, session):
    from datetime import timedelta

    from app.models import ConferenceSlot, Role
    from tests.factories import make_class

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student = make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    slot = ConferenceSlot(class_id=school_class.id, student_id=student.id, starts_at=utcnow() + timedelta(days=30),
                          location="Room 4", note="")
    session.add(slot)
    session.commit()
    login(client, teacher)
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    base = {"student_id": str(student.id), "date": day, "time": "18:00", "duration": "20", "location": "Room 4",
            "guardians_for": str(student.id)}
    two_tabs(client, f"/conferences/{slot.id}/edit", {**base, "note": "Tab one note"}, {**base, "note": "Tab two note"},
             saved_text="Tab one note", typed_text="Tab two note")
    session.expire_all()
    assert session.get(ConferenceSlot, slot.id).note == "Tab one note"
