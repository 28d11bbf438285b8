"""Every route needs a signed-in user unless it is on the explicit public list, and every route on that list answers
visitors itself."""

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


# Public paths whose whole job is to send a visitor to the sign-in page (the front door, and signing out).
SENDS_TO_SIGN_IN = {"/", "/logout"}


def _guarded(response) -> bool:
    """True when the sign-in guard answered: to an HTMX request it says 401 and where to go (see app/errors.py),
    which no route says by itself, so a guarded route can't pass for one that sends visitors to /login."""
    return response.status_code == 401 and response.headers.get("hx-redirect", "").startswith("/login")


def _concrete_request(path: str, is_mount: bool) -> str:
    return "/static/css/app.css" if is_mount else _concrete(path)


def test_public_routes_are_exactly_the_listed_ones(app, client):
    guarded: dict[tuple[str, str], bool] = {}
    for path, methods, is_mount in _routes(app):
        for method in (methods or {"GET"}) - {"HEAD"}:
            response = client.request(method, _concrete_request(path, is_mount), headers={"HX-Request": "true"})
            assert response.status_code < 500, f"{method} {path} answered {response.status_code}"
            guarded[(method, path)] = _guarded(response)
    public = {path for (_method, path), asks_to_sign_in in guarded.items() if not asks_to_sign_in}
    assert public == PUBLIC_PATHS, (
        f"public but not listed: {sorted(public - PUBLIC_PATHS)}; "
        f"listed but asking to sign in: {sorted(PUBLIC_PATHS - public)}")
    for path, methods, is_mount in _routes(app):
        if path not in PUBLIC_PATHS:
            continue
        for method in (methods or {"GET"}) - {"HEAD"}:
            assert not guarded[(method, path)], f"{method} {path} asks to sign in, but {path} is public"
            # Only the front door and signing out send a visitor to the sign-in page.
            response = client.request(method, _concrete_request(path, is_mount))
            to_sign_in = response.is_redirect and response.headers["location"].startswith("/login")
            assert to_sign_in == (path in SENDS_TO_SIGN_IN), f"{method} {path} answered {response.status_code}"
    # A made-up secret link answers, and shows nothing.
    assert client.get("/s/not-a-token").status_code == 404
