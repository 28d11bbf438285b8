"""The API's rate limit is counted in the database (app.api.limits): it holds across processes and hosts (two apps on
one database share it), racing requests never get past it, and it costs one statement a request."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.api import limits
from app.main import create_app
from app.models import ApiToken
from tests.api_tokens import bearer, make_token
from tests.conftest import QueryCounter, make_settings
from tests.factories import login, make_school, make_user

PROBLEM = "application/problem+json"
START = 29_000_000 * 60 + 10.0  # ten seconds into a minute, whenever the test runs


def _token(app) -> str:
    with TestClient(app, follow_redirects=False) as browser, Session(app.state.engine) as db:
        login(browser, make_user(db, make_school(db)))
        return make_token(browser)


def test_two_app_instances_on_one_database_share_one_limit(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(limits, "clock", lambda: START)
    first = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=4))
    second = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=4))
    token = _token(first)
    with TestClient(first) as one, TestClient(second) as two:
        answers = [client.get("/api/v1/me", headers=bearer(token)).status_code for client in (one, two, one, two)]
        assert answers == [200] * 4
        for client in (one, two):
            limited = client.get("/api/v1/me", headers=bearer(token))
            assert limited.status_code == 429 and limited.headers["content-type"] == PROBLEM
            assert limited.headers["retry-after"] == "50"  # the rest of the minute
        monkeypatch.setattr(limits, "clock", lambda: START + 50)
        assert two.get("/api/v1/me", headers=bearer(token)).status_code == 200
    first.state.engine.dispose()
    second.state.engine.dispose()


def test_racing_requests_never_get_past_the_limit(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(limits, "clock", lambda: START)
    app = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=7))
    _token(app)
    with Session(app.state.engine) as db:
        token_id = db.exec(select(ApiToken.id)).one()
    verdicts: list[int] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(5):
            with Session(app.state.engine) as db:
                verdicts.append(limits.take(session=db, token_id=token_id, per_minute=7))
                db.commit()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(verdicts) == 30 and verdicts.count(0) == 7
    with Session(app.state.engine) as db:
        assert db.exec(select(ApiToken.rate_count)).one() == 30
    app.state.engine.dispose()


def test_racing_http_requests_through_two_apps_never_get_past_the_limit(tmp_path, database_url, monkeypatch):
    monkeypatch.setattr(limits, "clock", lambda: START)
    apps = [create_app(make_settings(tmp_path, database_url, api_rate_per_minute=5)) for _ in range(2)]
    token = _token(apps[0])
    statuses: list[int] = []
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        def worker(client: TestClient) -> None:
            for _ in range(4):
                statuses.append(client.get("/api/v1/me", headers=bearer(token)).status_code)

        threads = [threading.Thread(target=worker, args=(client,)) for client in (one, two, one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 5 + [429] * 11
    for app in apps:
        app.state.engine.dispose()


def test_the_limit_costs_one_statement_a_request(tmp_path, database_url):
    app = create_app(make_settings(tmp_path, database_url, api_rate_per_minute=100))
    _token(app)
    with Session(app.state.engine) as db:
        token_id = db.exec(select(ApiToken.id)).one()
        with QueryCounter(app.state.engine) as counter:
            assert limits.take(session=db, token_id=token_id, per_minute=100) == 0
            db.commit()
        assert [s.split()[0].upper() for s in counter.statements] == ["UPDATE"]
    app.state.engine.dispose()


def test_a_request_writes_once_and_notes_the_tokens_use(tmp_path, database_url):
    app = create_app(make_settings(tmp_path, database_url))
    token = _token(app)
    with TestClient(app) as client, QueryCounter(app.state.engine) as counter:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    writes = [s for s in counter.statements if s.split()[0].upper() in ("UPDATE", "INSERT", "DELETE")]
    assert len(writes) == 1 and "api_tokens" in writes[0]  # the count, with the last use in the same statement
    with Session(app.state.engine) as db:
        assert db.exec(select(ApiToken.last_used_at)).one() is not None
    app.state.engine.dispose()
