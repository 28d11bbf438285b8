"""Under load: many signed-in students at once on a real server, and one connection per page.

Each request may hold one database connection at a time; a page that asks for a second one while holding the first
(a template or helper opening its own session) empties the pool under load and every request hangs."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session

from app.auth import SESSION_COOKIE, start_session
from app.main import create_app
from app.models import Audience, Role
from tests.conftest import make_settings
from tests.factories import link_guardian, login, make_class, make_note, make_reflection, make_school, make_user
from tests.live_server import free_port, serving

STUDENTS = 32
# Far below the pool's 30 s checkout timeout, so a server that waits on its pool fails here instead of answering late.
ANSWER_WITHIN = 12.0


class ConnectionWatch:
    """The pool's checkouts while active: how many, how many at once at most, which sessions began, and the statements
    run from inside a template."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.lock = threading.Lock()
        self.checkouts = self.held = self.peak = 0
        self.sessions: set[int] = set()
        self.from_templates: list[str] = []

    def _checkout(self, *_args) -> None:
        with self.lock:
            self.checkouts += 1
            self.held += 1
            self.peak = max(self.peak, self.held)

    def _checkin(self, *_args) -> None:
        with self.lock:
            self.held -= 1

    def _statement(self, _conn, _cursor, statement, *_args) -> None:
        frame = sys._getframe()
        while frame is not None:
            if frame.f_code.co_filename.endswith(".html"):  # Jinja's compiled code keeps the template's file name
                self.from_templates.append(f"{frame.f_code.co_filename}: {statement}")
                return
            frame = frame.f_back

    def _began(self, session, *_args) -> None:
        with self.lock:
            self.sessions.add(id(session))

    def __enter__(self) -> "ConnectionWatch":
        event.listen(self.engine, "checkout", self._checkout)
        event.listen(self.engine, "checkin", self._checkin)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(Session, "after_begin", self._began)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "checkout", self._checkout)
        event.remove(self.engine, "checkin", self._checkin)
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(Session, "after_begin", self._began)


def test_a_page_uses_one_session_one_connection_at_a_time_and_its_templates_never_query(client, new_client, session, app):
    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    maya = make_user(session, school)
    mother = make_user(session, school, Role.guardian)
    school_class = make_class(session, school, teachers=[teacher], students=[maya])
    school_class.family_items_need_approval = True
    session.add(school_class)
    session.commit()
    link_guardian(session, mother, maya)
    # Waiting for approval: Maya's pages show the notice, and the teacher has unread notifications.
    note = make_note(session, maya, title="Volcano", audience=Audience.family)
    reflection = make_reflection(session, maya, title="On volcanoes", audience=Audience.family)
    session.close()

    login(client, maya)
    staff = new_client()
    login(staff, teacher)
    family = new_client()
    login(family, mother)
    pages = [
        (client, "/student", None),
        (client, f"/artefacts/{note.id}", "Waiting for a teacher’s approval"),
        (client, f"/reflections/{reflection.id}", "Waiting for a teacher’s approval"),
        (staff, "/inbox", "Volcano"),
        (family, "/family", None),
        (client, "/notifications", None),
        (client, "/artefacts/999999", None),  # an error page, rendered after the route's session is closed
    ]
    for browser, url, expected in pages:
        with ConnectionWatch(app.state.engine) as watch:
            response = browser.get(url)
        assert response.status_code == (404 if url.endswith("999999") else 200), url
        assert expected is None or expected in response.text, url
        assert watch.peak == 1, f"{url} held {watch.peak} connections at once"
        assert watch.held == 0, f"{url} kept a connection"
        assert watch.from_templates == [], f"{url}: templates ran queries"
        # The sign-in lookup gives its connection back before the route runs (app.auth._lookup_user); an error page
        # is loaded after the route's session closed, through its own (app.errors.render_error).
        sessions, checkouts = (2, 3) if url.endswith("999999") else (1, 2)
        assert len(watch.sessions) == sessions, f"{url} used {len(watch.sessions)} sessions"
        assert watch.checkouts == checkouts, f"{url} checked out {watch.checkouts} connections"


@contextmanager
def live_server(settings) -> Iterator[str]:
    """The app served by uvicorn on its settings' port, in a thread; yields its base URL."""
    # Requests stuck on an exhausted pool can't be stopped; don't wait for them longer than this.
    with serving(create_app(settings), settings.port, stop_within=5) as base_url:
        yield base_url


