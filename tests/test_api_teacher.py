"""The teachers' JSON API through HTTP: classes with their rosters and overview, a student's items as their teacher sees
them, the inbox with approving and returning family items, and rating a competency, each with the HTML pages' checks.

Ms Shah teaches Maya and Leo in Maple (which uses a framework and holds family items for approval); Mr Grey teaches
Zoe in Cedar; the school has an admin, and Maya a guardian."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import select

from app.api.links import LINKS, Link, add_links
from app.models import (
    ApprovalStatus, Audience, ClassRole, CompetencyRating, EnrolledVia, ItemApproval, ProficiencyLevel, RatingArtefact,
    RatingSource, Role, SchoolClass,
)
from app.models import School as SchoolRow
from app.services.classes.classes import enroll
from tests.api_tokens import bearer, make_token
from tests.factories import (
    link_guardian, login, make_class, make_framework, make_note, make_reflection, make_school, make_user,
)

PROBLEM = "application/problem+json"


@dataclass
class School:
    maya: object
    leo: object
    zoe: object
    shah: object
    grey: object
    admin: object
    guardian: object
    maple: SchoolClass
    cedar: SchoolClass
    framework: object
    tokens: dict


@pytest.fixture
def school(session, new_client) -> School:
    place = make_school(session)
    maya = make_user(session, place, display_name="Maya Chen")
    leo = make_user(session, place, display_name="Leo Park")
    zoe = make_user(session, place, display_name="Zoe Grey")
    shah = make_user(session, place, Role.teacher, display_name="Ms Shah")
    grey = make_user(session, place, Role.teacher, display_name="Mr Grey")
    admin = make_user(session, place, Role.admin, display_name="Admin")
    guardian = make_user(session, place, Role.guardian, display_name="Li Chen")
    maple = make_class(session, place, teachers=[shah], students=[maya, leo], name="Maple")
    cedar = make_class(session, place, teachers=[grey], students=[zoe], name="Cedar")
    maple.family_items_need_approval = True
    session.add(maple)
    session.commit()
    link_guardian(session, guardian, maya)
    framework = make_framework(session, place, classes=[maple])
    tokens = {}
    for name, user in {"maya": maya, "shah": shah, "grey": grey, "admin": admin, "guardian": guardian}.items():
        browser = new_client()
        login(browser, user)
        tokens[name] = make_token(browser, name=name)
        if name == "shah":
            tokens["shah_read_only"] = make_token(browser, name="read only", scopes="read")
    return School(maya, leo, zoe, shah, grey, admin, guardian, maple, cedar, framework, tokens)


def _school_of(session, school: School) -> SchoolRow:
    return session.get(SchoolRow, school.maple.school_id)


def _get(api, school: School, who: str, path: str, **params):
    return api.get(f"/api/v1{path}", params=params, headers=bearer(school.tokens[who]))


def _post(api, school: School, who: str, path: str, body: dict):
    return api.post(f"/api/v1{path}", json=body, headers=bearer(school.tokens[who]))


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    return response.json()


def test_a_teacher_lists_their_classes_and_reads_one_with_its_roster(new_client, session, school):
    old = make_class(session, _school_of(session, school), teachers=[school.shah], name="Old Maple")
    old.archived = True
    session.add(old)
    session.commit()
    api = new_client()

    mine = _get(api, school, "shah", "/classes").json()["classes"]
    assert [(c["name"], c["archived"], c["student_count"]) for c in mine] == [("Maple", False, 2), ("Old Maple", True, 0)]
    assert mine[0]["teachers"] == [{"id": school.shah.id, "display_name": "Ms Shah"}]
    assert mine[0]["api_url"] == f"/api/v1/classes/{school.maple.id}"
    every = _get(api, school, "admin", "/classes").json()["classes"]
    assert sorted(c["name"] for c in every) == ["Cedar", "Maple"]

    maple = _get(api, school, "shah", f"/classes/{school.maple.id}").json()
    assert [s["display_name"] for s in maple["students"]] == ["Leo Park", "Maya Chen"]
    assert maple["join_code"] == school.maple.join_code and maple["settings"]["family_items_need_approval"] is True
    assert _get(api, school, "admin", f"/classes/{school.maple.id}").status_code == 200
    _problem(_get(api, school, "grey", f"/classes/{school.maple.id}"), 404)
    _problem(_get(api, school, "maya", f"/classes/{school.maple.id}"), 403)
    _problem(_get(api, school, "guardian", "/classes"), 403)


def _rate_self(session, student, competency_id: int, level_id: int, rated_by_id: int, source: RatingSource):
    session.add(CompetencyRating(student_id=student.id, competency_id=competency_id, level_id=level_id,
                                 rated_by_id=rated_by_id, source=source, reason="Because"))
    session.commit()


def _levels(session, school: School) -> list[ProficiencyLevel]:
    return list(session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == school.framework.id)
                             .order_by(ProficiencyLevel.position)).all())


def test_the_overview_shows_activity_and_competency_coverage_in_a_fixed_number_of_queries(
        new_client, session, school, count_queries):
    api = new_client()
    make_note(session, school.maya, title="Volcano")
    make_reflection(session, school.maya, title="What I learned")
    levels = _levels(session, school)
    overview = _get(api, school, "shah", f"/classes/{school.maple.id}/overview").json()
    competencies = overview["competencies"]
    assert [c["code"] for c in competencies] == ["COM", "COM.1", "THK"]
    first = competencies[0]["id"]
    _rate_self(session, school.maya, first, levels[1].id, school.maya.id, RatingSource.self)
    _rate_self(session, school.maya, first, levels[2].id, school.shah.id, RatingSource.teacher)

    def asked() -> tuple[dict, int]:
        with count_queries() as counter:
            response = _get(api, school, "shah", f"/classes/{school.maple.id}/overview")
        assert response.status_code == 200, response.text
        return response.json(), counter.count

    overview, few = asked()
    maya = next(s for s in overview["students"] if s["id"] == school.maya.id)
    assert maya["last_evidence"] and maya["last_reflection"] and maya["quiet"] is False
    assert maya["self_assessed"] == 1 and maya["teacher_assessed"] == 1
    assert maya["ratings"] == [{"competency_id": first,
                                "latest_self": {"id": levels[1].id, "position": 2, "label": "Developing"},
                                "latest_teacher": {"id": levels[2].id, "position": 3, "label": "Proficient"}}]
    leo = next(s for s in overview["students"] if s["id"] == school.leo.id)
    assert leo["ratings"] == [] and leo["quiet"] is True and leo["last_evidence"] is None
    for n in range(6):
        newcomer = make_user(session, _school_of(session, school), display_name=f"New {n}")
        enroll(session=session, school_class=session.get(SchoolClass, school.maple.id), user=newcomer,
               role=ClassRole.student, via=EnrolledVia.admin)
        session.commit()
        make_note(session, newcomer, title=f"Note {n}")
        _rate_self(session, newcomer, first, levels[0].id, newcomer.id, RatingSource.self)
    overview, many = asked()
    assert len(overview["students"]) == 8 and many == few
    _problem(_get(api, school, "grey", f"/classes/{school.maple.id}/overview"), 404)


def test_a_students_items_as_their_teacher_sees_them_with_the_timelines_filters(new_client, session, school):
    api = new_client()
    private = make_note(session, school.maya, title="Private volcano", audience=Audience.private)
    shared = make_note(session, school.maya, title="Class volcano", audience=Audience.class_)
    make_reflection(session, school.maya, title="Draft thoughts", draft=True)
    make_reflection(session, school.maya, title="Published thoughts")
    path = f"/classes/{school.maple.id}/students/{school.maya.id}/items"

    everything = _get(api, school, "shah", path).json()
    assert sorted(i["title"] for i in everything["items"]) == ["Class volcano", "Private volcano", "Published thoughts"]
    notes = _get(api, school, "shah", path, kind="note").json()
    assert {i["id"] for i in notes["items"]} == {private.id, shared.id}
    found = _get(api, school, "shah", path, q="volcano", audience="class").json()
    assert [i["id"] for i in found["items"]] == [shared.id] and found["total"] == 1
    first = _get(api, school, "shah", path, limit=2).json()
    assert len(first["items"]) == 2 and first["total"] == 3 and first["next"]
    second = api.get(first["next"], headers=bearer(school.tokens["shah"])).json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {i["id"] for i in first["items"] + second["items"]} == {i["id"] for i in everything["items"]}

    _problem(_get(api, school, "grey", path), 404)  # not his student
    _problem(_get(api, school, "shah", f"/classes/{school.cedar.id}/students/{school.zoe.id}/items"), 404)
    _problem(_get(api, school, "shah", f"/classes/{school.maple.id}/students/{school.zoe.id}/items"), 404)
    _problem(_get(api, school, "shah", f"/classes/{school.maple.id}/students/{school.shah.id}/items"), 404)
    birch = make_class(session, _school_of(session, school), teachers=[school.shah], students=[school.zoe])
    assert _get(api, school, "shah", f"/classes/{birch.id}/students/{school.zoe.id}/items").status_code == 200
    _problem(_get(api, school, "shah", f"/classes/{birch.id}/students/{school.maya.id}/items"), 404)  # not in Birch
    _problem(_get(api, school, "admin", path), 403)  # as on /students/{id}
    _problem(_get(api, school, "maya", path), 403)


def _feedback_request(new_client, school: School, item_id: int) -> None:
    browser = new_client()
    login(browser, school.maya)
    response = browser.post("/feedback/requests", data={"item_type": "artefact", "item_id": str(item_id),
                                                        "question": "Is my conclusion clear?",
                                                        "recipient_ids": [str(school.shah.id)]})
    assert response.status_code == 303, response.text


def test_the_inbox_holds_requests_and_family_items_and_a_teacher_approves_the_version_they_saw(
        new_client, session, school):
    api = new_client()
    family_note = make_note(session, school.maya, title="For my family", audience=Audience.family)
    asked = make_note(session, school.maya, title="Asked about", audience=Audience.class_)
    _feedback_request(new_client, school, asked.id)

    inbox = _get(api, school, "shah", "/inbox").json()
    assert [(r["title"], r["question"], r["item_url"]) for r in inbox["requests"]] == [
        ("Asked about", "Is my conclusion clear?", f"/api/v1/items/{asked.id}")]
    [waiting] = inbox["approvals"]
    assert waiting["item_id"] == family_note.id and waiting["student_name"] == "Maya Chen"
    assert waiting["text"]["title"] == "For my family" and waiting["approved_before"] is False
    assert _get(api, school, "grey", "/inbox").json()["approvals"] == []
    _problem(_get(api, school, "admin", "/inbox"), 403)
    _problem(_get(api, school, "maya", "/inbox"), 403)

    browser = new_client()
    login(browser, school.maya)
    edited = browser.post(f"/artefacts/{family_note.id}/edit", data={
        "title": "For my family, changed", "body": "New words", "audience": "family", "occurred_on": "2026-11-01",
        "version": "1"})
    assert edited.status_code == 303, edited.text
    approve = f"/approvals/{waiting['id']}/approve"
    stale = _problem(_post(api, school, "shah", approve, {"seen": waiting["fingerprint"]}), 409)
    assert "changed" in stale["detail"]
    assert session.get(ItemApproval, waiting["id"]).status is ApprovalStatus.pending
    _problem(_post(api, school, "grey", approve, {}), 404)
    _problem(_post(api, school, "shah_read_only", approve, {}), 403)
    _problem(_post(api, school, "admin", approve, {}), 403)

    fresh = _get(api, school, "shah", "/inbox").json()["approvals"][0]
    assert fresh["fingerprint"] != waiting["fingerprint"]
    done = _post(api, school, "shah", approve, {"seen": fresh["fingerprint"]})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "approved"
    feed = _get(api, school, "guardian", f"/family/children/{school.maya.id}/feed").json()
    assert [i["title"] for i in feed["items"]] == ["For my family, changed"]
    assert _get(api, school, "shah", "/inbox").json()["approvals"] == []


def test_returning_a_family_item_needs_a_note(new_client, session, school):
    api = new_client()
    make_note(session, school.maya, title="For my family", audience=Audience.family)
    [waiting] = _get(api, school, "shah", "/inbox").json()["approvals"]
    back = f"/approvals/{waiting['id']}/return"
    refused = _problem(_post(api, school, "shah", back, {"note": "   "}), 422)
    assert "note" in refused["errors"]
    _problem(_post(api, school, "shah", back, {"note": "x" * 2001}), 422)
    _problem(_post(api, school, "shah", back, {}), 422)
    assert session.get(ItemApproval, waiting["id"]).status is ApprovalStatus.pending
    returned = _post(api, school, "shah", back, {"note": "Leave out your friend's full name."})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned" and returned.json()["note"] == "Leave out your friend's full name."
    session.expire_all()
    row = session.get(ItemApproval, waiting["id"])
    assert row.status is ApprovalStatus.returned and row.reviewed_by_id == school.shah.id
    assert _get(api, school, "guardian", f"/family/children/{school.maya.id}/feed").json()["items"] == []


def test_a_teacher_rates_a_competency_with_the_forms_checks(new_client, session, school):
    api = new_client()
    evidence = make_note(session, school.maya, title="Evidence")
    draft_free = make_note(session, school.leo, title="Leo's note")
    overview = _get(api, school, "shah", f"/classes/{school.maple.id}/overview").json()
    competency = overview["competencies"][0]["id"]
    levels = _levels(session, school)
    path = f"/students/{school.maya.id}/competencies/{competency}/ratings"
    body = {"level_id": levels[2].id, "comment": "Clear method.", "artefact_ids": [evidence.id, draft_free.id]}

    saved = _post(api, school, "shah", path, body)
    assert saved.status_code == 201, saved.text
    assert saved.json()["level"]["label"] == "Proficient" and saved.json()["artefact_ids"] == [evidence.id]
    [rating] = session.exec(select(CompetencyRating).where(CompetencyRating.student_id == school.maya.id)).all()
    assert rating.source is RatingSource.teacher and rating.rated_by_id == school.shah.id
    assert [r.artefact_id for r in session.exec(select(RatingArtefact)).all()] == [evidence.id]

    other = make_framework(session, _school_of(session, school), name="Other")
    foreign_level = session.exec(select(ProficiencyLevel).where(ProficiencyLevel.framework_id == other.id)).first()
    refused = _problem(_post(api, school, "shah", path, {**body, "level_id": foreign_level.id}), 422)
    assert "level_id" in refused["errors"]
    refused = _problem(_post(api, school, "shah", path, {**body, "comment": "  "}), 422)
    assert "comment" in refused["errors"]
    _problem(_post(api, school, "grey", path, body), 404)
    _problem(_post(api, school, "shah", f"/students/{school.zoe.id}/competencies/{competency}/ratings", body), 404)
    _problem(_post(api, school, "shah_read_only", path, body), 403)
    _problem(_post(api, school, "admin", path, body), 403)
    _problem(_post(api, school, "maya", path, body), 403)
    assert len(session.exec(select(CompetencyRating)).all()) == 1


def test_the_document_links_lists_to_their_entries_and_every_link_names_a_real_operation(new_client):
    document = new_client().get("/api/v1/openapi.json").json()
    ids = {op["operationId"]: (method, path) for path, ops in document["paths"].items() for method, op in ops.items()}
    links = {name: link for ops in document["paths"].values() for op in ops.values()
             for response in op["responses"].values() for name, link in response.get("links", {}).items()}
    assert len(links) == len(LINKS)
    assert all(link["operationId"] in ids for link in links.values())
    assert ids[links["ApproveWaiting"]["operationId"]] == ("post", "/approvals/{approval_id}/approve")
    assert links["ApproveWaiting"]["parameters"] == {"approval_id": "$response.body#/approvals/0/id"}
    broken = Link("Nowhere", ("/inbox", "get", "200"), ("get", "/nowhere/{id}"), {"id": "$response.body#/id"}, "")
    with pytest.raises(KeyError):
        add_links(document, (broken,))
