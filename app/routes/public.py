"""Pages anyone may reach: the front door and the health check."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from app.auth import MaybeUser
from app.db import database_is_reachable
from app.navigation import home_path

router = APIRouter()


@router.get("/")
def index(user: MaybeUser) -> RedirectResponse:
    """Send visitors to their home page, or to sign in."""
    return RedirectResponse(home_path(user) if user else "/login", status_code=303)


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database answers, 503 when it doesn't (for load balancers and monitors)."""
    if database_is_reachable(request.app.state.engine):
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "reason": "database"}, status_code=503)
