"""A student's goals written through the JSON API, on both databases: the goal form's checks and the goal service
(family approval, version conflicts, steps and their order, check-ins, statuses and achieving with a closing
reflection, deleting)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from app.models import (ApprovalStatus, CheckIn, CheckInArtefact, CheckInStep, Comment, FeedbackRequest, Goal,
                        GoalStatus, GoalStep, GoalTag, Item, ItemApproval, Notification, Reflection, ReflectionGoal,
                        Role, Showcase, ShowcaseItem, ShowcaseItemType, User)
from tests.api_tokens import bearer, make_token
from tests.factories import login, make_class, make_note, make_school, make_user

PROBLEM = "application/problem+json"
SOON = (date.today() + timedelta(days=30)).isoformat()


def _student(session, client, **class_options):
    school = make_school(session)
    student = make_user(session, school, display_name="Maya Chen")
    if class_options:
        teacher = make_user(session, school, role=Role.teacher)
        group = make_class(session, school, teachers=[teacher], students=[student])
        for name, value in class_options.items():
            setattr(group, name, value)
        session.add(group)
        session.commit()
    login(client, student)
    return school, student


def _new_goal(api, token, **overrides) -> dict:
    body = {"title": "Read 10 books", "why": "To read faster", "target_date": SOON, "audience": "private",
            "steps": ["Choose the books", "Read one a month"], "tags": ["reading"], **overrides}
    response = api.post("/api/v1/goals", headers=bearer(token), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_goal_is_set_with_its_steps_and_read_back(client, session, new_client):
    _school, student = _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token)
    assert made["title"] == "Read 10 books" and made["status"] == "active" and made["version"] == 1
    assert [(s["text"], s["done"]) for s in made["steps"]] == [("Choose the books", False), ("Read one a month", False)]
    assert made["tags"] == ["reading"] and made["steps_total"] == 2
    read = api.get(made["api_url"], headers=bearer(token)).json()
    assert read == made
    goal = session.get(Goal, made["id"])
    assert goal.owner_id == student.id and goal.why == "To read faster"
    assert "Read 10 books" in client.get("/goals").text


def test_a_goal_the_form_would_refuse_is_refused_with_a_message_per_field_and_nothing_saved(client, session,
                                                                                            new_client):
    _student(session, client)
    api, token = new_client(), make_token(client)
    past = (date.today() - timedelta(days=3)).isoformat()
    refused = api.post("/api/v1/goals", headers=bearer(token),
                       json={"title": "  ", "target_date": past, "steps": ["x" * 301]})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert set(refused.json()["errors"]) == {"title", "target_date", "step-1"}
    assert "already passed" in refused.json()["errors"]["target_date"]
    assert session.exec(select(Goal)).all() == []


def test_a_family_goal_waits_for_a_teacher_where_the_class_asks_for_it(client, session, new_client):
    _student(session, client, family_items_need_approval=True)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token, audience="family")
    [approval] = session.exec(select(ItemApproval).where(ItemApproval.item_id == made["id"])).all()
    assert approval.status is ApprovalStatus.pending


def test_an_edit_names_its_version_and_a_stale_one_overwrites_nothing(client, session, new_client):
    _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token)
    edit = {"title": "Read 12 books", "why": "Faster still", "target_date": SOON, "audience": "class",
            "tags": ["books"], "version": made["version"]}
    saved = api.put(made["api_url"], headers=bearer(token), json=edit)
    assert saved.status_code == 200, saved.text
    assert saved.json()["title"] == "Read 12 books" and saved.json()["version"] == 2
    assert saved.json()["tags"] == ["books"] and saved.json()["audience"] == "class"
    stale = api.put(made["api_url"], headers=bearer(token), json={**edit, "title": "Read 2 books"})
    assert stale.status_code == 409 and stale.headers["content-type"] == PROBLEM and "version" in stale.json()["errors"]
    session.expire_all()
    assert session.get(Goal, made["id"]).title == "Read 12 books"
    # Through the HTML form too: its version moved on, so the form opened before the API's save is refused.
    page = client.post(f"/goals/{made['id']}/edit", data={"title": "From the page", "audience": "private",
                                                          "version": "1"})
    assert page.status_code == 409
    session.expire_all()
    assert session.get(Goal, made["id"]).title == "Read 12 books"


def test_someone_elses_goal_is_404_and_a_teacher_may_not_write(client, session, new_client):
    school, _student_user = _student(session, client)
    made = _new_goal(new_client(), make_token(client))
    other = new_client()
    login(other, make_user(session, school, display_name="Other"))
    theirs = make_token(other)
    edit = {"title": "Mine now", "version": 1}
    for method, path, body in (("PUT", made["api_url"], edit), ("POST", made["api_url"] + "/steps", {"text": "x"}),
                               ("POST", made["api_url"] + "/status", {"action": "drop"}),
                               ("DELETE", f"{made['api_url']}/steps/{made['steps'][0]['id']}", None),
                               ("POST", f"{made['api_url']}/steps/{made['steps'][1]['id']}/move",
                                {"direction": "up", "version": 1}),
                               ("DELETE", made["api_url"], None)):
        response = other.request(method, path, headers=bearer(theirs), json=body)
        assert response.status_code == 404, (method, path, response.text)
    session.expire_all()
    assert session.get(Goal, made["id"]).title == "Read 10 books"
    assert [s.text for s in _steps(session, made["id"])] == ["Choose the books", "Read one a month"]
    teacher = new_client()
    login(teacher, make_user(session, school, role=Role.teacher))
    assert teacher.delete(made["api_url"], headers=bearer(make_token(teacher))).status_code == 403
    assert session.get(Goal, made["id"]) is not None


def test_steps_are_added_renamed_with_their_version_ticked_and_removed(client, session, new_client):
    _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token)
    first, second = made["steps"]
    added = api.post(made["api_url"] + "/steps", headers=bearer(token), json={"text": "Tell the class"})
    assert added.status_code == 201 and [s["text"] for s in added.json()["steps"]][-1] == "Tell the class"
    assert added.headers["location"] == made["api_url"]
    empty = api.post(made["api_url"] + "/steps", headers=bearer(token), json={"text": "  "})
    assert empty.status_code == 422 and "text" in empty.json()["errors"]
    step_url = f"{made['api_url']}/steps/{first['id']}"
    renamed = api.put(step_url, headers=bearer(token), json={"text": "Choose ten books", "version": first["version"]})
    assert renamed.status_code == 200 and renamed.json()["steps"][0]["text"] == "Choose ten books"
    stale = api.put(step_url, headers=bearer(token), json={"text": "Choose two books", "version": first["version"]})
    assert stale.status_code == 409
    ticked = api.put(step_url, headers=bearer(token), json={"done": True})
    assert ticked.json()["steps"][0]["done"] is True and ticked.json()["steps_done"] == 1
    assert api.put(step_url, headers=bearer(token), json={}).status_code == 422
    removed = api.delete(f"{made['api_url']}/steps/{second['id']}", headers=bearer(token))
    assert removed.status_code == 200 and [s["text"] for s in removed.json()["steps"]] == ["Choose ten books",
                                                                                            "Tell the class"]
    assert api.delete(f"{made['api_url']}/steps/{second['id']}", headers=bearer(token)).status_code == 404


def test_a_check_in_ticks_its_steps_and_takes_only_the_students_own_evidence(client, session, new_client):
    school, student = _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token)
    mine = make_note(session, student, title="My reading log")
    theirs = make_note(session, make_user(session, school), title="Someone else's")
    step = made["steps"][0]["id"]
    refused = api.post(made["api_url"] + "/checkins", headers=bearer(token),
                       json={"note": "Going well", "artefact_ids": [theirs.id]})
    assert refused.status_code == 422 and "artefact_ids" in refused.json()["errors"]
    assert api.post(made["api_url"] + "/checkins", headers=bearer(token), json={}).status_code == 422
    future = (date.today() + timedelta(days=5)).isoformat()
    assert api.post(made["api_url"] + "/checkins", headers=bearer(token),
                    json={"note": "x", "occurred_on": future}).json()["errors"].keys() == {"occurred_on"}
    assert session.exec(select(CheckIn)).all() == []
    saved = api.post(made["api_url"] + "/checkins", headers=bearer(token),
                     json={"note": "Finished book one", "artefact_ids": [mine.id], "step_ids": [step]})
    assert saved.status_code == 201, saved.text
    assert saved.json()["artefact_ids"] == [mine.id] and saved.json()["step_ids"] == [step]
    assert api.get(made["api_url"], headers=bearer(token)).json()["steps"][0]["done"] is True


def test_statuses_move_by_the_goal_pages_rules_and_achieving_keeps_the_closing_words(client, session, new_client):
    _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token)
    status = made["api_url"] + "/status"
    assert api.post(status, headers=bearer(token), json={"action": "pause"}).json()["status"] == "paused"
    wrong = api.post(status, headers=bearer(token), json={"action": "pause"})
    assert wrong.status_code == 422 and "action" in wrong.json()["errors"]
    assert api.post(status, headers=bearer(token), json={"action": "resume"}).json()["status"] == "active"
    silent = api.post(status, headers=bearer(token), json={"action": "achieve", "closing_text": " "})
    assert silent.status_code == 422 and "closing_text" in silent.json()["errors"]
    assert session.exec(select(Reflection)).all() == []
    done = api.post(status, headers=bearer(token), json={"action": "achieve", "closing_text": "I read every night."})
    assert done.status_code == 200 and done.json()["status"] == "achieved"
    session.expire_all()
    goal = session.get(Goal, made["id"])
    reflection = session.get(Reflection, goal.closing_reflection_id)
    assert goal.status is GoalStatus.achieved and reflection.body == "I read every night."
    assert session.exec(select(ReflectionGoal.goal_id).where(ReflectionGoal.reflection_id == reflection.id)).one() == \
        goal.id
    again = api.post(status, headers=bearer(token), json={"action": "achieve", "closing_text": "Again"})
    assert again.status_code == 422
    assert api.post(status, headers=bearer(token), json={"action": "reopen"}).json()["status"] == "active"


def test_a_read_only_token_may_not_write_goals(client, session, new_client):
    _student(session, client)
    api = new_client()
    token = make_token(client, scopes="read")
    refused = api.post("/api/v1/goals", headers=bearer(token), json={"title": "Nope"})
    assert refused.status_code == 403
    assert session.exec(select(Goal)).all() == []
    made = _new_goal(api, make_token(client))
    first, second = made["steps"]
    for method, path, body in (("DELETE", made["api_url"], None),
                               ("POST", f"{made['api_url']}/steps/{second['id']}/move",
                                {"direction": "up", "version": second["version"]})):
        response = api.request(method, path, headers=bearer(token), json=body)
        assert response.status_code == 403 and response.headers["content-type"] == PROBLEM, (method, path)
    assert [s.id for s in _steps(session, made["id"])] == [first["id"], second["id"]]


# --- moving steps ----------------------------------------------------------------------------------


def _steps(session, goal_id: int) -> list[GoalStep]:
    session.expire_all()
    return list(session.exec(select(GoalStep).where(GoalStep.goal_id == goal_id)
                             .order_by(GoalStep.position, GoalStep.id)).all())


def test_a_step_moves_with_its_version_and_a_stale_one_moves_nothing(client, session, new_client):
    _student(session, client)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token, steps=["One", "Two", "Three"])
    one, two, three = made["steps"]
    move = lambda step, **body: api.post(f"{made['api_url']}/steps/{step['id']}/move",  # noqa: E731
                                         headers=bearer(token), json=body)
    moved = move(three, direction="up", version=three["version"])
    assert moved.status_code == 200, moved.text
    assert [(s["text"], s["version"]) for s in moved.json()["steps"]] == [("One", 1), ("Three", 2), ("Two", 2)]
    assert api.get(made["api_url"], headers=bearer(token)).json() == moved.json()
    # Two was read at version 1, before Three swapped places with it: moving it on that read is refused.
    stale = move(two, direction="up", version=two["version"])
    assert stale.status_code == 409 and stale.headers["content-type"] == PROBLEM
    assert "version" in stale.json()["errors"] and "version 2" in stale.json()["detail"]
    assert [(s.text, s.version) for s in _steps(session, made["id"])] == [("One", 1), ("Three", 2), ("Two", 2)]
    # At the end of the list: 422, nothing changes (not even a version); a stale version is still a conflict there.
    top = move(one, direction="up", version=1)
    assert top.status_code == 422 and set(top.json()["errors"]) == {"direction"}
    assert move(two, direction="down", version=1).status_code == 409
    assert move(two, direction="down", version=2).status_code == 422
    assert move(two, direction="sideways", version=2).status_code == 422
    assert move(two, direction="up").status_code == 422  # a move names the version it read
    assert [(s.text, s.version) for s in _steps(session, made["id"])] == [("One", 1), ("Three", 2), ("Two", 2)]
    # The edit page's move buttons go through the same service: after one, the API's older read is stale.
    assert client.post(f"/goals/{made['id']}/steps/{one['id']}/move", data={"direction": "down"}).status_code == 303
    assert [(s.text, s.version) for s in _steps(session, made["id"])] == [("Three", 3), ("One", 2), ("Two", 2)]
    assert move(one, direction="down", version=1).status_code == 409
    assert [s.text for s in _steps(session, made["id"])] == ["Three", "One", "Two"]
    other = _new_goal(api, token, title="Another goal")
    assert api.post(f"{other['api_url']}/steps/{one['id']}/move", headers=bearer(token),
                    json={"direction": "down", "version": 2}).status_code == 404


# --- deleting ----------------------------------------------------------------------------------------


def _goal_with_everything(session, client, new_client) -> tuple[dict, str, int]:
    """A family goal in a class that holds family items for approval, with a check-in on a note, a teacher's comment
    (a notification for the student), a feedback request (one for the teacher), a closing reflection and a place in
    a showcase."""
    school, student = _student(session, client, family_items_need_approval=True)
    api, token = new_client(), make_token(client)
    made = _new_goal(api, token, audience="family")
    note = make_note(session, student, title="My reading log")
    assert api.post(made["api_url"] + "/checkins", headers=bearer(token), json={
        "note": "Book one", "artefact_ids": [note.id], "step_ids": [made["steps"][0]["id"]]}).status_code == 201
    teacher_user = session.exec(select(User).where(User.school_id == school.id, User.role == Role.teacher)).one()
    teacher = new_client()
    login(teacher, teacher_user)
    assert teacher.post(f"/api/v1/items/{made['id']}/comments", headers=bearer(make_token(teacher)),
                        json={"body": "Great start."}).status_code == 201
    assert api.post(f"/api/v1/items/{made['id']}/feedback-requests", headers=bearer(token), json={
        "question": "Is my plan good?", "recipient_ids": [teacher_user.id]}).status_code == 201
    assert api.post(made["api_url"] + "/status", headers=bearer(token),
                    json={"action": "achieve", "closing_text": "I read every night."}).status_code == 200
    showcase = Showcase(owner_id=student.id, title="My best work")
    session.add(showcase)
    session.flush()
    session.add(ShowcaseItem.to(showcase_id=showcase.id, item_type=ShowcaseItemType.goal, target_id=made["id"]))
    session.commit()
    return made, token, note.id


def _count(session, model, *where) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.mark.parametrize("via", ["api", "page"])
def test_a_deleted_goal_takes_what_pointed_at_it_the_same_way_through_the_api_and_its_page(client, session,
                                                                                            new_client, via):
    made, token, note_id = _goal_with_everything(session, client, new_client)
    goal_id = made["id"]
    closing_id = session.get(Goal, goal_id).closing_reflection_id
    pointing = {GoalStep: GoalStep.goal_id == goal_id, CheckIn: CheckIn.goal_id == goal_id,
                GoalTag: GoalTag.goal_id == goal_id, Comment: Comment.item_id == goal_id,
                FeedbackRequest: FeedbackRequest.item_id == goal_id, ItemApproval: ItemApproval.item_id == goal_id,
                Notification: Notification.item_id == goal_id, ReflectionGoal: ReflectionGoal.goal_id == goal_id,
                ShowcaseItem: ShowcaseItem.item_id == goal_id}
    assert all(_count(session, model, where) for model, where in pointing.items())
    assert _count(session, CheckInArtefact) and _count(session, CheckInStep)
    if via == "api":
        deleted = new_client().delete(made["api_url"], headers=bearer(token))
        assert deleted.status_code == 204 and deleted.content == b""
    else:
        assert client.post(f"/goals/{goal_id}/delete").status_code == 303
    assert session.get(Goal, goal_id) is None and _count(session, Item, Item.id == goal_id) == 0
    assert {model.__name__: _count(session, model, where) for model, where in pointing.items()} == {
        model.__name__: 0 for model in pointing}
    assert _count(session, CheckInArtefact) == 0 and _count(session, CheckInStep) == 0
    # The closing reflection stays among the student's reflections, and the evidence stays theirs.
    assert session.get(Reflection, closing_id) is not None and session.get(Item, note_id) is not None
    assert _count(session, Showcase) == 1
    api = new_client()
    assert api.get(made["api_url"], headers=bearer(token)).status_code == 404
    again = api.delete(made["api_url"], headers=bearer(token))
    assert again.status_code == 404 and again.headers["content-type"] == PROBLEM
