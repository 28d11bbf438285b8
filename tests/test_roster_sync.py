"""`folio roster-sync` pulls a school's roster from a OneRoster REST service (OAuth 2 client credentials, limit/offset
paging) and imports it with the same code as the CSV import: here against a small live service on a free port."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import cli
from app.models import ClassRole, Enrollment, GuardianLink, Role, SchoolClass, User
from app.services.roster_import.rest import RosterServiceProblem, fetch_roster
from tests.live_server import serving
from tests.factories import make_school, make_user

CLIENT_ID, CLIENT_SECRET, TOKEN = "folio-client", "s3cret", "token-123"


def _ref(kind: str, sid: str) -> dict:
    return {"href": f"/{kind}/{sid}", "sourcedId": sid, "type": kind}


# OneRoster 1.2 JSON: roles inside each user, references as {href, sourcedId, type}.
ROSTER = {
    "orgs": [{"sourcedId": "org-1", "status": "active", "name": "Harbour Primary", "type": "school"}],
    "academicSessions": [{"sourcedId": "term-1", "status": "active", "title": "Term 1 2027", "type": "term",
                          "startDate": "2027-01-28", "endDate": "2027-04-09", "schoolYear": "2027"}],
    "courses": [{"sourcedId": "course-1", "status": "active", "title": "Year 4", "org": _ref("org", "org-1")}],
    "classes": [{"sourcedId": "class-1", "status": "active", "title": "4 Kauri", "classType": "homeroom",
                 "course": _ref("course", "course-1"), "school": _ref("org", "org-1"),
                 "terms": [_ref("academicSession", "term-1")], "grades": ["04"]}],
    "users": [
        {"sourcedId": "u-t", "status": "active", "enabledUser": True, "username": "h.ngata", "givenName": "Hemi",
         "familyName": "Ngata", "email": "hemi@harbour.example.nz",
         "roles": [{"roleType": "primary", "role": "teacher", "org": _ref("org", "org-1")}]},
        {"sourcedId": "u-s1", "status": "active", "enabledUser": True, "username": "aroha.p", "givenName": "Aroha",
         "familyName": "Parata", "agents": [_ref("user", "u-g")],
         "roles": [{"roleType": "primary", "role": "student", "org": _ref("org", "org-1")}]},
        {"sourcedId": "u-s2", "status": "active", "enabledUser": True, "username": "tom.w", "givenName": "Tom",
         "familyName": "Wilson", "roles": [{"roleType": "primary", "role": "student", "org": _ref("org", "org-1")}]},
        {"sourcedId": "u-g", "status": "active", "enabledUser": True, "username": "mere.p", "givenName": "Mere",
         "familyName": "Parata", "email": "mere@example.nz",
         "roles": [{"roleType": "primary", "role": "parent", "org": _ref("org", "org-1")}]},
    ],
    "enrollments": [
        {"sourcedId": "e-1", "status": "active", "role": "teacher", "primary": True, "user": _ref("user", "u-t"),
         "class": _ref("class", "class-1"), "school": _ref("org", "org-1")},
        {"sourcedId": "e-2", "status": "active", "role": "student", "user": _ref("user", "u-s1"),
         "class": _ref("class", "class-1"), "school": _ref("org", "org-1")},
        {"sourcedId": "e-3", "status": "active", "role": "student", "user": _ref("user", "u-s2"),
         "class": _ref("class", "class-1"), "school": _ref("org", "org-1")},
    ],
}


@pytest.fixture(scope="module")
def service():
    """A OneRoster 1.2 service on a free port: /token, then each collection a page at a time for a bearer."""
    state = {"roster": copy.deepcopy(ROSTER), "pages": []}

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        import base64

        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected or form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600})

    async def collection(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        name = request.path_params["name"]
        if name not in state["roster"]:
            return JSONResponse({}, status_code=404)
        limit, offset = int(request.query_params.get("limit", 100)), int(request.query_params.get("offset", 0))
        state["pages"].append((name, limit, offset))
        records = state["roster"][name]
        return JSONResponse({name: records[offset:offset + limit]}, headers={"X-Total-Count": str(len(records))})

    app = Starlette(routes=[Route("/token", token, methods=["POST"]),
                            Route("/ims/oneroster/rostering/v1p2/{name}", collection)])
    with serving(app) as base_url:
        state["url"] = f"{base_url}/ims/oneroster/rostering/v1p2"
        yield state


def test_the_client_pages_through_each_collection_with_its_token(service):
    service["pages"].clear()
    roster = fetch_roster(base_url=service["url"], client_id=CLIENT_ID, client_secret=CLIENT_SECRET, limit=2)
    assert [r.get("sourcedId") for r in roster.rows("users")] == ["u-t", "u-s1", "u-s2", "u-g"]
    assert ("users", 2, 0) in service["pages"] and ("users", 2, 2) in service["pages"]
    assert roster.version == "1.2" and roster.is_bulk("users")
    assert {(r.get("userSourcedId"), r.get("role")) for r in roster.rows("roles")} >= {("u-g", "parent")}
    [kauri] = roster.rows("classes")
    assert (kauri.get("courseSourcedId"), kauri.get("termSourcedIds")) == ("course-1", "term-1")
    with pytest.raises(RosterServiceProblem, match="401"):
        fetch_roster(base_url=service["url"], client_id=CLIENT_ID, client_secret="wrong")


def _sync(settings, service, *extra) -> int:
    args = cli.build_parser().parse_args(["roster-sync", "--url", service["url"], "--client-id", CLIENT_ID,
                                          "--client-secret", CLIENT_SECRET, *extra])
    return args.func(settings, args)


def test_roster_sync_imports_the_school_then_finds_nothing_to_change(app, settings, session, service, tmp_path,
                                                                       capsys):
    school = make_school(session, "Harbour Primary")
    make_user(session, school, Role.admin)
    assert _sync(settings, service, "--dry-run") == 0
    assert session.exec(select(User).where(User.sourced_id.is_not(None))).first() is None
    links = tmp_path / "links.csv"
    assert _sync(settings, service, "--links-file", str(links)) == 0
    with Session(app.state.engine) as fresh:
        people = {u.sourced_id: u for u in fresh.exec(select(User).where(User.school_id == school.id,
                                                                          User.sourced_id.is_not(None)))}
        assert {sid: u.role for sid, u in people.items()} == {
            "u-t": Role.teacher, "u-s1": Role.student, "u-s2": Role.student, "u-g": Role.guardian}
        kauri = fresh.exec(select(SchoolClass).where(SchoolClass.sourced_id == "class-1")).one()
        assert (kauri.name, kauri.term) == ("4 Kauri", "Term 1 2027")
        assert {(e.user_id, e.role) for e in fresh.exec(select(Enrollment).where(Enrollment.class_id == kauri.id))} == {
            (people["u-t"].id, ClassRole.teacher), (people["u-s1"].id, ClassRole.student),
            (people["u-s2"].id, ClassRole.student)}
        assert fresh.exec(select(GuardianLink).where(GuardianLink.guardian_id == people["u-g"].id,
                                                     GuardianLink.student_id == people["u-s1"].id)).one()
    assert links.read_text(encoding="utf-8-sig").count("/setup/") == 4
    capsys.readouterr()
    assert _sync(settings, service) == 0
    assert "nothing to change" in capsys.readouterr().out

    # The service drops a student: the next sync switches them off (their work is kept).
    service["roster"]["users"] = [u for u in service["roster"]["users"] if u["sourcedId"] != "u-s2"]
    try:
        assert _sync(settings, service) == 0
    finally:
        service["roster"] = copy.deepcopy(ROSTER)
    with Session(app.state.engine) as fresh:
        assert fresh.exec(select(User.is_active).where(User.sourced_id == "u-s2")).one() is False


def test_roster_sync_needs_a_school_name_when_there_are_several(settings, session, service, capsys):
    make_user(session, make_school(session), Role.admin)
    make_user(session, make_school(session), Role.admin)
    assert _sync(settings, service) == 2
    assert "--school" in capsys.readouterr().err
