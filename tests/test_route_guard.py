"""Every route needs a signed-in user unless it is on the explicit public list."""

import re

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

from app.routes import PUBLIC_PATHS


def _routes(app):
    """(path, methods, is_mount) for every route of the app, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        yield context.path, context.methods or set(), isinstance(context.original_route, Mount)


def _concrete(path: str) -> str:
    return re.sub(r"{[^}]+}", "1", path)


def test_every_non_public_route_requires_sign_in(app, client):
    checked = []
    for path, methods, is_mount in _routes(app):
        if is_mount:
            assert path in PUBLIC_PATHS, f"mounted app {path} is not on the public list"
            continue
        if path in PUBLIC_PATHS:
            continue
        for method in methods - {"HEAD"}:
            response = client.request(method, _concrete(path))
            assert response.status_code == 303, f"{method} {path} answered {response.status_code}"
            assert response.headers["location"].startswith("/login"), f"{method} {path}"
            checked.append(f"{method} {path}")
    # The walk really walked: these are a sample of what exists today.
    assert {"GET /student", "GET /admin/people", "POST /account/password", "POST /people/{user_id}/password"} <= set(checked)


def test_public_routes_are_exactly_the_listed_ones(app, client):
    paths = {path for path, _methods, _mount in _routes(app)}
    assert PUBLIC_PATHS <= paths
    for path in PUBLIC_PATHS - {"/static"}:
        methods = next(m for p, m, _mount in _routes(app) if p == path)
        if "GET" in methods:
            # A made-up secret link answers 404: public, but it shows nothing.
            assert client.get(_concrete(path)).status_code in ((404,) if "{token}" in path else (200, 303)), path
