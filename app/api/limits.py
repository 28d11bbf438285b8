"""Rate limits per API token (FOLIO_API_RATE_PER_MINUTE), counted in the database so the limit holds however many
processes and hosts serve the API: a fixed one-minute window on the token's own row (api_tokens.rate_window,
rate_count).

Each request costs one statement, an UPDATE ... RETURNING that starts a new window or adds one to the current one, and
notes the token's last use on the Account page in passing. The
database makes it atomic (SQLite writes one at a time; PostgreSQL re-reads a row another transaction changed before
updating it), so racing requests never count the same slot twice. A fixed window lets a token make up to twice the rate
across a window's edge: the limit protects the server from a runaway script, it is not a quota."""

from __future__ import annotations

import math
import time

import sqlalchemy as sa
from sqlmodel import Session

from app.models import ApiToken
from app.models.base import utcnow

WINDOW_SECONDS = 60
clock = time.time  # tests move it


def take(*, session: Session, token_id: int, per_minute: int, now: float | None = None) -> int:
    """Count one request of the token's: 0 when allowed, else the seconds until its window ends."""
    now = clock() if now is None else now
    window = int(now // WINDOW_SECONDS)
    count = session.execute(
        sa.update(ApiToken).where(ApiToken.id == token_id)
        .values(rate_count=sa.case((ApiToken.rate_window == window, ApiToken.rate_count + 1), else_=1),
                rate_window=window, last_used_at=utcnow())
        .returning(ApiToken.rate_count),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    if count <= per_minute:
        return 0
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
