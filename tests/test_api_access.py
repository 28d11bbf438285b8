"""Every /api/v1 route asked by the access matrix's viewers (tests/test_access_matrix.py), each with a token made on
their own Account page: the API sees exactly what the HTML pages let its owner see, no more.

Maya (the owner) is in class A with a classmate and their teacher; class A lets classmates see class items and holds
family items for a teacher's approval, and assesses against a framework. Another student and teacher are in class B;
Maya's guardian, another student's guardian and the school's admin complete the viewers. Maya keeps a note, a goal and
a reflection in each state (private, class, family approved, family still pending) and a draft reflection; each item's
comment thread is read and written by every viewer. The classmate has two family notes waiting for approval
(one for the teacher to approve, one to return).

Every operation of the API is asked (test_the_matrix_asks_every_api_route walks the API's routes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from fastapi.routing import iter_route_contexts
from starlette.routing import Mount, compile_path

from app.main import create_app
from app.models import (ApiToken, ApprovalStatus, Audience, Competency, FeedbackRecipient, FeedbackRequest, Goal,
                        GoalStatus, GoalStep, ItemApproval, ProficiencyLevel, Role)
from app.services.badges.issuing import issue_for_goal
from app.models.base import utcnow
from tests.api_tokens import bearer, make_token
from tests.conftest import fast_hashing, make_settings
from tests.factories import (
    link_guardian,
    login,
    make_class,
    make_framework,
    make_note,
    make_reflection,
    make_school,
    make_user,
)
from tests.media import png, webm_opus
from tests.test_goals import make_goal

VIEWERS = ("owner", "classmate", "teacher", "other_student", "other_teacher", "guardian", "other_guardian", "admin")
STATES = ("private", "class", "family", "pending")
ROLE = {"owner": "student", "classmate": "student", "other_student": "student", "teacher": "teacher",
        "other_teacher": "teacher", "guardian": "guardian", "other_guardian": "guardian", "admin": "admin"}


def sees(viewer: str, state: str) -> bool:
    """The audience rules of app.access, as the matrix spells them."""
    return (viewer == "owner" or (viewer == "teacher" and state != "draft")
            or (viewer == "classmate" and state == "class") or (viewer == "guardian" and state == "family"))


@dataclass
class World:
    app: object
    tokens: dict[str, str] = field(default_factory=dict)
    read_only: str = ""
    notes: dict[str, int] = field(default_factory=dict)
    goals: dict[str, int] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    reflections: dict[str, int] = field(default_factory=dict)
    competency_id: int = 0
    level_id: int = 0
    edited_reflection: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    approvals: dict[str, int] = field(default_factory=dict)
    credential: str = ""  # the public id of a credential the teacher awarded Maya
    edited_goal: int = 0  # a private goal of Maya's that the write operations change
    edited_steps: tuple[int, int] = (0, 0)
    deleted_goal: int = 0  # a private goal of Maya's that only she may delete
    request: int = 0  # Maya's open feedback request to her teacher, which only she may withdraw
    recordings: dict[str, int] = field(default_factory=dict)  # the recording Maya spoke into each reflection
    spoken_reflection: int = 0  # a private reflection of Maya's that the recording operations change


@pytest.fixture(scope="module")
def world(module_database_url, tmp_path_factory) -> Iterator[World]:
    with fast_hashing():
        settings = make_settings(tmp_path_factory.mktemp("api-access"), module_database_url,
                                 api_rate_per_minute=100_000)
        app = create_app(settings)
        built = World(app)
        with Session(app.state.engine) as db:
            school = make_school(db)
            users = {v: make_user(db, school, role=Role(ROLE[v])) for v in VIEWERS}
            class_a = make_class(db, school, teachers=[users["teacher"]], students=[users["owner"], users["classmate"]])
            class_b = make_class(db, school, teachers=[users["other_teacher"]], students=[users["other_student"]])
            class_a.family_items_need_approval = True
            db.add(class_a)
            db.commit()
            built.classes = {"A": class_a.id, "B": class_b.id}
            framework = make_framework(db, school, classes=[class_a])
            built.competency_id = db.exec(select(Competency.id).where(Competency.framework_id == framework.id)).first()
            built.level_id = db.exec(select(ProficiencyLevel.id).where(
                ProficiencyLevel.framework_id == framework.id)).first()
            for decision in ("approve", "return"):
                waiting = make_note(db, users["classmate"], title=f"Classmate {decision}", audience=Audience.family)
                built.approvals[decision] = db.exec(select(ItemApproval.id).where(
                    ItemApproval.item_id == waiting.id)).one()
            link_guardian(db, users["guardian"], users["owner"])
            link_guardian(db, users["other_guardian"], users["other_student"])
            owner = users["owner"]
            for state in STATES:
                audience = Audience.family if state == "pending" else Audience(state)
                note = make_note(db, owner, title=f"Maya note {state}", audience=audience)
                goal = make_goal(db, owner, title=f"Maya goal {state}", audience=audience)
                built.notes[state], built.goals[state] = note.id, goal.id
                built.titles[f"note {state}"], built.titles[f"goal {state}"] = note.title, goal.title
                reflection = make_reflection(db, owner, title=f"Maya reflection {state}", audience=audience)
                built.reflections[state], built.titles[f"reflection {state}"] = reflection.id, reflection.title
            draft = make_reflection(db, owner, title="Maya draft", audience=Audience.class_, draft=True)
            built.notes["draft"], built.titles["reflection draft"] = draft.id, draft.title
            built.reflections["draft"] = draft.id
            built.edited_reflection = make_reflection(db, owner, title="Maya reflection to edit").id
            built.spoken_reflection = make_reflection(db, owner, title="Maya reflection to speak").id
            edited_goal = make_goal(db, owner, title="Maya goal to edit")
            built.edited_goal = edited_goal.id
            built.edited_steps = tuple(db.exec(select(GoalStep.id).where(GoalStep.goal_id == edited_goal.id)
                                               .order_by(GoalStep.position)).all())
            built.deleted_goal = make_goal(db, owner, title="Maya goal to delete").id
            asked = FeedbackRequest(student_id=owner.id, item_id=built.notes["class"], question="Is it clear?")
            db.add(asked)
            db.flush()
            db.add(FeedbackRecipient(request_id=asked.id, user_id=users["teacher"].id))
            built.request = asked.id
            for approval in db.exec(select(ItemApproval).where(ItemApproval.item_id.in_(
                    [built.notes["family"], built.goals["family"], built.reflections["family"]]))).all():
                approval.status = ApprovalStatus.approved
                db.add(approval)
            db.commit()
            built.ids = {v: u.id for v, u in users.items()}
            achieved = Goal(owner_id=owner.id, title="Maya badge goal", status=GoalStatus.achieved, achieved_at=utcnow())
            db.add(achieved)
            db.commit()
            built.credential = issue_for_goal(session=db, settings=settings, teacher=users["teacher"],
                                              goal_id=achieved.id).public_id
            db.commit()
            for viewer, user in users.items():
                with TestClient(app, follow_redirects=False) as browser:
                    login(browser, user)
                    built.tokens[viewer] = make_token(browser, name=viewer, scopes="read write")
                    if viewer == "owner":
                        built.read_only = make_token(browser, name="read only", scopes="read")
                        built.tokens["expired"] = make_token(browser, name="expired")
                        built.tokens["revoked"] = make_token(browser, name="revoked")
            with TestClient(app) as api:  # each reflection spoken, through the API's own recording operation
                for state, reflection_id in built.reflections.items():
                    spoken = api.put(f"/api/v1/reflections/{reflection_id}/recording", headers=bearer(
                        built.tokens["owner"]), files=[("file", ("voice.webm", webm_opus(), "audio/webm")),
                                                       ("version", (None, "1"))])
                    assert spoken.status_code == 200, spoken.text
                    built.recordings[state] = spoken.json()["recording"]["file_id"]
            for approval in db.exec(select(ItemApproval).where(  # the words approved are still those approved
                    ItemApproval.item_id == built.reflections["family"])).all():
                approval.status = ApprovalStatus.approved
                db.add(approval)
            for name in ("expired", "revoked"):
                row = db.exec(select(ApiToken).where(ApiToken.name == name)).one()
                if name == "expired":
                    row.expires_at = utcnow()
                else:
                    row.revoked_at = utcnow()
                db.add(row)
            db.commit()
        yield built
    app.state.engine.dispose()


def _requests(world: World) -> list[tuple[str, str, dict, dict[str, int]]]:
    """(method, path, json body, expected status per viewer) for every API route and case."""
    every = {v: 200 for v in VIEWERS}
    only = lambda role, ok=200: {v: (ok if ROLE[v] == role else 403) for v in VIEWERS}  # noqa: E731
    asks = [("GET", "/api/v1/me", {}, every), ("GET", "/api/v1/items", {}, only("student")),
            ("GET", "/api/v1/goals", {}, only("student")), ("GET", "/api/v1/family/children", {}, only("guardian")),
            ("POST", "/api/v1/items/notes", {"title": "API note", "body": "words"}, only("student", 201)),
            ("POST", "/api/v1/items/links", {"title": "API link", "url": "https://example.org"}, only("student", 201))]
    for state, item_id in world.notes.items():
        asks.append(("GET", f"/api/v1/items/{item_id}", {}, {v: 200 if sees(v, state) else 404 for v in VIEWERS}))
        # A note has no file: nobody fetches one, whoever sees the note (tests/test_embedded_images.py fetches one).
        asks.append(("GET", f"/api/v1/files/{item_id}/original", {}, {v: 404 for v in VIEWERS}))
    for state, goal_id in world.goals.items():
        expected = {v: 200 if sees(v, state) else 404 for v in VIEWERS}
        asks += [("GET", f"/api/v1/goals/{goal_id}", {}, expected), ("GET", f"/api/v1/items/{goal_id}", {}, expected)]
    asks.append(("GET", "/api/v1/credentials", {}, only("student")))
    # As its page in Folio: the student, their teacher (its issuer), the school's admin and the student's own family;
    # nobody else.
    asks.append(("GET", f"/api/v1/credentials/{world.credential}", {},
                 {v: 200 if v in ("owner", "teacher", "admin", "guardian") else 404 for v in VIEWERS}))
    asks.append(("GET", "/api/v1/credentials/00000000-0000-0000-0000-000000000000", {}, {v: 404 for v in VIEWERS}))
    feed = {v: 403 if ROLE[v] != "guardian" else (200 if v == "guardian" else 404) for v in VIEWERS}
    asks.append(("GET", f"/api/v1/family/children/{world.ids['owner']}/feed", {}, feed))
    return asks + _student_surface(world, only) + _teacher_requests(world)


def _student_surface(world: World, only) -> list[tuple[str, str, dict, dict[str, int]]]:
    """Files, reflections, frameworks, self-assessments and feedback threads."""
    competency = f"/api/v1/competencies/{world.competency_id}"
    # Only the owner edits their reflection (a classmate who may read it gets 404, as on its edit page).
    edit = {v: 200 if v == "owner" else (404 if ROLE[v] == "student" else 403) for v in VIEWERS}
    # A student asks about their own item only; a classmate who sees it gets 404, as on the request form.
    ask = {v: 201 if v == "owner" else (404 if ROLE[v] == "student" else 403) for v in VIEWERS}
    asks = [("POST", "/api/v1/items/files", {"file": ("api.png", png(), "image/png")}, only("student", 201)),
            ("GET", "/api/v1/reflections", {}, only("student")),
            ("POST", "/api/v1/reflections", {"title": "API reflection", "body": "words"}, only("student", 201)),
            ("PUT", f"/api/v1/reflections/{world.edited_reflection}",
             {"title": "Edited", "body": "words", "version": 1}, edit),
            ("GET", "/api/v1/frameworks", {}, only("student")),
            ("GET", "/api/v1/self-assessments", {}, only("student")),
            ("GET", f"{competency}/ratings", {}, only("student")),
            ("POST", f"{competency}/ratings", {"level_id": world.level_id, "reason": "Because"}, only("student", 201)),
            ("GET", "/api/v1/feedback/recipients", {}, only("student")),
            ("POST", f"/api/v1/items/{world.notes['class']}/feedback-requests",
             {"question": "Clear?", "recipient_ids": [world.ids["teacher"]]}, ask),
            # Only the student who asked withdraws it (their teacher, asked, can't either: 403, as on the page).
            ("POST", f"/api/v1/feedback-requests/{world.request}/withdraw", {}, {**ask, "owner": 200})]
    # Only the owner changes their goal (anyone else's is 404 to a student, as on its edit page); the viewers ask in
    # order, the owner first, so each change meets the goal as the one before left it.
    goal, (ticked, removed) = f"/api/v1/goals/{world.edited_goal}", world.edited_steps
    asks += [("POST", "/api/v1/goals", {"title": "API goal", "steps": ["One"]}, only("student", 201)),
             ("PUT", goal, {"title": "Edited goal", "audience": "private", "version": 1}, edit),
             ("POST", f"{goal}/steps", {"text": "Another step"}, {**edit, "owner": 201}),
             ("POST", f"{goal}/steps/{removed}/move", {"direction": "up", "version": 1}, edit),
             ("PUT", f"{goal}/steps/{ticked}", {"done": True}, edit),
             ("DELETE", f"{goal}/steps/{removed}", {}, edit),
             ("POST", f"{goal}/checkins", {"note": "Going well"}, {**edit, "owner": 201}),
             ("POST", f"{goal}/status", {"action": "pause"}, edit),
             ("DELETE", f"/api/v1/goals/{world.deleted_goal}", {}, {**edit, "owner": 204})]
    for state, reflection_id in world.reflections.items():
        asks.append(("GET", f"/api/v1/reflections/{reflection_id}", {},
                     {v: 200 if sees(v, state) else 404 for v in VIEWERS}))
        # A reflection's recording is heard by exactly its readers (a draft's by its owner alone).
        asks.append(("GET", f"/api/v1/files/{world.recordings[state]}/original", {},
                     {v: 200 if sees(v, state) else 404 for v in VIEWERS}))
    # Only the owner speaks their reflection, or takes its recording out (the owner asks first: version 1, then 2).
    spoken = f"/api/v1/reflections/{world.spoken_reflection}/recording"
    asks += [("PUT", spoken, {"file": ("voice.webm", webm_opus(), "audio/webm"), "version": (None, "1")}, edit),
             ("DELETE", f"{spoken}?version=2", {}, edit)]
    comment = {"body": "Hello", "noticed": "Seen"}  # a classmate's kind reads noticed, everyone else's the body
    for state, item_id in {**world.notes, **{f"reflection {s}": i for s, i in world.reflections.items()}}.items():
        state = state.split()[-1]
        thread = f"/api/v1/items/{item_id}/comments"
        asks.append(("GET", thread, {}, {v: 200 if sees(v, state) else 404 for v in VIEWERS}))
        # Nobody comments on a draft, not even its owner (422); whoever can't see an item gets 404.
        wrote = {v: (422 if state == "draft" else 201) if sees(v, state) else 404 for v in VIEWERS}
        asks.append(("POST", thread, comment, wrote))
    return asks


def _teacher_requests(world: World) -> list[tuple[str, str, dict, dict[str, int]]]:
    """The teachers' operations: their classes (and the admin's), their students, their inbox and decisions."""
    staff = {v: 403 if ROLE[v] in ("student", "guardian") else 200 for v in VIEWERS}
    class_a = {**staff, "other_teacher": 404}
    teacher = lambda ok=200: {**{v: 403 for v in VIEWERS}, "teacher": ok, "other_teacher": 404}  # noqa: E731
    a, b, owner = world.classes["A"], world.classes["B"], world.ids["owner"]
    rating = {"level_id": world.level_id, "comment": "Clear method."}
    return [
        ("GET", "/api/v1/classes", {}, staff), ("GET", f"/api/v1/classes/{a}", {}, class_a),
        ("GET", f"/api/v1/classes/{b}", {}, {**staff, "teacher": 404}),
        ("GET", f"/api/v1/classes/{a}/overview", {}, class_a),
        ("GET", f"/api/v1/classes/{a}/students/{owner}/items", {}, teacher()),
        ("GET", f"/api/v1/classes/{b}/students/{owner}/items", {}, {**teacher(), "teacher": 404}),
        ("GET", "/api/v1/inbox", {}, {**teacher(), "other_teacher": 200}),
        ("POST", f"/api/v1/approvals/{world.approvals['approve']}/approve", {}, teacher()),
        ("POST", f"/api/v1/approvals/{world.approvals['return']}/return", {"note": "Not yet."}, teacher()),
        ("POST", f"/api/v1/students/{owner}/competencies/{world.competency_id}/ratings", rating, teacher(201)),
    ]


# Asked without a token: the document and the reference page are public (they hold no one's data).
PUBLIC = ("/api/v1/openapi.json", "/api/v1/docs")


def _send(api: TestClient, method: str, path: str, body: dict, token: str):
    if path.endswith("/items/files") or (method == "PUT" and path.endswith("/recording")):
        return api.request(method, path, files=body, headers=bearer(token))
    return api.request(method, path, json=body if method in ("POST", "PUT") else None, headers=bearer(token))


def _visible_titles(world: World, viewer: str) -> set[str]:
    return {title for key, title in world.titles.items() if sees(viewer, key.split()[1])}


def test_every_api_route_as_every_viewer(world: World):
    failures, asked = [], 0
    with TestClient(world.app) as api:
        for method, path, body, expected in _requests(world):
            for viewer, status in expected.items():
                response = _send(api, method, path, body, world.tokens[viewer])
                asked += 1
                if response.status_code != status:
                    failures.append(f"{method} {path} as {viewer}: {response.status_code}, expected {status}")
                elif status >= 400 and response.headers["content-type"] != "application/problem+json":
                    failures.append(f"{method} {path} as {viewer}: {response.headers['content-type']}")
                elif status == 200:
                    hidden = set(world.titles.values()) - _visible_titles(world, viewer)
                    if shown := [t for t in hidden if t in response.text]:
                        failures.append(f"{method} {path} as {viewer} shows {shown}")
            for token in ("expired", "revoked"):
                response = _send(api, method, path, body, world.tokens[token])
                asked += 1
                if response.status_code != 401:
                    failures.append(f"{method} {path} with the {token} token: {response.status_code}")
            if method in ("POST", "PUT", "DELETE"):
                response = _send(api, method, path, body, world.read_only)
                asked += 1
                if response.status_code != 403:
                    failures.append(f"{method} {path} with a read-only token: {response.status_code}")
    print(f"\nAPI access: {asked} requests")
    assert not failures, "\n".join(failures)


def test_the_guardian_sees_only_their_own_childs_approved_family_items(world: World):
    with TestClient(world.app) as api:
        children = api.get("/api/v1/family/children", headers=bearer(world.tokens["guardian"])).json()["children"]
        assert [c["id"] for c in children] == [world.ids["owner"]]
        assert api.get("/api/v1/family/children", headers=bearer(world.tokens["other_guardian"])).json()[
            "children"][0]["id"] == world.ids["other_student"]
        feed = api.get(children[0]["feed_url"], headers=bearer(world.tokens["guardian"])).json()
        assert sorted(i["title"] for i in feed["items"]) == ["Maya goal family", "Maya note family",
                                                               "Maya reflection family"]


def test_a_students_list_holds_their_own_items_only(world: World):
    with TestClient(world.app) as api:
        mine = api.get("/api/v1/items?limit=100", headers=bearer(world.tokens["owner"])).json()
        assert {t for t in world.titles.values()} <= {i["title"] for i in mine["items"]}
        theirs = api.get("/api/v1/items?q=maya", headers=bearer(world.tokens["classmate"])).json()
        assert theirs["items"] == [] and theirs["total"] == 0


def test_the_public_documents_need_no_token(world: World):
    with TestClient(world.app) as api:
        for path in PUBLIC:
            response = api.get(path)
            assert response.status_code == 200, path
            assert not [t for t in world.titles.values() if t in response.text]


def test_the_matrix_asks_every_api_route(world: World):
    """Walk the API application's routes: each (method, path) must be asked above, so a new route can't go unchecked."""
    [api] = [route.app for route in world.app.routes if isinstance(route, Mount) and route.path == "/api/v1"]
    assert len(list(iter_route_contexts(api.routes))) > 10
    asked = [(method, path) for method, path, _body, _expected in _requests(world)] + [("GET", p) for p in PUBLIC]
    missing = []
    for route in iter_route_contexts(api.routes):
        pattern = compile_path(route.path)[0]
        for method in sorted(set(route.methods or ()) - {"HEAD", "OPTIONS"}):
            if not any(m == method and pattern.match(p.removeprefix("/api/v1").split("?")[0]) for m, p in asked):
                missing.append(f"{method} {route.path}")
    assert not missing, f"API routes the access matrix doesn't ask: {missing}"


def test_a_teachers_inbox_and_overview_hold_only_their_own_students(world: World):
    with TestClient(world.app) as api:
        inbox = api.get("/api/v1/inbox", headers=bearer(world.tokens["teacher"])).json()
        assert {"Maya note pending", "Maya goal pending"} <= {a["title"] for a in inbox["approvals"]}
        assert {a["student_id"] for a in inbox["approvals"]} <= {world.ids["owner"], world.ids["classmate"]}
        theirs = api.get("/api/v1/inbox", headers=bearer(world.tokens["other_teacher"])).json()
        assert theirs == {"requests": [], "comments_waiting": [], "comments_reported": [], "approvals": []}
        overview = api.get(f"/api/v1/classes/{world.classes['A']}/overview", headers=bearer(world.tokens["teacher"]))
        assert {s["id"] for s in overview.json()["students"]} == {world.ids["owner"], world.ids["classmate"]}


def test_a_students_credentials_are_their_own_and_carry_the_signed_document(world: World):
    with TestClient(world.app) as api:
        mine = api.get("/api/v1/credentials?limit=1", headers=bearer(world.tokens["owner"])).json()
        assert [c["id"] for c in mine["credentials"]] == [world.credential] and mine["total"] == 1
        assert mine["next"] is None and mine["credentials"][0]["achievement"] == "Maya badge goal"
        one = api.get(mine["credentials"][0]["api_url"], headers=bearer(world.tokens["owner"])).json()
        assert one["document"]["id"] == one["credential_url"] and one["document"]["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
        assert one["verify_url"] == one["credential_url"] + "/verify" and one["revoked"] is False
        for viewer in ("classmate", "other_student"):
            theirs = api.get("/api/v1/credentials", headers=bearer(world.tokens[viewer])).json()
            assert theirs == {"credentials": [], "total": 0, "next": None}
        too_long = api.get("/api/v1/credentials/" + "x" * 37, headers=bearer(world.tokens["owner"]))
        assert too_long.status_code == 404 and too_long.headers["content-type"] == "application/problem+json"
