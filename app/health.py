"""/healthz: can this process serve? Answered while the server is busy, without queueing behind the pages.

The endpoint is a plain Starlette route on the event loop: no request session, no sign-in lookup (but for `?verbose`,
in the check's thread), no place in the worker threads' queue. Its checks run in a thread of their own (one at a time, a separate limiter) with a deadline,
through a one-connection engine of their own (app.db.make_health_engine), so a loaded server still answers in
milliseconds and a check never takes the connection a request is waiting for.

What is checked (database writable, free space) is app.services.operations.health; add a check there.
"""

from __future__ import annotations

import ipaddress

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from sqlmodel import Session
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.auth import SESSION_COOKIE, user_for_token
from app.models import Role
from app.services.operations.health import Check, Health, check_health

CHECK_SECONDS = 5.0
# One check at a time per event loop (as anyio keeps its own default limiter): a flood of probes queues here, not
# in front of the pages.
_limiter: RunVar[anyio.CapacityLimiter] = RunVar("folio_health_limiter")


def _checks(state: State, token: str | None, from_this_machine: bool) -> tuple[Health, bool]:
    """The checks (app.services.operations.health), and whether the asker may see them one by one: the server
    itself, or a signed-in administrator (looked up here, off the event loop, through the health engine)."""
    health = check_health(engine=state.health_engine, settings=state.settings)
    if from_this_machine or token is None:
        return health, from_this_machine
    try:
        with Session(state.health_engine) as session:
            # Read only: a probe must never write (nor wait for a writer) to tell who asks.
            user = user_for_token(session=session, token=token, idle_minutes=state.settings.session_idle_minutes,
                                  touch=False)
            return health, user is not None and user.role is Role.admin
    except Exception:  # no database, no way to tell who asks: only the status
        return health, False


def _is_loopback(request: Request) -> bool:
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


def _health_limiter() -> anyio.CapacityLimiter:
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _limiter.set(limiter)
        return limiter


async def healthz(request: Request) -> JSONResponse:
    """200 {"status": "ok"} when Folio can save, 503 when not; `?verbose` lists the checks for administrators and
    for the server itself."""
    state = request.app.state
    verbose = "verbose" in request.query_params
    token = request.cookies.get(SESSION_COOKIE) if verbose else None
    try:
        with anyio.fail_after(CHECK_SECONDS):
            health, may_see = await anyio.to_thread.run_sync(
                _checks, state, token, verbose and _is_loopback(request), limiter=_health_limiter(),
                abandon_on_cancel=True)
    except TimeoutError:
        health = Health(checks=(Check("time", False, f"the checks took longer than {CHECK_SECONDS:g} s"),))
        may_see = verbose and _is_loopback(request)
    return JSONResponse(health.as_dict(verbose=verbose and may_see), status_code=200 if health.ok else 503,
                        headers={"Cache-Control": "no-store"})
