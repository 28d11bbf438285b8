"""The database engine and the per-request session dependency.

One request, one session, one connection at a time: everything a page shows (the header's unread count included) is
loaded through the session get_session gives the request, never through a session a template or helper opens on the
side. A request that held a connection while waiting for a second one would, under load, empty the pool with every
request waiting on another (a hang until the pool's 30 s timeout, then 500s).

A request holds its connection only while one of its worker threads runs: between threads (the sign-in lookup, then
the route) or while an async route waits for an upload, read_in_thread has given it back (and get_session closes the
session at the end outside the worker limit, so closing never waits for a thread). The worker threads are
sized from the pool (worker_threads, set in app.main's lifespan): each runs one request's database work with at most
one connection, and one connection is left over for the in-process job runner, so no request's thread waits for a
connection another request is sitting on. `/healthz` has an engine of its own (make_health_engine).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from app.config import Settings

T = TypeVar("T")


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured URL: SQLite with WAL and foreign keys, or PostgreSQL via psycopg 3."""
    return _engine(settings, pool=_pool_sizes(settings), sqlite_timeout=settings.db_busy_timeout)


def make_health_engine(settings: Settings) -> Engine:
    """A one-connection engine for /healthz (app.health): its check never waits for, nor takes, a connection from
    the requests' pool, and gives up after a few seconds instead of the pool's thirty."""
    return _engine(settings, pool={"pool_size": 1, "max_overflow": 0, "pool_timeout": 3}, sqlite_timeout=3)


def _engine(settings: Settings, *, pool: dict[str, int], sqlite_timeout: float) -> Engine:
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        pool = {} if url.database in (None, "", ":memory:") else pool
        # pysqlite starts a transaction just before the first INSERT/UPDATE/DELETE (reads before it run on their
        # own, taking no lock); "IMMEDIATE" makes that BEGIN IMMEDIATE, so a writer takes the write lock at once,
        # waiting at most the busy timeout for it, and never fails half-way when upgrading a read transaction.
        # (SQLAlchemy's recipe of BEGIN in a "begin" event would make every read a transaction of its own, and
        # an IMMEDIATE one would make every page view queue behind the writers.)
        connect_args = {"check_same_thread": False, "timeout": sqlite_timeout, "isolation_level": "IMMEDIATE"}
        engine = create_engine(url, connect_args=connect_args, **pool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, **pool)


def _pool_sizes(settings: Settings) -> dict[str, int]:
    return {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}


def worker_threads(settings: Settings) -> int:
    """How many threads may run requests' sync code at once: one connection each, and one spare (see the module
    docstring)."""
    return max(1, settings.db_pool_size + settings.db_max_overflow - 1)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers and one writer work together; SQLite leaves foreign keys off unless asked.
    dbapi_connection.isolation_level = "IMMEDIATE"  # SQLAlchemy may have reset it (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, closed afterwards; render() finds it on request.state for the header's counts.

    Async, so a request takes no worker thread just to open and close it: making a Session touches no database. At
    the end, a session that holds no connection (or a SQLite one, whose rollback never waits) is closed on the event
    loop; a PostgreSQL connection still in a transaction is given back from a thread of its own, outside the worker
    limit, so closing never waits for a worker thread (nor blocks the loop on a round trip)."""
    engine: Engine = request.app.state.engine
    session = Session(engine, expire_on_commit=False)
    request.state.db_session = session
    if engine.dialect.name == "postgresql":
        event.listen(session, "after_begin", partial(_request_timeouts, request.app.state.settings))
    try:
        yield session
    finally:
        # A closed session would open a new connection if used again, and nothing would close that one.
        request.state.db_session = None
        if session.in_transaction() and engine.dialect.name != "sqlite":
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))
        else:
            session.close()


def _request_timeouts(settings: Settings, _session, _transaction, connection) -> None:
    # A request waits for a lock (a long job's, another request's) at most the busy timeout, then fails with the
    # driver's OperationalError like a busy SQLite; no statement of a request runs longer than statement_timeout.
    lock_ms = int(settings.db_busy_timeout * 1000)
    statement_ms = int(settings.db_statement_timeout * 1000)
    connection.execute(text("SELECT set_config('lock_timeout', :lock, true), "
                            "set_config('statement_timeout', :statement, true)"),
                       {"lock": f"{lock_ms}ms", "statement": f"{statement_ms}ms"})


def request_session(request: Request) -> Session:
    """The session get_session gave this request (a route's render, or an error page's, see app.errors)."""
    session = getattr(request.state, "db_session", None)
    if session is None:
        raise RuntimeError("no database session for this request: it is opened by app.db.get_session")
    return session


async def read_in_thread(session: Session, read: Callable[..., T], /, *args, **kwargs) -> T:
    """`read(*args, **kwargs)` through `session` in a worker thread (it must leave nothing unsaved); then the session's
    connection goes back to the pool, because the request is about to wait (for an upload to stream in, or for a
    thread) and must hold none meanwhile."""

    def call() -> T:
        result = read(*args, **kwargs)
        session.commit()  # nothing to save: this ends the read transaction (loaded objects stay loaded)
        return result

    return await run_in_threadpool(call)


@contextmanager
def error_page_session(request: Request) -> Iterator[Session]:
    """A session for an error page rendered outside any route (after the route's own session was closed)."""
    outer = getattr(request.state, "db_session", None)
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        request.state.db_session = session
        if session.get_bind().dialect.name == "postgresql":
            event.listen(session, "after_begin", partial(_request_timeouts, request.app.state.settings))
        try:
            yield session
        finally:
            request.state.db_session = outer


SessionDep = Annotated[Session, Depends(get_session)]
