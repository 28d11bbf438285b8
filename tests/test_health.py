"""/healthz: 200 when Folio can save (database answers and accepts writes, room on disk), 503 when not."""

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app
from app.models import Role
from tests.conftest import make_settings
from tests.factories import login, make_school, make_user


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_database_down_is_503(tmp_path):
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    settings = make_settings(tmp_path, "postgresql+psycopg://folio@127.0.0.1:9/folio?connect_timeout=2")
    app = create_app(settings)
    with TestClient(app) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    app.state.engine.dispose()


def test_a_nearly_full_disk_makes_folio_unavailable_and_says_why_only_to_those_allowed(
        client, client_from, session, monkeypatch):
    from collections import namedtuple

    import app.services.operations.health as health

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(health.shutil, "disk_usage", lambda _path: usage(10**10, 10**10 - 50 * 2**20, 50 * 2**20))

    anonymous = client.get("/healthz?verbose")
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "unavailable"}

    local = client_from("127.0.0.1").get("/healthz?verbose").json()
    assert local["status"] == "unavailable"
    assert local["checks"]["uploads space"] == {"ok": False, "detail": "50 MB free (at least 512 MB needed)"}
    assert local["checks"]["database"]["ok"] is True

    school = make_school(session)
    admin = make_user(session, school, role=Role.admin)
    student = make_user(session, school)
    signed_in = client_from("203.0.113.9")
    login(signed_in, admin)
    assert "checks" in signed_in.get("/healthz?verbose").json()
    other = client_from("203.0.113.10")
    login(other, student)
    assert "checks" not in other.get("/healthz?verbose").json()


def test_a_database_that_refuses_writes_makes_folio_unavailable(app, client_from, settings):
    engine = app.state.health_engine
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", lambda connection, _record: connection.execute("PRAGMA query_only=1"))
    else:
        with engine.connect() as connection:
            database = connection.exec_driver_sql("SELECT current_database()").scalar()
            connection.exec_driver_sql(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            connection.commit()
    engine.dispose()  # new connections take the read-only setting
    response = client_from("127.0.0.1").get("/healthz?verbose")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "detail": "answers but refuses writes"}


def test_healthz_answers_while_every_worker_thread_is_busy(client, app):
    # A loaded server has every worker thread taken and more requests queued for one: the health check must not
    # join that queue (a monitor with a short timeout would call a busy server down).
    import threading

    import anyio.to_thread

    limiter = client.portal.call(anyio.to_thread.current_default_thread_limiter)
    holders = [object() for _ in range(int(limiter.total_tokens))]
    for holder in holders:
        client.portal.call(limiter.acquire_on_behalf_of, holder)
    answered: list[int] = []
    try:
        asking = threading.Thread(target=lambda: answered.append(client.get("/healthz").status_code), daemon=True)
        asking.start()
        asking.join(timeout=10)
        assert answered == [200], "/healthz waited for a worker thread"
    finally:
        for holder in holders:
            client.portal.call(limiter.release_on_behalf_of, holder)
        asking.join(timeout=10)


def test_healthz_takes_no_connection_from_the_requests_pool(client, app):
    from sqlalchemy import event

    checkouts: list[object] = []

    def checked_out(*args) -> None:
        checkouts.append(args)

    event.listen(app.state.engine, "checkout", checked_out)
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(app.state.engine, "checkout", checked_out)
    assert checkouts == []


def test_the_verbose_probe_only_reads_who_asks(client_from, session):
    """Telling an administrator apart must not write: an old session is neither touched nor ended by the probe."""
    from datetime import timedelta

    from sqlmodel import select

    from app.models import UserSession
    from app.models.base import utcnow

    school = make_school(session)
    admin = make_user(session, school, role=Role.admin)
    browser = client_from("203.0.113.9")
    login(browser, admin)
    row = session.exec(select(UserSession).where(UserSession.user_id == admin.id)).one()
    long_ago = utcnow() - timedelta(hours=1)
    row.last_seen_at = long_ago
    session.add(row)
    session.commit()

    assert "checks" in browser.get("/healthz?verbose").json()
    session.expire_all()
    assert session.exec(select(UserSession).where(UserSession.user_id == admin.id)).one().last_seen_at == long_ago

    row.last_seen_at = utcnow() - timedelta(days=30)  # idle: the page would end it, the probe only refuses
    session.add(row)
    session.commit()
    assert "checks" not in browser.get("/healthz?verbose").json()
    session.expire_all()
    assert session.exec(select(UserSession).where(UserSession.user_id == admin.id)).first() is not None
