"""The JSON API (/api/v1) through HTTP: tokens from the Account page, problem+json errors, lists with the timeline's
filters and cursors, notes and links through the Add evidence form's checks, the OpenAPI document and reference page."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from app.api.tokens import token_hash
from app.main import create_app
from app.models import ApiToken, ApprovalStatus, Artefact, Audience, ItemApproval, Role
from app.models.base import utcnow
from tests.api_tokens import TOKEN, bearer, make_token
from tests.conftest import make_settings
from tests.factories import login, make_class, make_note, make_school, make_user

PROBLEM = "application/problem+json"


def _student(session, client):
    school = make_school(session)
    student = make_user(session, school, display_name="Maya Chen")
    login(client, student)
    return school, student


def test_a_token_is_made_on_the_account_page_shown_once_and_kept_only_as_a_hash(client, session, new_client):
    _school, student = _student(session, client)
    token = make_token(client, name="Sync script", scopes="read", expiry="90")
    rows = session.exec(select(ApiToken)).all()
    assert [(r.name, r.scopes, r.user_id) for r in rows] == [("Sync script", "read", student.id)]
    assert rows[0].token_hash == token_hash(token) and token not in rows[0].token_hash
    assert rows[0].expires_at.date() == date.today() + timedelta(days=90)
    page = client.get("/account")
    assert "Sync script" in page.text and "Never" in page.text and not TOKEN.search(page.text)

    me = new_client().get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200, me.text
    assert me.json()["username"] == student.username and me.json()["token"]["scopes"] == ["read"]
    session.refresh(rows[0])
    assert rows[0].last_used_at is not None
    assert "Never" not in client.get("/account").text


def test_the_token_form_says_what_to_fix_and_makes_nothing(client, session):
    _student(session, client)
    response = client.post("/account/tokens", data={"token_name": " ", "token_scopes": "admin",
                                                    "token_expiry": "date", "token_expiry_date": "2001-01-01"})
    assert response.status_code == 422
    assert "Name the token" in response.text and "within a year" in response.text
    assert "Choose what the token may do" in response.text
    assert session.exec(select(ApiToken)).all() == []


def test_a_chosen_date_sets_the_expiry(client, session):
    _student(session, client)
    day = date.today() + timedelta(days=10)
    make_token(client, expiry="date", expiry_date=day.isoformat())
    assert session.exec(select(ApiToken)).one().expires_at.date() == day


def test_revoked_expired_and_switched_off_tokens_get_401(client, session, new_client):
    _school, student = _student(session, client)
    revoked, expired, live = (make_token(client, name=n) for n in ("revoked", "expired", "live"))
    api = new_client()
    assert api.get("/api/v1/me", headers=bearer(revoked)).status_code == 200
    row = session.exec(select(ApiToken).where(ApiToken.name == "revoked")).one()
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 303
    expired_row = session.exec(select(ApiToken).where(ApiToken.name == "expired")).one()
    expired_row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(expired_row)
    session.commit()
    for token in (revoked, expired, "folio_pat_made-up-token-xxxxxxxxxxxxxxxx", "not-even-ours"):
        response = api.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401 and response.json()["title"]
    assert "revoked" not in client.get("/account").text.split("tokens-heading")[1]
    assert api.get("/api/v1/me", headers=bearer(live)).status_code == 200
    student.is_active = False
    session.add(student)
    session.commit()
    assert api.get("/api/v1/me", headers=bearer(live)).status_code == 401


def test_nobody_revokes_another_persons_token(client, session, new_client):
    school, _maya = _student(session, client)
    make_token(client)
    other = new_client()
    login(other, make_user(session, school))
    row = session.exec(select(ApiToken)).one()
    assert other.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    session.refresh(row)
    assert row.revoked_at is None


def test_a_read_only_token_cannot_write_and_a_cookie_never_works(client, session, new_client):
    _student(session, client)
    read_only = make_token(client, scopes="read")
    note = {"title": "From a script", "body": "Hello"}
    api = new_client()
    response = api.post("/api/v1/items/notes", json=note, headers=bearer(read_only))
    assert response.status_code == 403 and response.headers["content-type"] == PROBLEM
    # The signed-in browser's cookie is no key to the API (no other site can make it write through it).
    assert client.post("/api/v1/items/notes", json=note).status_code == 401
    assert client.get("/api/v1/me").status_code == 401
    # The token is checked before the body is read: without one, even nonsense is a 401, not a verdict on the JSON.
    assert api.post("/api/v1/items/notes", content=b"{not json").status_code == 401
    assert api.post("/api/v1/items/notes", content=b"{not json", headers=bearer(read_only)).status_code == 403
    assert session.exec(select(Artefact)).all() == []


def test_a_program_on_another_origin_may_call_with_a_token_but_not_with_a_cookie(client, session, new_client):
    _student(session, client)
    token = make_token(client)
    api = new_client()
    elsewhere = {"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"}
    response = api.post("/api/v1/items/notes", json={"title": "Cross", "body": "Origin"},
                        headers={**bearer(token), **elsewhere})
    assert response.status_code == 201, response.text
    # With a cookie beside it, the cross-site check of cookie sessions applies as everywhere else.
    refused = client.post("/api/v1/items/notes", json={"title": "Cross", "body": "Again"},
                          headers={**bearer(token), **elsewhere})
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert len(session.exec(select(Artefact)).all()) == 1


def test_notes_and_links_are_checked_like_the_form_and_saved_by_the_same_service(client, session, new_client):
    school, student = _student(session, client)
    teacher = make_user(session, school, role=Role.teacher)
    school_class = make_class(session, school, teachers=[teacher], students=[student])
    school_class.family_items_need_approval = True
    session.add(school_class)
    session.commit()
    api, token = new_client(), make_token(client)
    created = api.post("/api/v1/items/notes", headers=bearer(token), json={
        "title": "Volcano", "body": "We mixed **vinegar**.", "audience": "family", "tags": ["Science", "science"],
        "occurred_on": "2026-11-20"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["location"] == f"/api/v1/items/{body['id']}" == body["api_url"]
    assert (body["kind"], body["title"], body["audience"], body["tags"]) == ("note", "Volcano", "family", ["Science"])  # the first spelling is kept (issue 12: tags keep their case)
    assert body["occurred_on"] == "2026-11-20" and body["page_url"] == f"/artefacts/{body['id']}"
    # The class holds family items for a teacher's approval: the same request the form path makes.
    approval = session.exec(select(ItemApproval).where(ItemApproval.item_id == body["id"])).one()
    assert approval.status is ApprovalStatus.pending

    refused = api.post("/api/v1/items/links", headers=bearer(token), json={"title": "", "url": "ftp://x"})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert set(refused.json()["errors"]) == {"title", "url"}
    assert "https://" in refused.json()["errors"]["url"]
    link = api.post("/api/v1/items/links", headers=bearer(token), json={"title": "Game", "url": "https://example.org/g"})
    assert link.status_code == 201 and link.json()["url"] == "https://example.org/g"
    not_json = api.post("/api/v1/items/links", headers=bearer(token), content=b"{not json")
    assert not_json.status_code == 422 and not_json.headers["content-type"] == PROBLEM
    malformed = api.post("/api/v1/items/notes", headers=bearer(token), json={"title": "x", "body": "a\x00b"})
    assert malformed.status_code == 422 and "body" in malformed.json()["errors"]
    huge = api.post("/api/v1/items/notes", headers=bearer(token), json={"title": "x", "body": "é" * 1_000_000})
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM
    assert len(session.exec(select(Artefact)).all()) == 2


def test_the_list_has_the_timelines_filters_search_and_cursors(client, session, new_client):
    _school, student = _student(session, client)
    for number in range(25):
        make_note(session, student, title=f"Note {number:02}", occurred_on=date(2026, 1, 1) + timedelta(days=number),
                  audience=Audience.family if number % 5 == 0 else None, tags=("maths",) if number < 3 else ())
    make_note(session, student, title="Volcano experiment", body="lava", occurred_on=date(2025, 6, 1))
    api, token = new_client(), make_token(client, scopes="read")
    seen, address = [], "/api/v1/items?limit=10"
    while address:
        page = api.get(address, headers=bearer(token))
        assert page.status_code == 200, page.text
        assert page.json()["total"] == 26
        seen += [item["title"] for item in page.json()["items"]]
        address = page.json()["next"]
    assert len(seen) == len(set(seen)) == 26 and seen[0] == "Note 24" and seen[-1] == "Volcano experiment"

    def titles(query: str) -> list[str]:
        response = api.get(f"/api/v1/items?{query}", headers=bearer(token))
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    assert titles("q=volc") == ["Volcano experiment"]
    assert titles("tag=maths") == ["Note 02", "Note 01", "Note 00"]
    assert titles("audience=family") == ["Note 20", "Note 15", "Note 10", "Note 05", "Note 00"]
    assert titles("date_from=2026-01-24&kind=note") == ["Note 24", "Note 23"]
    filtered = api.get("/api/v1/items?audience=family&limit=2", headers=bearer(token)).json()
    assert "audience=family" in filtered["next"] and "cursor=" in filtered["next"]
    assert [i["title"] for i in api.get(filtered["next"], headers=bearer(token)).json()["items"]] == ["Note 10", "Note 05"]
    for bad in ("cursor=nonsense", "kind=poem", "limit=1000", "date_from=yesterday"):
        response = api.get(f"/api/v1/items?{bad}", headers=bearer(token))
        assert response.status_code == 400 and response.headers["content-type"] == PROBLEM, bad


def test_problems_speak_the_owners_language(client, session, new_client):
    _school, student = _student(session, client)
    token = make_token(client)
    assert client.post("/account/language", data={"locale": "fr"}).status_code == 303
    response = new_client().get("/api/v1/items/999999", headers=bearer(token))
    assert response.status_code == 404 and response.json()["title"] != "Not found"


def test_each_token_has_its_own_rate_limit(tmp_path, database_url, session, monkeypatch):
    from app.api import limits

    monkeypatch.setattr(limits, "clock", lambda: 29_000_000 * 60 + 45.5)  # one minute throughout
    app = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=3))
    from fastapi.testclient import TestClient
    from sqlmodel import Session

    with TestClient(app, follow_redirects=False) as browser, Session(app.state.engine) as db:
        login(browser, make_user(db, make_school(db)))
        first, second = make_token(browser, name="one"), make_token(browser, name="two")
        with TestClient(app) as api:
            assert [api.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(3)] == [200] * 3
            limited = api.get("/api/v1/me", headers=bearer(first))
            assert limited.status_code == 429 and limited.headers["content-type"] == PROBLEM
            assert limited.headers["retry-after"] == "15"  # the rest of the minute, rounded up
            assert api.get("/api/v1/me", headers=bearer(second)).status_code == 200
    app.state.engine.dispose()


def test_the_openapi_document_and_reference_page_cover_the_api_only(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    schema = document.json()
    assert schema["openapi"].startswith("3.1")
    assert set(schema["paths"]) == {"/me", "/items", "/items/{item_id}", "/items/notes", "/items/links", "/goals",
                                    "/goals/{goal_id}", "/goals/{goal_id}/steps", "/goals/{goal_id}/steps/{step_id}",
                                    "/goals/{goal_id}/steps/{step_id}/move",
                                    "/goals/{goal_id}/checkins", "/goals/{goal_id}/status", "/family/children", "/family/children/{student_id}/feed",
                                    "/items/files", "/reflections", "/reflections/{reflection_id}", "/reflections/{reflection_id}/recording",
                                        "/frameworks",
                                    "/self-assessments", "/competencies/{competency_id}/ratings",
                                    "/items/{item_id}/comments", "/feedback/recipients",
                                    "/items/{item_id}/feedback-requests", "/feedback-requests/{request_id}/withdraw",
                                    "/files/{file_id}/{variant}",
                                    "/classes", "/classes/{class_id}", "/classes/{class_id}/overview",
                                    "/classes/{class_id}/students/{student_id}/items", "/inbox",
                                    "/approvals/{approval_id}/approve", "/approvals/{approval_id}/return",
                                    "/students/{student_id}/competencies/{competency_id}/ratings",
                                    "/credentials", "/credentials/{public_id}"}
    assert schema["servers"] == [{"url": "/api/v1"}]
    upload = schema["paths"]["/items/files"]["post"]
    assert upload["requestBody"]["content"]["multipart/form-data"]["schema"]["required"] == ["file"]
    # Created things link to where they can be read (a stateful client follows them); each link names a real operation.
    links = [link for item in schema["paths"].values() for operation in item.values()
             for response in operation["responses"].values() for link in response.get("links", {}).values()]
    assert len(links) >= 6
    operations = {operation["operationId"]: operation for item in schema["paths"].values()
                  for operation in item.values()}
    for link in links:
        operation = operations[link["operationId"]]
        assert set(link["parameters"]) <= {p["name"] for p in operation["parameters"]}
    assert schema["components"]["schemas"]["NewNote"]["examples"]
    assert client.get("/openapi.json").status_code == 404 and client.get("/docs").status_code == 404
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "GET /api/v1/items/{item_id}" in page.text and "POST /api/v1/items/notes" in page.text
    assert "multipart/form-data" in page.text and '<code translate="no">competency_ids</code>' in page.text
    assert "cdn" not in page.text.lower() and "<script" not in page.text.split("</head>")[1]


def test_a_tag_with_letters_beyond_ascii_is_reused_not_a_500(client, session):
    """Found by schemathesis: SQLite's lower() leaves "Ô" alone, so the same non-ASCII tag twice was inserted twice."""
    from app.models import Tag
    from app.services.portfolio import tags as tag_service

    student = make_user(session, make_school(session))
    for _ in range(2):
        tag_service.set_tags(session=session, kind="artefact", item_id=make_note(session, student).id, owner_id=student.id,
                             names=["rÔle", "École"])
        session.commit()
    assert sorted(t.name for t in session.exec(select(Tag).where(Tag.owner_id == student.id))) == ["rÔle", "École"]


