"""/api/v1/docs: a reference page made on the server from the API's own OpenAPI document (no CDN, no script)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app import i18n
from app.templating import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def operations(schema: dict) -> list[dict]:
    """Each operation of the document, in its order: method, path, summary, description, parameters, statuses."""
    found = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            form = content.get("multipart/form-data", {}).get("schema", {})
            found.append({
                "method": method.upper(), "path": path, "summary": operation.get("summary", ""),
                "description": operation.get("description", ""), "tag": (operation.get("tags") or [""])[0],
                "parameters": [(p["name"], p["in"], p.get("required", False), p.get("description", ""))
                               for p in operation.get("parameters", [])],
                "body": body.get("$ref", "").rsplit("/", 1)[-1],
                "form": list(form.get("properties", {})),
                "responses": sorted(operation.get("responses", {})),
            })
    return found


@router.get("/docs", response_class=HTMLResponse)
def reference(request: Request) -> HTMLResponse:
    """The API's operations and models, for a person to read."""
    settings = request.app.state.settings
    i18n.set_locale(i18n.choose_locale(user_locale=None, accept_language=request.headers.get("accept-language"),
                                       available=i18n.available_locales(), default=settings.default_locale))
    schema = request.app.openapi()
    context = {"schema": schema, "operations": operations(schema),
               "models": sorted(schema.get("components", {}).get("schemas", {}).items())}
    return render(request, "api/docs.html", context)
