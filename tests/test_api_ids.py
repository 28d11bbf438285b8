"""Ids in an API path are validated once, by type, as on the pages (tests/test_ids.py): absurd ids (zero, negative,
past 2^31 or 2^63, not a number) are a 404 problem for every operation and every role's token, never a 500, a
validation error that echoes the input, or a dropped connection."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from sqlmodel import Session

from app.main import create_app
from app.models import Role
from tests.api_tokens import bearer, make_token
from tests.conftest import make_settings
from tests.factories import link_guardian, login, make_class, make_school, make_user
from tests.test_ids import ABSURD

PROBLEM = "application/problem+json"


def _api_id_routes(app) -> list[tuple[str, str]]:
    """(method, path) for every API operation with an id in its path, ids written as {}."""
    [api] = [route.app for route in app.routes if isinstance(route, Mount) and route.path == "/api/v1"]
    found = []
    for context in iter_route_contexts(api.routes):
        if re.search(r"{\w+_id}", context.path):
            for method in sorted(set(context.methods or ()) - {"HEAD", "OPTIONS"}):
                found.append((method, "/api/v1" + re.sub(r"{\w+}", "{}", context.path)))
    return found


@pytest.fixture
def app(tmp_path, database_url):
    application = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=100_000))
    yield application
    application.state.engine.dispose()


@pytest.fixture
def tokens(app) -> dict[str, str]:
    with Session(app.state.engine, expire_on_commit=False) as session:
        return _tokens(app, session)


def _tokens(app, session) -> dict[str, str]:
    school = make_school(session)
    people = {"student": make_user(session, school), "teacher": make_user(session, school, Role.teacher),
              "guardian": make_user(session, school, Role.guardian)}
    make_class(session, school, teachers=[people["teacher"]], students=[people["student"]])
    link_guardian(session, people["guardian"], people["student"])
    made = {}
    for role, user in people.items():
        with TestClient(app, follow_redirects=False) as browser:
            login(browser, user)
            made[role] = make_token(browser, scopes="read write")
    return made


def test_absurd_ids_are_a_404_problem_for_every_operation_and_role(app, tokens):
    routes = _api_id_routes(app)
    assert len(routes) > 20  # the API's route table really was read
    wrong = []
    with TestClient(app, follow_redirects=False) as api:
        for role, token in tokens.items():
            for method, path in routes:
                for absurd in ABSURD:
                    url = path.format(*([absurd] * path.count("{}")))
                    response = api.request(method, url, headers=bearer(token), json={})
                    if response.status_code != 404 or response.headers["content-type"] != PROBLEM:
                        wrong.append(f"{role} {method} {url}: {response.status_code} {response.text[:80]}")
                    elif len(absurd) > 3 and absurd in response.text:
                        wrong.append(f"{role} {method} {url}: the answer echoes the id")
    assert not wrong, f"{len(wrong)} answers were not a 404 problem:\n" + "\n".join(wrong[:40])
