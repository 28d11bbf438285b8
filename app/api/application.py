"""The JSON API at /api/v1: a sub-application of its own (its own OpenAPI document, problem+json errors, bearer tokens
only), over the same services and access rules as the HTML pages (app.services, app.access).

The HTML app keeps no OpenAPI document; this one's is generated from the API's routes alone."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.datastructures import State

from app.api import assessments, feedback, files, goals_write, recordings, reflections, uploads
from app.api.classes import BODY_MODELS as CLASS_BODY_MODELS, router as classes_router
from app.api.credentials import router as credentials_router
from app.api.docs import router as docs_router
from app.api.inbox import BODY_MODELS as INBOX_BODY_MODELS, router as inbox_router
from app.api.items import BODY_MODELS, router as items_router
from app.api.links import add_links
from app.api.people import router as people_router
from app.api.problems import Problem, install_problem_handlers

PREFIX = "/api/v1"
DESCRIPTION = """Folio's JSON API. Make a personal access token on your Account page and send it as
`Authorization: Bearer <token>`. A token acts as its owner, never more: what the owner can't see on Folio's pages
is a 404 here too. Tokens that may only read get 403 for writes. Errors are RFC 9457 problem details
(`application/problem+json`). Lists are paged by opaque cursors: follow `next` until it is null."""


def _api_models() -> dict[str, type[BaseModel]]:
    """The API's pydantic models by the names the document gives them (module-qualified where two share a name)."""
    found: dict[str, type[BaseModel]] = {}
    pending = list(BaseModel.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("app.api."):
            found.setdefault(model.__name__, model)
            found[f"{model.__module__}.{model.__qualname__}".replace(".", "__")] = model
    return found


def _keep_examples_as_written(schemas: dict) -> None:
    # FastAPI writes the document without None values, which drops an example's nulls ("next": null, "revoked_at":
    # null) and leaves examples that their own schema refuses; the models' own examples are put back as written.
    models = _api_models()
    for name, schema in schemas.items():
        model = models.get(name)
        extra = model.model_config.get("json_schema_extra") if model else None
        if isinstance(extra, dict) and extra.get("examples"):
            schema["examples"] = extra["examples"]


def body_models() -> tuple[type[BaseModel], ...]:
    """The models request bodies are read as (app.api.bodies), each documented under its own name."""
    models = (*BODY_MODELS, *reflections.BODY_MODELS, *assessments.BODY_MODELS, *feedback.BODY_MODELS,
              *goals_write.BODY_MODELS, *CLASS_BODY_MODELS, *INBOX_BODY_MODELS)
    # A body is documented by its name alone: a second model of that name would document its body for both.
    names = [model.__name__ for model in models]
    if len(set(names)) != len(names):
        raise ValueError(f"two request body models share a name: {sorted(n for n in names if names.count(n) > 1)}")
    return models


def build_api(state: State) -> FastAPI:
    """The API sub-application, sharing the HTML app's settings, engine and templates (`state`)."""
    api = FastAPI(title="Folio API", version="1", description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    api.state = state
    api.include_router(people_router)
    api.include_router(items_router)
    api.include_router(goals_write.router)
    api.include_router(uploads.router)
    api.include_router(files.router)
    api.include_router(reflections.router)
    api.include_router(recordings.router)
    api.include_router(assessments.router)
    api.include_router(feedback.router)
    api.include_router(classes_router)
    api.include_router(inbox_router)
    api.include_router(credentials_router)
    api.include_router(docs_router)
    install_problem_handlers(api)

    def openapi() -> dict:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version, description=api.description,
                                 routes=api.routes, servers=[{"url": PREFIX}])
            # FastAPI documents a 422 (its own validation error body) on every operation with parameters; this API
            # answers a bad query with 400 and an impossible id with 404, both problem+json (app.api.problems).
            for operations in schema["paths"].values():
                for operation in operations.values():
                    if "application/json" in operation["responses"].get("422", {}).get("content", {}):
                        del operation["responses"]["422"]
            components = schema.setdefault("components", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.get("schemas", {}).pop(unused, None)
            for model in (Problem, *body_models()):
                components.setdefault("schemas", {})[model.__name__] = model.model_json_schema(
                    ref_template="#/components/schemas/{model}")
            components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer",
                                                        "description": "A personal access token."}}
            schema["security"] = [{"bearer": []}]
            _keep_examples_as_written(components.get("schemas", {}))
            add_links(schema)
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi
    return api
