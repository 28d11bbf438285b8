"""Apps built after the first share the parts of their routes that belong to no one app (tests/route_memo.py), and
answer as an app that built every part itself does; what does belong to one app (its dependency overrides) stays
with it."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.testclient import TestClient

from app.auth import load_request_context
from app.main import create_app
from tests import route_memo


def _dependant(app, method: str, path: str):
    """The dependency tree the app built for one of its routes (FastAPI builds them at the first request)."""
    pending = list(app.router.routes)
    while pending:
        route = pending.pop()
        pending.extend(getattr(route, "_effective_candidates", []))
        if getattr(route, "path", None) == path and method in (getattr(route, "methods", None) or ()) \
                and getattr(route, "dependant", None) is not None:
            return route.dependant
    raise AssertionError(f"{method} {path} not built")


def _answers(app) -> list:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        return [
            client.get("/login").status_code,
            # Form(max_length=254): the field's validator refuses it
            client.post("/login", data={"identifier": "x" * 300, "password": "p"}).status_code,
            client.post("/login", data={"identifier": "nobody", "password": "wrong"}).status_code,
            client.get("/api/v1/openapi.json").json(),
            client.get("/api/v1/items?limit=not-a-number").status_code,
        ]


def test_a_second_app_shares_route_parts_and_answers_as_one_built_afresh(settings):
    first, second = create_app(settings), create_app(settings)
    route_memo.build_afresh()
    try:
        afresh = create_app(settings)
        expected = _answers(afresh)
    finally:
        route_memo.share_route_parts()
    assert _answers(first) == expected
    assert _answers(second) == expected
    assert expected[:3] == [200, 400, 401] and expected[4] in (400, 401) and "paths" in expected[3]
    # The sharing is real: the second app reuses the first one's dependency tree; the app built afresh has its own.
    assert _dependant(second, "POST", "/login") is _dependant(first, "POST", "/login")
    assert _dependant(afresh, "POST", "/login") is not _dependant(first, "POST", "/login")
    for app in (first, second, afresh):
        app.state.engine.dispose()


def test_dependency_overrides_stay_with_their_app(settings):
    first, second = create_app(settings), create_app(settings)

    def closed() -> None:
        raise HTTPException(status_code=418)

    second.dependency_overrides[load_request_context] = closed
    with TestClient(first) as one, TestClient(second) as other:
        assert one.get("/login").status_code == 200
        assert other.get("/login").status_code == 418
        assert one.get("/login").status_code == 200
    for app in (first, second):
        app.state.engine.dispose()
