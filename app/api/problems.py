"""RFC 9457 problem details (application/problem+json) for every error under /api/v1: the HTML error pages stay
the HTML app's."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.access import NotAllowed, NotFound
from app.faults import fault_of
from app.i18n import _

log = logging.getLogger("folio")
MEDIA_TYPE = "application/problem+json"


class Problem(BaseModel):
    """What went wrong (RFC 9457); `errors` names the fields to fix, for 422."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "about:blank", "title": "Not found", "status": 404, "detail": "There is nothing here for this token."},
    ]})

    type: str = Field("about:blank", description="A URI naming the problem type (about:blank: the status says it).")
    title: str = Field(description="The status's meaning, in the token owner's language.")
    status: int = Field(ge=400, le=599)
    detail: str = Field("", description="What happened this time.")
    errors: dict[str, str] | None = Field(None, description="For 422: a message per field to fix.")


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"), 401: _("Not signed in"), 403: _("Not allowed"), 404: _("Not found"),
        405: _("Method not allowed"), 409: _("Changed meanwhile"), 413: _("Too large"),
        415: _("File type not accepted"), 422: _("Check what was sent"),
        429: _("Too many requests"), 500: _("Server error"), 503: _("Unavailable"), 507: _("Out of space"),
    }


class ApiProblem(Exception):
    """Raised by API code to answer with a problem: the status, what happened, and headers (Retry-After...)."""

    def __init__(self, status: int, detail: str = "", *, headers: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.errors = status, detail, headers or {}, errors


def invalid_body(errors: dict[str, str]) -> ApiProblem:
    """The 422 for a body the matching form's own checks refused, with their message per field."""
    return ApiProblem(422, _("Some of what was sent can't be used."), errors=errors)


def problem_response(status: int, detail: str = "", *, headers: dict[str, str] | None = None,
                     errors: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=_titles().get(status, _("Error")), status=status, detail=detail, errors=errors)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=MEDIA_TYPE,
                        headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict]:
    """The `responses=` of an operation: each status answered with a Problem, in OpenAPI."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {status: {"description": _titles_en[status], "content": {MEDIA_TYPE: {"schema": schema}},
                     **({"headers": _problem_headers[status]} if status in _problem_headers else {})}
            for status in statuses}


def _header(description: str) -> dict:
    return {"description": description, "required": True, "schema": {"type": "string"}}


# Headers some problems always carry (app.api.auth), documented so clients may rely on them.
_problem_headers = {401: {"WWW-Authenticate": _header('The scheme to use: `Bearer realm="folio"`.')},
                    429: {"Retry-After": _header("The seconds to wait before the token may call again.")}}


def created(where: str) -> dict[int | str, dict]:
    """The `responses=` entry of a 201 answered with a `Location` header: `where` says what it points to."""
    header = {"description": where, "required": True, "schema": {"type": "string"}}
    return {201: {"headers": {"Location": header}}}


_titles_en = {400: "Bad request", 401: "Missing, unknown, expired or revoked token", 403: "Not allowed",
              404: "Not found (or not visible to the token's owner)", 409: "Changed since the version sent",
              413: "Body too large", 415: "Unsupported media type", 422: "Invalid body",
              429: "Too many requests (see Retry-After)", 507: "Out of space"}


def _validation_status(exc: RequestValidationError) -> int:
    # An id in the path that no row could have names nothing: 404, as in the HTML app, whatever else was wrong with
    # the request (there is nothing the body could have been for). A bad body is 422; a malformed query or header 400.
    places = {str(error.get("loc", ("",))[0]) for error in exc.errors()}
    if "path" in places:
        return 404
    return 422 if "body" in places else 400


def _field_errors(exc: RequestValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())[1:]] or ["body"]
        errors.setdefault(".".join(location), str(error.get("msg", "")))
    return errors


def _allowed_methods(request: Request) -> str:
    """The methods the document gives the request's path."""
    # Starlette's 405 names the methods of the first route matching the path only (GET for /goals, not POST).
    path = request.scope["path"][len(request.scope.get("root_path", "")):]
    allowed = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            allowed |= {method.upper() for method in operations}
    return ", ".join(sorted(allowed))


def install_problem_handlers(api: FastAPI) -> None:
    """Answer every error of the API sub-application as application/problem+json."""

    @api.exception_handler(ApiProblem)
    async def api_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, headers=exc.headers, errors=exc.errors)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own detail is its status phrase in English ("Method Not Allowed"): the title says it already,
        # in the owner's language.
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in (
            _titles_en.get(exc.status_code), HTTPStatus(exc.status_code).phrase) else ""
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allowed := _allowed_methods(request)):
            headers["Allow"] = allowed
        return problem_response(exc.status_code, detail, headers=headers)

    @api.exception_handler(NotFound)
    async def not_found(_request: Request, _exc: NotFound) -> JSONResponse:
        return problem_response(404, _("There is nothing here for this token's owner."))

    @api.exception_handler(NotAllowed)
    async def not_allowed(_request: Request, _exc: NotAllowed) -> JSONResponse:
        return problem_response(403, _("This token's owner may not do that."))

    @api.exception_handler(RequestValidationError)
    async def malformed(_request: Request, exc: RequestValidationError) -> JSONResponse:
        status = _validation_status(exc)
        if status == 404:
            return problem_response(404, _("There is nothing here for this token's owner."))
        return problem_response(status, _("Some of what was sent can't be used."), errors=_field_errors(exc))

    async def fault_or_error(request: Request, exc: Exception) -> JSONResponse:
        fault = fault_of(exc)
        if fault is not None:
            log.warning("%s %s refused (%s): %s", request.method, request.url.path, fault.status, exc)
            return problem_response(fault.status, fault.message, headers={"Retry-After": "5"})
        log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, _("The problem has been logged. Please try again in a moment."))

    api.add_exception_handler(DBAPIError, fault_or_error)
    api.add_exception_handler(OSError, fault_or_error)
    api.add_exception_handler(Exception, fault_or_error)
