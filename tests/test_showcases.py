"""Showcases: making, editing and deleting them, their items, order and talking points, and who may see them."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlmodel import select

from app.models import (
    Audience, Competency, CompetencyRating, Goal, GoalStep, ProficiencyLevel, RatingSource, Role, ShareLink, Showcase, ShowcaseItem, User,
)
from tests.factories import link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user

# --- helpers -------------------------------------------------------------------------------------


def people(session):
    """A class with a teacher, the student, a classmate; the student's guardian; a student of another class."""
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    student, classmate, stranger = make_user(session, school), make_user(session, school), make_user(session, school)
    school_class = make_class(session, school, teachers=[teacher], students=[student, classmate])
    make_class(session, school, students=[stranger])
    guardian = make_user(session, school, Role.guardian)
    link_guardian(session, guardian, student)
    return school, school_class, teacher, student, classmate, guardian, stranger


def new_showcase(client, title="My best work", audience="private", introduction="") -> int:
    response = client.post("/showcases/new", data={"title": title, "audience": audience, "introduction": introduction})
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/showcases/(\d+)/items/new", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def add(client, showcase_id: int, item_type: str, item_id: int):
    return client.post(f"/showcases/{showcase_id}/items", data={"item_type": item_type, "item_id": str(item_id)})


def make_goal(session, owner, *, title="Read more", audience=Audience.private, steps=("One", "Two")) -> Goal:
    goal = Goal(owner_id=owner.id, title=title, why="Because stories", audience=audience)
    session.add(goal)
    session.flush()
    for position, text in enumerate(steps):
        session.add(GoalStep(goal_id=goal.id, text=text, position=position, done=position == 0))
    session.commit()
    return goal


def rate(session, student, competency, level, *, by=None, source=RatingSource.self):
    session.add(CompetencyRating(student_id=student.id, competency_id=competency.id, level_id=level.id,
                                 rated_by_id=(by or student).id, source=source, reason="Because"))
    session.commit()


def entry_ids(session, showcase_id: int) -> list[int]:
    session.expire_all()
    return list(session.exec(select(ShowcaseItem.id).where(ShowcaseItem.showcase_id == showcase_id)
                             .order_by(ShowcaseItem.position, ShowcaseItem.id)).all())


def titles_in_order(page: str, titles: list[str]) -> list[str]:
    return sorted(titles, key=page.index)


# --- creating, editing, deleting -----------------------------------------------------------------


def test_student_makes_edits_and_deletes_a_showcase(client, session):
    *_, student, _classmate, _guardian, _stranger = people(session)
    login(client, student)
    assert client.get("/showcases/new").status_code == 200
    showcase_id = new_showcase(client, title="Term one", audience="family", introduction="Hello *family*")
    listing = client.get("/showcases").text
    assert "Term one" in listing and "My family" in listing and "0 items" in listing

    page = client.get(f"/showcases/{showcase_id}").text
    assert "Term one" in page and "<em>family</em>" in page

    form = client.get(f"/showcases/{showcase_id}/edit").text
    assert 'name="version" value="1"' in form
    response = client.post(f"/showcases/{showcase_id}/edit", data={
        "title": "Term one, finished", "introduction": "Bye", "audience": "class", "ready": "true", "version": "1"})
    assert response.status_code == 303
    session.expire_all()
    showcase = session.get(Showcase, showcase_id)
    assert (showcase.title, showcase.introduction, showcase.audience, showcase.ready, showcase.version) == (
        "Term one, finished", "Bye", Audience.class_, True, 2)
    assert "Ready for conference" in client.get("/showcases").text

    assert "Delete “Term one, finished”?" in client.get(f"/showcases/{showcase_id}/delete").text
    assert client.post(f"/showcases/{showcase_id}/delete").status_code == 303
    session.expire_all()
    assert session.get(Showcase, showcase_id) is None


