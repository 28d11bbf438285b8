"""Each test builds its own app (create_app), and FastAPI builds an included router's routes for each app the first
time a request reaches that router: for every route, the endpoint's dependency tree and a pydantic TypeAdapter per
parameter, body and response model. A server does that once; the suite did it for every test, which was most of the
CPU time of a short test (~0.3 s of the first requests of a new app, ~0.05 s once the parts are shared).

`share_route_parts()` memoises the three pure steps of that work by what they are built from (the path, the endpoint
function and the route's dependencies; the body fields; the response model), so the second app on reuses the first
one's parts. What belongs to one app (its dependency overrides, its handlers, its middleware) is still built per app.
Anything unhashable, or called in a way this doesn't know, is built afresh as before.
"""

from __future__ import annotations

import fastapi.routing

_originals: dict[str, object] = {}


# FastAPI's private functions this wraps. Should an upgrade rename one, nothing is shared (the suite is only slower)
# and tests/test_route_memo.py fails, to say so.
WRAPPED = ("_build_dependant_with_parameterless_dependencies", "_get_body_field", "create_model_field")


def share_route_parts() -> None:
    if _originals or not all(hasattr(fastapi.routing, name) for name in WRAPPED):
        return
    build_dependant = fastapi.routing._build_dependant_with_parameterless_dependencies
    get_body_field = fastapi.routing._get_body_field
    create_model_field = fastapi.routing.create_model_field
    _originals.update(build_dependant=build_dependant, get_body_field=get_body_field,
                      create_model_field=create_model_field)
    dependants: dict = {}
    bodies: dict = {}
    fields: dict = {}

    def shared(cache: dict, key, build):
        try:
            if key in cache:
                return cache[key]
        except TypeError:  # unhashable: nothing to share
            return build()
        cache[key] = value = build()
        return value

    def shared_dependant(*, path, call, dependencies):
        return shared(dependants, (path, call, tuple(dependencies)),
                      lambda: build_dependant(path=path, call=call, dependencies=dependencies))

    def shared_body_field(*, body_params, name, embed_body_fields):
        # The body fields come from a shared dependant, so they are the same objects each time; the cache holds them
        # (in the key's value), so their ids can't be reused by others.
        key = (tuple(map(id, body_params)), name, embed_body_fields)
        return shared(bodies, key, lambda: (get_body_field(body_params=body_params, name=name,
                                                           embed_body_fields=embed_body_fields), list(body_params)))[0]

    def shared_model_field(*args, **kwargs):
        if args or set(kwargs) != {"name", "type_", "mode"}:
            return create_model_field(*args, **kwargs)
        return shared(fields, (kwargs["name"], kwargs["type_"], kwargs["mode"]), lambda: create_model_field(**kwargs))

    fastapi.routing._build_dependant_with_parameterless_dependencies = shared_dependant
    fastapi.routing._get_body_field = shared_body_field
    fastapi.routing.create_model_field = shared_model_field


def build_afresh() -> None:
    """FastAPI's own functions back (for the test that compares the two)."""
    if not _originals:
        return
    fastapi.routing._build_dependant_with_parameterless_dependencies = _originals.pop("build_dependant")
    fastapi.routing._get_body_field = _originals.pop("get_body_field")
    fastapi.routing.create_model_field = _originals.pop("create_model_field")