# The default pool, and a tiny one: two worker threads for three connections still serve everyone, only slower.
@pytest.mark.parametrize("pool", [{}, {"db_pool_size": 2, "db_max_overflow": 1}], ids=["default-pool", "tiny-pool"])
def test_many_students_at_once_all_answer_and_healthz_stays_up(tmp_path, database_url, pool):
    port = free_port()
    settings = make_settings(tmp_path, database_url, base_url=f"http://127.0.0.1:{port}", port=port, **pool)
    setup_app = create_app(settings)
    tokens = []
    with Session(setup_app.state.engine, expire_on_commit=False) as session:
        school = make_school(session)
        for _ in range(STUDENTS):
            student = make_user(session, school)
            tokens.append(start_session(session=session, user=student, user_agent="load test"))
        session.commit()
    setup_app.state.engine.dispose()

    results: dict[int, object] = {}
    health: dict[str, object] = {}
    start = threading.Barrier(STUDENTS + 1)

    def student_home(index: int, base_url: str) -> None:
        with httpx.Client(base_url=base_url, cookies={SESSION_COOKIE: tokens[index]}, timeout=ANSWER_WITHIN) as client:
            start.wait()
            try:
                results[index] = client.get("/student").status_code
            except httpx.HTTPError as exc:
                results[index] = repr(exc)

    def healthz(base_url: str) -> None:
        start.wait()
        time.sleep(0.2)  # once the students' requests are in flight
        began = time.monotonic()
        try:
            health["status"] = httpx.get(f"{base_url}/healthz", timeout=ANSWER_WITHIN).status_code
        except httpx.HTTPError as exc:
            health["status"] = repr(exc)
        health["seconds"] = time.monotonic() - began

    with live_server(settings) as base_url:
        threads = [threading.Thread(target=student_home, args=(i, base_url)) for i in range(STUDENTS)]
        threads.append(threading.Thread(target=healthz, args=(base_url,)))
        for thread in threads:
            thread.start()
        began = time.monotonic()
        for thread in threads:
            thread.join(timeout=ANSWER_WITHIN + 5)
        took = time.monotonic() - began

    assert sorted(results) == list(range(STUDENTS))
    assert [results[i] for i in range(STUDENTS)] == [200] * STUDENTS, results
    assert health["status"] == 200, health
    assert took < ANSWER_WITHIN, f"{STUDENTS} concurrent pages took {took:.1f} s"


def test_no_session_is_opened_beside_the_requests_own():
    # Only the request's dependency (and the error page's, both in app/db.py), the CLI and the background jobs open
    # sessions; a template helper or context processor must use the request's (app.db.request_session).
    # /healthz (app/health.py) is no page request: its own one-connection engine and, for ?verbose, its own short
    # session to see who asks.
    # `folio roster-sync` (app/services/roster_import/sync_command.py) is a command of the CLI's.
    allowed = {"app/db.py", "app/cli.py", "app/services/jobs/job_runs.py",
               "app/services/jobs/job_housekeeping.py", "app/health.py",
               "app/services/roster_import/sync_command.py"}
    root = Path(__file__).resolve().parent.parent
    opening = re.compile(r"(?<![\w.])Session\(")
    found = sorted(
        str(path.relative_to(root)) for path in (root / "app").rglob("*.py")
        if opening.search(path.read_text()) and str(path.relative_to(root)) not in allowed
    )
    assert found == []


def test_no_connection_is_held_while_an_upload_streams_in(client, new_client, session, app, monkeypatch):
    # A slow upload can take minutes: the request must not sit on a pooled connection meanwhile.
    from app.services.portfolio import uploads
    from tests.factories import post_multipart

    school = make_school(session)
    teacher = make_user(session, school, Role.teacher)
    maya = make_user(session, school)
    make_class(session, school, teachers=[teacher], students=[maya])
    reflection = make_reflection(session, maya, title="Science")
    session.close()
    held_while_receiving: list[int] = []
    receive = uploads.receive_multipart

    async def watched_receive(*args, **kwargs):
        held_while_receiving.append(app.state.engine.pool.checkedout())
        return await receive(*args, **kwargs)

    monkeypatch.setattr(uploads, "receive_multipart", watched_receive)
    login(client, maya)
    edited = post_multipart(client, f"/reflections/{reflection.id}/edit", {
        "title": "Science", "body": "Edited", "version": "1", "action": "publish"})
    assert edited.status_code == 303
    staff = new_client()
    login(staff, teacher)
    commented = post_multipart(staff, f"/feedback/comments?item_type=reflection&item_id={reflection.id}",
                               {"body": "Well explained"})
    assert commented.status_code == 303
    assert held_while_receiving == [0, 0]


def test_worker_threads_never_outnumber_the_connections(tmp_path, database_url):
    # One connection for each thread running a request's database work, and one left for the job runner (/healthz has
    # an engine of its own, app.db.make_health_engine).
    import anyio.to_thread
    from fastapi.testclient import TestClient

    settings = make_settings(tmp_path, database_url, db_pool_size=3, db_max_overflow=2)
    app = create_app(settings)
    with TestClient(app) as client:
        threads = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
    app.state.engine.dispose()
    assert threads == 4
    assert app.state.engine.pool.size() + app.state.engine.pool._max_overflow == 5