def test_bad_input_is_refused_and_changes_nothing(client, session):
    *_, student, _classmate, _guardian, _stranger = people(session)
    login(client, student)
    response = client.post("/showcases/new", data={"title": "  ", "audience": "private"})
    assert response.status_code == 422 and "Give your showcase a title" in response.text
    response = client.post("/showcases/new", data={"title": "x" * 201, "audience": "private"})
    assert response.status_code == 422 and "under 200 characters" in response.text
    response = client.post("/showcases/new", data={"title": "Fine", "audience": "everyone"})
    assert response.status_code == 422 and "Choose who can see it" in response.text
    assert session.exec(select(Showcase)).all() == []

    showcase_id = new_showcase(client, title="Kept")
    response = client.post(f"/showcases/{showcase_id}/edit", data={
        "title": "", "introduction": "Typed words", "audience": "private", "version": "1"})
    assert response.status_code == 422 and "Typed words" in response.text
    session.expire_all()
    showcase = session.get(Showcase, showcase_id)
    assert (showcase.title, showcase.introduction, showcase.version) == ("Kept", "", 1)


def test_a_stale_save_is_refused_and_keeps_the_typed_text(client, session, new_client):
    *_, student, _classmate, _guardian, _stranger = people(session)
    login(client, student)
    showcase_id = new_showcase(client, title="Original")
    other_tab = new_client()
    login(other_tab, student)
    first = client.post(f"/showcases/{showcase_id}/edit", data={
        "title": "Saved first", "introduction": "From tab one", "audience": "private", "version": "1"})
    assert first.status_code == 303
    stale = other_tab.post(f"/showcases/{showcase_id}/edit", data={
        "title": "Saved second", "introduction": "My careful words", "audience": "family", "version": "1"})
    assert stale.status_code == 409
    assert "changed somewhere else" in stale.text
    assert "My careful words" in stale.text and "From tab one" in stale.text
    assert 'name="version" value="2"' in stale.text
    session.expire_all()
    showcase = session.get(Showcase, showcase_id)
    assert (showcase.title, showcase.audience, showcase.version) == ("Saved first", Audience.private, 2)
    # Saving again from the conflict page is a deliberate overwrite.
    again = other_tab.post(f"/showcases/{showcase_id}/edit", data={
        "title": "Saved second", "introduction": "My careful words", "audience": "family", "version": "2"})
    assert again.status_code == 303
    session.expire_all()
    assert session.get(Showcase, showcase_id).title == "Saved second"


# --- items ---------------------------------------------------------------------------------------


def test_picker_lists_own_work_and_adds_it_once(client, session):
    school, school_class, teacher, student, classmate, *_ = people(session)
    framework = make_framework(session, school, classes=[school_class])
    com, thk = session.exec(select(Competency).where(Competency.framework_id == framework.id,
                                                     Competency.code.in_(["COM", "THK"])).order_by(Competency.code)).all()
    level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).first()
    rate(session, student, com, level)
    rate(session, student, thk, level, by=teacher, source=RatingSource.teacher)  # not rated by the student herself
    note = make_note(session, student, title="Bridge photo")
    reflection = make_reflection(session, student, title="What I learned")
    draft = make_reflection(session, student, title="Half-thought", draft=True)
    goal = make_goal(session, student, title="Swim 1 km")
    theirs = make_note(session, classmate, title="Not mine")

    login(client, student)
    showcase_id = new_showcase(client)
    picker = client.get(f"/showcases/{showcase_id}/items/new").text
    for text in ("Bridge photo", "What I learned", "Swim 1 km", "Communication"):
        assert text in picker
    for text in ("Half-thought", "Not mine", "Thinking"):
        assert text not in picker

    for kind, item_id in (("artefact", note.id), ("reflection", reflection.id), ("goal", goal.id), ("competency", com.id)):
        response = add(client, showcase_id, kind, item_id)
        assert response.status_code == 303, (kind, response.text)
    again = add(client, showcase_id, "artefact", note.id)
    assert again.status_code == 303
    assert "already in this showcase" in client.get(again.headers["location"]).text
    assert len(entry_ids(session, showcase_id)) == 4
    assert "In the showcase" in client.get(f"/showcases/{showcase_id}/items/new").text

    # Someone else's item, a draft, a competency never self-rated, a made-up type: 404 and nothing added.
    for kind, item_id in (("artefact", theirs.id), ("reflection", draft.id), ("competency", thk.id),
                          ("artefact", 99999), ("poem", note.id)):
        assert add(client, showcase_id, kind, item_id).status_code == 404, kind
    assert len(entry_ids(session, showcase_id)) == 4

    page = client.get(f"/showcases/{showcase_id}").text
    assert titles_in_order(page, ["Bridge photo", "What I learned", "Swim 1 km", "Communication"]) == [
        "Bridge photo", "What I learned", "Swim 1 km", "Communication"]
    assert "1 of 2 steps done" in page and "Emerging descriptor" in page


