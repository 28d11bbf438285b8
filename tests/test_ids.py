"""Ids from a URL are validated once, by type: absurd ids (zero, negative, past 2^31 or 2^63, not a number) are 404
for every route and every role, never a 500 or a dropped connection."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts

from app.models import Role
from tests.factories import link_guardian, login, make_class, make_school, make_user

ABSURD = ["0", "-1", "2147483648", str(2**63), "9" * 40, "abc"]
QUERY_ROUTES = [("GET", "/feedback/thread?item_type=artefact&item_id={}"),
                ("POST", "/feedback/comments?item_type=artefact&item_id={}"),
                ("GET", "/feedback/requests/new?item_type=artefact&item_id={}")]


def _id_routes(app) -> list[tuple[str, str]]:
    """(method, path) for every route with an id in its path, ids written as {}."""
    found = []
    for context in iter_route_contexts(app.routes):
        if not re.search(r"{\w+_id(:int)?}", context.path):
            continue
        for method in sorted((context.methods or {"GET"}) - {"HEAD"}):
            found.append((method, re.sub(r"{\w+(:\w+)?}", "{}", context.path)))
    return found


@pytest.fixture
def people(session):
    school = make_school(session)
    student, teacher = make_user(session, school), make_user(session, school, Role.teacher)
    guardian, admin = make_user(session, school, Role.guardian), make_user(session, school, Role.admin)
    make_class(session, school, teachers=[teacher], students=[student])
    link_guardian(session, guardian, student)
    return {"student": student, "teacher": teacher, "guardian": guardian, "admin": admin}


def test_absurd_ids_are_404_for_every_route_and_role(app, people, new_client):
    routes = _id_routes(app)
    assert len(routes) > 80  # the route table really was read
    wrong = []
    for role, user in people.items():
        client = new_client()
        login(client, user)

        closed: dict[tuple[str, str], bool] = {}

        def role_closed(method: str, path: str) -> bool:
            if (method, path) not in closed:
                closed[(method, path)] = client.request(method, path.replace("{}", "1") if "?" in path else path.format(
                    *(["1"] * path.count("{}")))).status_code == 403
            return closed[(method, path)]

        for method, path in routes + QUERY_ROUTES:
            for absurd in ABSURD:
                url = path.replace("{}", absurd) if "?" in path else path.format(*([absurd] * path.count("{}")))
                response = client.request(method, url)
                # A route closed to the role is closed whatever the id (403, the same as for a real id); anything
                # else must be "no such thing".
                if response.status_code != 404 and not (response.status_code == 403 and role_closed(method, path)):
                    wrong.append(f"{role} {method} {url}: {response.status_code}")
    assert not wrong, f"{len(wrong)} answers were not 404:\n" + "\n".join(wrong[:40])


def test_a_malformed_form_id_is_bad_input_not_a_server_error(client, people):
    login(client, people["student"])
    response = client.post("/feedback/requests", data={"item_type": "artefact", "item_id": str(2**63),
                                                       "question": "Is it clear?"})
    assert response.status_code == 400
