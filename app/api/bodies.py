"""How the API reads a JSON body after the token check, and names that body in the OpenAPI document."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.api.auth import WritingCaller
from app.api.schemas import Id

_id = TypeAdapter(Id)


def _check_path_ids(request: Request) -> None:
    # FastAPI solves dependencies before it validates the path, so an absurd id in the path would get a verdict on
    # the body (422) rather than the 404 it gets everywhere else: the path's ids are checked first, by the same type.
    errors = []
    for name, value in request.path_params.items():
        if name.endswith("_id"):
            try:
                _id.validate_python(value)
            except ValidationError:
                errors.append({"type": "value_error", "loc": ("path", name), "msg": "not an id", "input": value})
    if errors:
        raise RequestValidationError(errors)


def json_body(model: type[BaseModel]):
    """A dependency reading the body as `model` once the token has been checked."""
    # A caller without a valid token gets 401 (or 403, or 429) whatever they sent, never a verdict on their JSON first.

    async def parse(request: Request, _caller: WritingCaller) -> BaseModel:
        _check_path_ids(request)
        raw = await request.body()
        try:
            return model.model_validate_json(raw)
        except ValidationError as invalid:
            raise RequestValidationError([{**error, "loc": ("body", *error["loc"])}
                                          for error in invalid.errors(include_url=False)]) from None

    return parse


def body_schema(model: type[BaseModel]) -> dict:
    """The OpenAPI `requestBody` naming `model`, for a route that reads its body with json_body."""
    # FastAPI can't see a body read by a dependency; the schema itself is added to the components by app.api.application.
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}
