"""/healthz: can this process serve? Answered while the server is busy, without queueing behind the pages.

The endpoint is a plain Starlette route on the event loop: no sign-in lookup, no request session, no place in the
worker threads' queue. Its checks run in a thread of their own (one at a time, a separate limiter) with a deadline,
through a one-connection engine of their own (app.db.make_health_engine), so a loaded server still answers in
milliseconds and a check never takes the connection a request is waiting for.

A check is a function of the app's state that returns None when all is well, or a short reason; add one to CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread
from anyio.lowlevel import RunVar
from sqlalchemy import text
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import JSONResponse

CHECK_SECONDS = 5.0
# One check at a time per event loop (as anyio keeps its own default limiter): a flood of probes queues here, not
# in front of the pages.
_limiter: RunVar[anyio.CapacityLimiter] = RunVar("folio_health_limiter")

Check = Callable[[State], "str | None"]


def database_answers(state: State) -> str | None:
    """The database runs a trivial query."""
    try:
        with state.health_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any driver error means "not reachable" to a health check
        return "the database does not answer"
    return None


# (name, check): the name is what /healthz reports as the reason when the check fails.
CHECKS: tuple[tuple[str, Check], ...] = (
    ("database", database_answers),
)


def failed_checks(state: State) -> dict[str, str]:
    """Every check that failed, by name, with its reason."""
    failures = {}
    for name, check in CHECKS:
        reason = check(state)
        if reason is not None:
            failures[name] = reason
    return failures


def _health_limiter() -> anyio.CapacityLimiter:
    try:
        return _limiter.get()
    except LookupError:
        limiter = anyio.CapacityLimiter(1)
        _limiter.set(limiter)
        return limiter


async def healthz(request: Request) -> JSONResponse:
    """200 {"status": "ok"} when every check passes; 503 with the first failing check's name as the reason."""
    state = request.app.state
    try:
        with anyio.fail_after(CHECK_SECONDS):
            failures = await anyio.to_thread.run_sync(failed_checks, state, limiter=_health_limiter(),
                                                      abandon_on_cancel=True)
    except TimeoutError:
        failures = {"timeout": f"the checks took longer than {CHECK_SECONDS:g} s"}
    if not failures:
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})
    return JSONResponse({"status": "unavailable", "reason": next(iter(failures))}, status_code=503,
                        headers={"Cache-Control": "no-store"})