def test_an_address_with_a_newline_is_still_the_apis_to_answer(client, session, new_client):
    """Found by schemathesis: Starlette's mount pattern stopped at a newline, so /api/v1/items/1%0A fell through to
    the HTML app's 404 page instead of a problem."""
    _student(session, client)
    token = make_token(client)
    for address in ("/api/v1/items/1%0A", "/api/v1/items/1%0A/comments", "/api/v1/%0A", "/api/v1/credentials/a%0Ab",
                    "/api/v1/classes/1/students/1%0A2/items"):
        response = new_client().get(address, headers=bearer(token))
        assert response.status_code == 404 and response.headers["content-type"] == PROBLEM, address


def test_every_model_in_the_document_has_an_example_that_fits_it(client):
    """The document's request and response models each carry an example, and each example validates against its
    model as the document states it (FastAPI used to drop an example's nulls: app.api.application puts them back)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schema = client.get("/api/v1/openapi.json").json()
    registry = Registry().with_resource("urn:folio-api", Resource.from_contents(
        {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}))
    missing, wrong = [], []
    for name, model in schema["components"]["schemas"].items():
        examples = model.get("examples") or ([model["example"]] if "example" in model else [])
        if not examples:
            missing.append(name)
            continue
        validator = Draft202012Validator({"$ref": f"urn:folio-api#/components/schemas/{name}"}, registry=registry)
        for example in examples:
            wrong += [f"{name}: {error.message}" for error in validator.iter_errors(example)]
    assert not missing, f"models without an example: {missing}"
    assert not wrong, "\n".join(wrong)


def test_every_operation_has_a_one_line_summary_and_a_description(client):
    schema = client.get("/api/v1/openapi.json").json()
    bare = [f"{method.upper()} {path}" for path, operations in schema["paths"].items()
            for method, operation in operations.items()
            if not operation.get("summary", "").strip() or "\n" in operation["summary"]
            or not operation.get("description", "").strip()]
    assert not bare, f"operations without a one-line summary and a description: {bare}"


def test_every_create_says_where_its_result_is_read(client):
    """A 201 documents its `Location` header as required (schemathesis then checks each answer has it:
    tests/test_api_schema.py), pointing to a GET of the document."""
    schema = client.get("/api/v1/openapi.json").json()
    readable = {path for path, operations in schema["paths"].items() if "get" in operations}
    created = {f"{method.upper()} {path}": operation["responses"]["201"].get("headers", {}).get("Location")
               for path, operations in schema["paths"].items() for method, operation in operations.items()
               if "201" in operation["responses"]}
    # A teacher's rating of a student is read on the student's competency page: the API has no GET for it yet.
    assert created.pop("POST /students/{student_id}/competencies/{competency_id}/ratings") is None
    assert len(created) == 10
    for operation, header in created.items():
        assert header and header["required"], f"{operation} documents no Location"
        assert any(f"`GET {path}`" in header["description"] for path in readable), operation




def test_each_request_body_is_documented_as_the_model_it_is_read_as(client):
    """Bodies are named by their model's name (app.api.bodies): a student's self-rating and a teacher's rating were
    both `NewRating`, and the self-rating documented the teacher's body (`comment`, which it refuses)."""
    from app.api.application import body_models

    schema = client.get("/api/v1/openapi.json").json()
    for model in body_models():
        documented = dict(schema["components"]["schemas"][model.__name__])
        documented.pop("examples", None)
        wanted = model.model_json_schema(ref_template="#/components/schemas/{model}")
        wanted.pop("examples", None)
        assert documented == wanted, model.__name__
    body = schema["paths"]["/competencies/{competency_id}/ratings"]["post"]["requestBody"]
    name = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "reason" in schema["components"]["schemas"][name]["required"]


def test_a_method_the_path_lacks_is_a_405_naming_every_method_it_has(client):
    """Starlette named only the first route's methods (`Allow: GET` for /goals, which takes POST too), and its English
    status phrase stood as the problem's detail."""
    for method, path, allowed in (("patch", "/api/v1/goals", "GET, POST"), ("delete", "/api/v1/items", "GET"),
                                  ("patch", "/api/v1/goals/7", "DELETE, GET, PUT")):
        answer = client.request(method, path)
        assert answer.status_code == 405 and answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["allow"] == allowed, path
        assert answer.json()["detail"] == ""
    missing = client.get("/api/v1/nowhere")
    assert missing.status_code == 404 and missing.json()["detail"] == ""


def test_every_401_and_429_documents_the_header_it_always_carries(client):
    schema = client.get("/api/v1/openapi.json").json()
    answers = [operation["responses"] for operations in schema["paths"].values() for operation in operations.values()]
    assert all(answer["401"]["headers"]["WWW-Authenticate"]["required"] for answer in answers)
    assert all(answer["429"]["headers"]["Retry-After"]["required"] for answer in answers if "429" in answer)
    assert client.get("/api/v1/me").headers["www-authenticate"] == 'Bearer realm="folio"'
