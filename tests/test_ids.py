"""Ids from a URL are validated once, by type: absurd ids (zero, negative, past 2^31 or 2^63, not a number) are 404
for every route and every role, never a 500 or a dropped connection."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest
from fastapi.routing import iter_route_contexts

from app.main import create_app
from app.models import Role
from tests.conftest import make_settings
from tests.factories import link_guardian, login, make_class, make_school, make_user

ABSURD = ["0", "-1", "2147483648", str(2**63), "9" * 40, "abc"]
QUERY_ROUTES = [("GET", "/feedback/thread?item_type=artefact&item_id={}", None),
                ("POST", "/feedback/comments?item_type=artefact&item_id={}", None),
                ("GET", "/feedback/requests/new?item_type=artefact&item_id={}", None)]
ROLES = [Role.student, Role.teacher, Role.guardian, Role.admin]


def _id_routes(app) -> list[tuple[str, str, object]]:
    """(method, path, route) for every route with an id in its path, ids written as {}."""
    found = []
    for context in iter_route_contexts(app.routes):
        if not re.search(r"{\w+_id(:int)?}", context.path):
            continue
        for method in sorted((context.methods or {"GET"}) - {"HEAD"}):
            found.append((method, re.sub(r"{\w+(:\w+)?}", "{}", context.path), context.route))
    return found


def _in_call_order(dependant) -> Iterator:
    """A route's dependencies in the order FastAPI calls them: each one's own dependencies first."""
    for sub in dependant.dependencies:
        yield from _in_call_order(sub)
        yield sub


# What runs before a guard: the session and who is asking (from the cookie), none of it looking at the URL's ids.
BEFORE_THE_GUARD = {"get_session", "load_request_context", "require_user"}


def guard_refuses(route, role: Role) -> bool:
    """True when a require_role guard turns `role` away before anything has read the request's ids, so the answer is
    403 whatever the id: FastAPI calls a route's dependencies before it validates the route's own parameters, and
    only BEFORE_THE_GUARD runs ahead of the guard. Anything else (no guard, or another dependency first) is False:
    then every absurd id is asked."""
    if route is None:
        return False
    for dependency in _in_call_order(route.dependant):
        name = getattr(dependency.call, "__qualname__", "")
        if name == "require_role.<locals>.guard" and not dependency.path_params and not dependency.query_params:
            if role not in inspect.getclosurevars(dependency.call).nonlocals["roles"]:
                return True
        elif name not in BEFORE_THE_GUARD:
            return False
    return False


def _url(path: str, value: str) -> str:
    return path.replace("{}", value) if "?" in path else path.format(*([value] * path.count("{}")))


@pytest.fixture
def people(session):
    school = make_school(session)
    student, teacher = make_user(session, school), make_user(session, school, Role.teacher)
    guardian, admin = make_user(session, school, Role.guardian), make_user(session, school, Role.admin)
    make_class(session, school, teachers=[teacher], students=[student])
    link_guardian(session, guardian, student)
    return {Role.student: student, Role.teacher: teacher, Role.guardian: guardian, Role.admin: admin}


def test_every_id_route_is_open_to_some_role(tmp_path):
    """So the test below asks every route about every absurd id as at least one role its guard lets in."""
    routes = _id_routes(create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}")))
    assert len(routes) > 80  # the route table really was read
    closed_to_all = [f"{method} {path}" for method, path, route in routes
                     if all(guard_refuses(route, role) for role in ROLES)]
    assert not closed_to_all
    # The guard really is recognised (were require_role to change shape, nothing would be skipped below: slower,
    # never weaker; this says so).
    assert sum(guard_refuses(route, Role.guardian) for _method, _path, route in routes) > 20


# One test per role: they are spread over the test processes.
@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_absurd_ids_are_404_for_every_route_and_role(app, people, new_client, role):
    routes = _id_routes(app)
    assert len(routes) > 80  # the route table really was read
    wrong = []
    client = new_client()
    login(client, people[role])
    closed: dict[tuple[str, str], bool] = {}

    def role_closed(method: str, path: str) -> bool:
        if (method, path) not in closed:
            closed[(method, path)] = client.request(method, _url(path, "1")).status_code == 403
        return closed[(method, path)]

    for number, (method, path, route) in enumerate(routes + QUERY_ROUTES):
        if guard_refuses(route, role):
            # The role's guard answers before the id is read: one absurd id (a different one route by route, so
            # each meets the guards) shows it; the others would be asked of the same guard to the same end. (A path
            # whose id has the :int convertor isn't this route's for a negative or non-numeric id: 404.)
            url = _url(path, ABSURD[number % len(ABSURD)])
            if (status := client.request(method, url).status_code) not in (403, 404):
                wrong.append(f"{role.value} {method} {url}: {status}, expected the guard's 403")
            continue
        for absurd in ABSURD:
            url = _url(path, absurd)
            response = client.request(method, url)
            # A route closed to the role is closed whatever the id (403, the same as for a real id); anything
            # else must be "no such thing".
            if response.status_code != 404 and not (response.status_code == 403 and role_closed(method, path)):
                wrong.append(f"{role.value} {method} {url}: {response.status_code}")
    assert not wrong, f"{len(wrong)} answers were not 404:\n" + "\n".join(wrong[:40])


def test_a_malformed_form_id_is_bad_input_not_a_server_error(client, people):
    login(client, people[Role.student])
    response = client.post("/feedback/requests", data={"item_type": "artefact", "item_id": str(2**63),
                                                       "question": "Is it clear?"})
    assert response.status_code == 400
