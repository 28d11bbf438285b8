"""`folio serve` with several worker processes on one database: every request answered, jobs run once, here, and an API
token's rate limit holds across the processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from sqlmodel import Session, select

from app.api.tokens import create_token, parse_token_form
from app.auth import SESSION_COOKIE, start_session
from app.db import make_engine
from app.models import Job, JobStatus
from app.services.jobs import jobs
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import make_note, make_school, make_user
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def _workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes under `pid` (started by multiprocessing's spawn)."""
    workers = []
    for child in _children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                workers.append(child)
        except OSError:
            continue
    return workers


def test_serve_with_two_workers_answers_concurrent_requests_and_runs_jobs_once(tmp_path, database_url):
    port = free_port()
    settings = make_settings(tmp_path, database_url, base_url=f"http://127.0.0.1:{port}", port=port)
    engine = make_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        school = make_school(session)
        students = [make_user(session, school) for _ in range(4)]
        for student in students:
            make_note(session, student, title="Volcano")
        tokens = [start_session(session=session, user=s, user_agent="test") for s in students]
        session.commit()
        form = parse_token_form(name="Sync", scopes="read", expiry="30", expiry_date="", today=date.today())
        _row, api_token = create_token(session=session, user=students[0], data=form)
        session.commit()
        queued = [jobs.enqueue(session=session, owner=s, kind="archive", params={"student_id": s.id}).id
                  for s in students[:3]]

    env = dict(os.environ, FOLIO_DATABASE_URL=database_url, FOLIO_DATA_DIR=str(tmp_path / "data"),
               FOLIO_UPLOAD_DIR=str(tmp_path / "uploads"), FOLIO_SECRET_KEY=TEST_SECRET,
               FOLIO_BASE_URL=f"http://127.0.0.1:{port}", FOLIO_HOST="127.0.0.1", FOLIO_PORT=str(port),
               FOLIO_WORKERS="2", FOLIO_JOB_RUNNER="in-process", FOLIO_API_RATE_PER_MINUTE="5")
    server = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200 and len(_workers_of(server.pid)) == 2:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, "folio serve did not start two workers"
            time.sleep(0.2)

        def home(index: int) -> int:
            with httpx.Client(base_url=base_url, cookies={SESSION_COOKIE: tokens[index % len(tokens)]},
                              timeout=30) as client:
                return client.get("/student").status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(home, range(64)))
        assert statuses == [200] * 64

        # One token's requests spread over both processes: five answered in the minute, the rest told to wait.
        while time.time() % 60 > 50:  # not across a minute's edge, where a fixed window starts again
            time.sleep(0.5)

        def api(_index: int) -> int:
            return httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {api_token}"},
                             timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            api_statuses = sorted(pool.map(api, range(16)))
        assert api_statuses == [200] * 5 + [429] * 11

        # Each worker would poll for jobs if it ran its own runner; only the serving process may claim them.
        deadline = time.monotonic() + 60
        while True:
            with Session(engine) as session:
                done = session.exec(select(Job).where(Job.id.in_(queued))).all()
            if all(job.status is JobStatus.done for job in done):
                break
            assert all(job.status is not JobStatus.failed for job in done), [job.error for job in done]
            assert time.monotonic() < deadline, [job.status for job in done]
            time.sleep(0.3)
        assert {job.claimed_by.split(":")[1] for job in done} == {str(server.pid)}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        engine.dispose()
    assert server.returncode == 0, server.stderr.read().decode()