def test_remove_move_and_reorder_items(client, session):
    *_, student, _classmate, _guardian, _stranger = people(session)
    notes = [make_note(session, student, title=f"Work {n}") for n in (1, 2, 3)]
    login(client, student)
    showcase_id = new_showcase(client)
    for note in notes:
        add(client, showcase_id, "artefact", note.id)
    first, second, third = entry_ids(session, showcase_id)
    before = session.get(Showcase, showcase_id).updated_at

    assert client.post(f"/showcases/{showcase_id}/items/{first}/move", data={"direction": "down"}).status_code == 303
    assert entry_ids(session, showcase_id) == [second, first, third]
    assert session.get(Showcase, showcase_id).updated_at > before
    page = client.get(f"/showcases/{showcase_id}").text
    assert titles_in_order(page, ["Work 1", "Work 2", "Work 3"]) == ["Work 2", "Work 1", "Work 3"]
    # The top one can't go up: nothing changes.
    response = client.post(f"/showcases/{showcase_id}/items/{second}/move", data={"direction": "up"})
    assert "go any further" in client.get(response.headers["location"]).text
    assert entry_ids(session, showcase_id) == [second, first, third]

    # The drag-and-drop endpoint: the full order, as fetch sends it, and as a plain form.
    response = client.post(f"/showcases/{showcase_id}/items/order", data={"order": f"{third},{second},{first}"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["order"] == [third, second, first]
    assert entry_ids(session, showcase_id) == [third, second, first]
    assert client.post(f"/showcases/{showcase_id}/items/order", data={"order": f"{first},{second},{third}"}).status_code == 303
    assert entry_ids(session, showcase_id) == [first, second, third]

    # Anything but exactly this showcase's entries is refused and changes nothing.
    other_id = new_showcase(client, title="Other")
    add(client, other_id, "artefact", notes[0].id)
    foreign = entry_ids(session, other_id)[0]
    for bad in (f"{first},{second}", f"{first},{second},{third},{third}", f"{first},{second},{foreign}",
                f"{first},{second},{third},{foreign}", "one,two", ""):
        response = client.post(f"/showcases/{showcase_id}/items/order", data={"order": bad}, headers={"Accept": "application/json"})
        assert response.status_code == 422, bad
        assert entry_ids(session, showcase_id) == [first, second, third]
    response = client.post(f"/showcases/{showcase_id}/items/order", data={"order": f"{second},{first}"})
    assert response.status_code == 422 and "match the items" in response.text

    assert client.post(f"/showcases/{showcase_id}/items/{second}/remove").status_code == 303
    assert entry_ids(session, showcase_id) == [first, third]
    # An entry of another showcase can't be removed through this one.
    assert client.post(f"/showcases/{showcase_id}/items/{foreign}/remove").status_code == 404
    assert entry_ids(session, other_id) == [foreign]


def test_talking_points_are_for_the_owner_and_teachers_only(client, session, new_client):
    _school, _class, teacher, student, classmate, guardian, _stranger = people(session)
    note = make_note(session, student, title="Volcano", audience=Audience.class_)
    family_note = make_note(session, student, title="Poem", audience=Audience.family)
    login(client, student)
    showcase_id = new_showcase(client, audience="class")
    add(client, showcase_id, "artefact", note.id)
    entry_id = entry_ids(session, showcase_id)[0]
    response = client.post(f"/showcases/{showcase_id}/items/{entry_id}/points", data={"talking_points": "Say it erupted twice"})
    assert response.status_code == 303
    assert "Say it erupted twice" in client.get(f"/showcases/{showcase_id}").text

    too_long = client.post(f"/showcases/{showcase_id}/items/{entry_id}/points", data={"talking_points": "y" * 2001})
    assert too_long.status_code == 422 and "under 2000 characters" in too_long.text and "y" * 2001 in too_long.text
    session.expire_all()
    assert session.get(ShowcaseItem, entry_id).talking_points == "Say it erupted twice"

    teacher_browser = new_client()
    login(teacher_browser, teacher)
    page = teacher_browser.get(f"/showcases/{showcase_id}").text
    assert "Volcano" in page and "Say it erupted twice" in page

    classmate_browser = new_client()
    login(classmate_browser, classmate)
    page = classmate_browser.get(f"/showcases/{showcase_id}").text
    assert "Volcano" in page and "Say it erupted twice" not in page

    family_id = new_showcase(client, title="For home", audience="family")
    add(client, family_id, "artefact", family_note.id)
    client.post(f"/showcases/{family_id}/items/{entry_ids(session, family_id)[0]}/points", data={"talking_points": "Read it aloud"})
    guardian_browser = new_client()
    login(guardian_browser, guardian)
    page = guardian_browser.get(f"/showcases/{family_id}").text
    assert "Poem" in page and "Read it aloud" not in page


# --- who may see what ----------------------------------------------------------------------------


def test_another_student_gets_404_on_every_route(client, session, new_client):
    *_, student, classmate, _guardian, stranger = people(session)
    note = make_note(session, student)
    login(client, student)
    showcase_id = new_showcase(client, audience="class")
    add(client, showcase_id, "artefact", note.id)
    entry_id = entry_ids(session, showcase_id)[0]
    client.post(f"/showcases/{showcase_id}/links", data={"expires_on": (date.today() + timedelta(days=3)).isoformat()})
    link_id = session.exec(select(ShareLink.id).where(ShareLink.showcase_id == showcase_id)).first()
    assert link_id is not None

    stranger_note = make_note(session, stranger, title="Stranger's")
    for other in (stranger, classmate):
        browser = new_client()
        login(browser, other)
        gets = [f"/showcases/{showcase_id}/edit", f"/showcases/{showcase_id}/delete", f"/showcases/{showcase_id}/items/new"]
        if other is stranger:
            gets.append(f"/showcases/{showcase_id}")
        for url in gets:
            assert browser.get(url).status_code == 404, (other.username, url)
        posts = [
            (f"/showcases/{showcase_id}/edit", {"title": "Mine now", "audience": "private", "version": "1"}),
            (f"/showcases/{showcase_id}/delete", {}),
            (f"/showcases/{showcase_id}/items", {"item_type": "artefact", "item_id": str(stranger_note.id)}),
            (f"/showcases/{showcase_id}/items/{entry_id}/remove", {}),
            (f"/showcases/{showcase_id}/items/{entry_id}/points", {"talking_points": "Hijacked"}),
            (f"/showcases/{showcase_id}/items/{entry_id}/move", {"direction": "down"}),
            (f"/showcases/{showcase_id}/items/order", {"order": str(entry_id)}),
            (f"/showcases/{showcase_id}/links", {"expires_on": (date.today() + timedelta(days=3)).isoformat()}),
            (f"/showcases/{showcase_id}/links/{link_id}/revoke", {}),
        ]
        for url, data in posts:
            assert browser.post(url, data=data).status_code == 404, (other.username, url)
    session.expire_all()
    showcase = session.get(Showcase, showcase_id)
    assert showcase.title == "My best work" and entry_ids(session, showcase_id) == [entry_id]
    assert session.get(ShowcaseItem, entry_id).talking_points == ""
    assert session.get(ShareLink, link_id).revoked_at is None
    assert len(session.exec(select(ShareLink)).all()) == 1


def test_classmates_see_class_showcases_but_not_private_ones(client, session, new_client):
    *_, student, classmate, _guardian, _stranger = people(session)
    shared_note = make_note(session, student, title="For the class", audience=Audience.class_)
    private_note = make_note(session, student, title="Just mine")
    login(client, student)
    class_id = new_showcase(client, title="Class show", audience="class")
    add(client, class_id, "artefact", shared_note.id)
    add(client, class_id, "artefact", private_note.id)
    private_id = new_showcase(client, title="Secret show", audience="private")
    editor = client.get(f"/showcases/{class_id}").text
    assert "see this one unless you share it with your class." in editor

    browser = new_client()
    login(browser, classmate)
    page = browser.get(f"/showcases/{class_id}").text
    assert "Class show" in page and "For the class" in page and "Just mine" not in page
    assert browser.get(f"/showcases/{private_id}").status_code == 404


def test_a_guardian_sees_a_family_showcase_without_its_private_items(client, session, new_client):
    *_, student, _classmate, guardian, _stranger = people(session)
    family_note = make_note(session, student, title="Family story", audience=Audience.family)
    private_note = make_note(session, student, title="Private sketch")
    login(client, student)
    family_id = new_showcase(client, title="For home", audience="family")
    add(client, family_id, "artefact", family_note.id)
    add(client, family_id, "artefact", private_note.id)
    class_id = new_showcase(client, title="For class", audience="class")
    editor = client.get(f"/showcases/{family_id}").text
    assert "see this one unless you share it with them." in editor
    assert editor.count("unless you share it with them") == 1

    browser = new_client()
    login(browser, guardian)
    page = browser.get(f"/showcases/{family_id}").text
    assert "For home" in page and "Family story" in page and "Private sketch" not in page
    assert "Move up" not in page and "Remove" not in page
    assert browser.get(f"/showcases/{class_id}").status_code == 404
    assert browser.get(f"/showcases/{family_id}/edit").status_code == 404


def test_a_teacher_sees_even_a_private_showcase(client, session, new_client):
    school, _class, teacher, student, *_ = people(session)
    other_teacher = make_user(session, school, Role.teacher)
    note = make_note(session, student, title="Draft design")
    login(client, student)
    showcase_id = new_showcase(client, title="Private show")
    add(client, showcase_id, "artefact", note.id)
    browser = new_client()
    login(browser, teacher)
    page = browser.get(f"/showcases/{showcase_id}").text
    assert "Private show" in page and "Draft design" in page
    assert browser.get(f"/showcases/{showcase_id}/edit").status_code == 404
    outsider = new_client()
    login(outsider, other_teacher)
    assert outsider.get(f"/showcases/{showcase_id}").status_code == 404


def test_the_showcase_page_query_count_does_not_grow_with_its_items(client, session, new_client, count_queries):
    school, school_class, teacher, student, *_ = people(session)
    framework = make_framework(session, school, classes=[school_class])
    competencies = session.exec(select(Competency).where(Competency.framework_id == framework.id)).all()
    levels = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == framework.id)).all()
    login(client, student)
    teacher_browser = new_client()
    login(teacher_browser, teacher)
    showcase_id = new_showcase(client)
    student_user = session.get(User, student.id)

    def fill(upto: int) -> None:
        n = len(entry_ids(session, showcase_id))
        while n < upto:
            kind = n % 4
            if kind == 0:
                add(client, showcase_id, "artefact", make_note(session, student_user, title=f"N{n}", audience=Audience.class_).id)
            elif kind == 1:
                add(client, showcase_id, "reflection", make_reflection(session, student_user, title=f"R{n}").id)
            elif kind == 2:
                add(client, showcase_id, "goal", make_goal(session, student_user, title=f"G{n}").id)
            else:
                competency = competencies[(n // 4) % len(competencies)]
                rate(session, student_user, competency, levels[0])
                response = add(client, showcase_id, "competency", competency.id)
                if "already" in client.get(response.headers["location"]).text:
                    add(client, showcase_id, "artefact", make_note(session, student_user, title=f"X{n}").id)
            n = len(entry_ids(session, showcase_id))

    counts = {"owner": [], "teacher": []}
    for size in (4, 20):
        fill(size)
        for who, browser in (("owner", client), ("teacher", teacher_browser)):
            with count_queries() as counter:
                assert browser.get(f"/showcases/{showcase_id}").status_code == 200
            counts[who].append(counter.count)
    assert counts["owner"][0] == counts["owner"][1], counts
    assert counts["teacher"][0] == counts["teacher"][1], counts


def test_list_is_paginated_and_only_the_students_own(client, session, new_client):
    *_, student, classmate, _guardian, _stranger = people(session)
    login(client, student)
    for n in range(22):
        session.add(Showcase(owner_id=student.id, title=f"Show {n:02d}"))
    session.add(Showcase(owner_id=classmate.id, title="Classmate's show", audience=Audience.class_))
    session.commit()
    first = client.get("/showcases").text
    assert "Page 1 of 2" in first and "Classmate's show" not in first
    assert "Show" in client.get("/showcases?page=2").text


def test_made_up_and_huge_ids_answer_404_not_an_error(client, session):
    *_, student, _classmate, _guardian, _stranger = people(session)
    login(client, student)
    showcase_id = new_showcase(client)
    huge = 2**31 + 5
    for url in (f"/showcases/{huge}", f"/showcases/{huge}/edit", f"/showcases/{huge}/items/new", "/showcases/424242"):
        assert client.get(url).status_code == 404, url
    assert add(client, showcase_id, "artefact", huge).status_code == 404
    assert client.post(f"/showcases/{showcase_id}/items/{huge}/remove").status_code == 404
    assert client.post(f"/showcases/{showcase_id}/links/{huge}/revoke").status_code == 404
    response = client.post(f"/showcases/{showcase_id}/items/order", data={"order": str(huge)}, headers={"Accept": "application/json"})
    assert response.status_code == 422


def test_a_spoken_reflection_in_a_showcase_plays_for_whoever_may_read_it(client, session, new_client):
    from app.models import Reflection
    from tests.factories import post_multipart
    from tests.test_filetypes import wav_bytes

    _school, _class, _teacher, student, classmate, _guardian, _stranger = people(session)
    login(client, student)
    made = post_multipart(client, "/reflections", {"title": "My speech", "body": "", "audience": "class"},
                          files={"audio": ("speech.wav", wav_bytes(), "audio/wav")})
    assert made.status_code == 303
    reflection = session.exec(select(Reflection)).one()
    showcase_id = new_showcase(client, audience="class")
    assert add(client, showcase_id, "reflection", reflection.id).status_code == 303
    peer = new_client()
    login(peer, classmate)
    recording = f"/files/{reflection.audio_artefact_id}/original"
    assert recording in peer.get(f"/showcases/{showcase_id}").text
    assert peer.get(recording).status_code == 200
    edit = post_multipart(client, f"/reflections/{reflection.id}/edit",
                          {"title": "My speech", "body": "", "audience": "private", "version": reflection.version})
    assert edit.status_code == 303
    page = peer.get(f"/showcases/{showcase_id}")
    assert page.status_code == 200 and "My speech" not in page.text and recording not in page.text
    assert peer.get(recording).status_code == 404
